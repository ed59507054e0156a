"""The ``judge`` stage: every configured judge reads every response of a cell.

One unit per cell. A judgment's identity is (response, judge); it is redone only when the judge's
key (its configuration and model) changed. Judgments are committed as they are produced, so a
killed run resumes where it stopped. An LLM judge whose model is not configured or missing is
skipped with a warning; the other judges still run.
"""

from __future__ import annotations

import time

from workbench.context import StageContext
from workbench.errors import WorkbenchError
from workbench.stages import common, generate


def _current_key(ctx: StageContext, cell_id: str) -> str | None:
    try:
        return generate.generation_key(ctx, cell_id, generate.gguf_for(ctx, cell_id)["sha256"])
    except WorkbenchError:
        return None


def _judge_keys(ctx: StageContext) -> dict[str, str]:
    from workbench import judges

    keys = {}
    for spec in ctx.recipe.judges:
        try:
            keys[spec.name] = judges.build(spec).key
        except WorkbenchError as exc:
            keys[spec.name] = f"unavailable: {exc.message}"
    return keys


def input_key(ctx: StageContext, cell_id: str) -> str:
    gen = _current_key(ctx, cell_id)
    n = 0
    if gen:
        n = next(
            iter(
                ctx.db.query(
                    "SELECT count(*) AS n FROM responses WHERE cell_id = ? AND generation_key = ?", [cell_id, gen]
                )
            )
        )["n"]
    return common.digest({"generation_key": gen, "responses": n, "judges": _judge_keys(ctx)})


def run(ctx: StageContext, cell_id: str) -> dict:
    from workbench import judges
    from workbench.judges.base import JudgeItem

    gen = _current_key(ctx, cell_id)
    if gen is None:
        raise WorkbenchError(f"cell {cell_id}: nothing to judge (no exported GGUF)", "run export and generate first")
    rows = list(
        ctx.db.query(
            """SELECT r.id, r.text, p.text AS prompt, p.lang FROM responses r JOIN prompts p ON p.id = r.prompt_id
               WHERE r.cell_id = ? AND r.generation_key = ? ORDER BY r.id""",
            [cell_id, gen],
        )
    )
    if not rows:
        raise WorkbenchError(f"cell {cell_id}: no responses to judge", "run the generate stage for this cell first")
    emit = common.unit_emit(ctx, "judge", cell_id)
    summary: dict[str, dict] = {}
    for spec in ctx.recipe.judges:
        try:
            par = spec.parallel_sequences or generate.parallel_sequences(ctx)
            judge = judges.build(spec, n_parallel=par, emit=emit)
        except WorkbenchError as exc:
            ctx.log(f"judge {spec.name!r} skipped: {exc.message} ({exc.hint})", "warning")
            summary[spec.name] = {"skipped": exc.message}
            continue
        key = judge.key
        done = {
            r["response_id"]
            for r in ctx.db.query(
                """SELECT j.response_id FROM judgments j JOIN responses r ON r.id = j.response_id
                   WHERE r.cell_id = ? AND j.judge = ? AND j.judge_key = ?""",
                [cell_id, spec.name, key],
            )
        }
        todo = [r for r in rows if r["id"] not in done]
        started = time.perf_counter()
        count = len(rows) - len(todo)
        emit({"event": "judge_progress", "judge": spec.name, "done": count, "total": len(rows)})
        items = [JudgeItem(prompt=r["prompt"], response=r["text"], lang=r["lang"]) for r in todo]
        verdicts = judge.judge_iter(items) if hasattr(judge, "judge_iter") else enumerate(judge.judge(items))
        last = 0.0
        for index, v in verdicts:
            ctx.db.add_judgment(
                {
                    "response_id": todo[index]["id"],
                    "judge": spec.name,
                    "judge_key": key,
                    "label": v.label,
                    "score": v.score,
                    "degenerate": int(v.degenerate),
                    "off_language": int(v.off_language),
                    "harmful": None if v.harmful is None else int(v.harmful),
                    "raw_output": v.raw_output,
                    "evidence_json": v.evidence,
                }
            )
            count += 1
            now = time.perf_counter()
            if now - last > 0.5 or count == len(rows):
                last = now
                emit({"event": "judge_progress", "judge": spec.name, "done": count, "total": len(rows)})
        labels = {
            r["label"]: r["n"]
            for r in ctx.db.query(
                """SELECT j.label, count(*) AS n FROM judgments j JOIN responses r ON r.id = j.response_id
                   WHERE r.cell_id = ? AND r.generation_key = ? AND j.judge = ? GROUP BY j.label""",
                [cell_id, gen, spec.name],
            )
        }
        summary[spec.name] = {"new": len(todo), "labels": labels, "seconds": round(time.perf_counter() - started, 2)}
    return summary
