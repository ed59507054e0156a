"""The ``results`` stage: compliance matrices written next to the study's artifacts.

Computes the rates of :mod:`workbench.analysis.results` for every judge and writes
``models/<study>/results/results.json`` and ``results.csv`` (atomically). The input key follows the
judgments, so the stage reruns exactly when something new was judged.
"""

from __future__ import annotations

from workbench.context import StageContext
from workbench.stages import common


def input_key(ctx: StageContext) -> str:
    row = next(
        iter(
            ctx.db.query(
                """SELECT count(*) AS n, max(j.id) AS last, max(j.created_at) AS t FROM judgments j
                   JOIN responses r ON r.id = j.response_id JOIN cells c ON c.id = r.cell_id
                   WHERE c.study_id = ?""",
                [ctx.study_id],
            )
        )
    )
    return common.digest({"judgments": row, "version": 1})


def run(ctx: StageContext) -> dict:
    import os

    from workbench.analysis import results

    rows = results.compute(ctx.db, ctx.study_id)
    out = ctx.models_dir / "results"
    out.mkdir(parents=True, exist_ok=True)
    for name, text in (("results.json", results.to_json(rows)), ("results.csv", results.to_csv(rows))):
        tmp = out / f".{name}.tmp{os.getpid()}"
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, out / name)
    significant = [r for r in rows if results.significant(r)]
    return {
        "rows": len(rows),
        "files": [str(out / "results.json"), str(out / "results.csv")],
        "significant_changes": [
            {"cell": r.cell, "eval_lang": r.eval_lang, "judge": r.judge, "delta": r.delta_vs_base} for r in significant
        ],
    }
