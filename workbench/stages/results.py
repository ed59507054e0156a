"""The ``results`` stage: compliance matrices written next to the study's artifacts.

Computes the rates of :mod:`workbench.analysis.results` for every judge and writes
``models/<study>/results/results.json`` and ``results.csv`` (atomically). The input key follows the
current judgments, so the stage reruns exactly when something new became current.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench import fsutil
from workbench.cells import digest
from workbench.estimates import Estimate
from workbench.stages.base import Stage
from workbench.store import read

if TYPE_CHECKING:
    from workbench.context import StageContext


class Results(Stage):
    name = "results"
    scope = "study"
    needs = ("judge",)
    description = "compliance rates per fine-tune x evaluation language, with intervals and change vs base"

    def input_key(self, ctx: StageContext, cell=None) -> str:
        return digest({"judgments": read.judgments_state(ctx.db, ctx.study_id), "version": 2})

    def run(self, ctx: StageContext, cell=None) -> dict:
        from workbench.analysis import results

        rows = results.compute(ctx.db, ctx.study_id)
        out = ctx.artifacts.results_dir()
        files = [
            fsutil.atomic_write(out / "results.json", results.to_json(rows)),
            fsutil.atomic_write(out / "results.csv", results.to_csv(rows)),
        ]
        significant = [r for r in rows if results.significant(r)]
        return {
            "rows": len(rows),
            "files": [str(f) for f in files],
            "significant_changes": [
                {"cell": r.cell, "eval_lang": r.eval_lang, "judge": r.judge, "delta": r.delta_vs_base}
                for r in significant
            ],
        }

    def estimate(self, recipe, cells, gpu) -> Estimate:
        return Estimate("results", 1, 2.0, 1e5, 2e8, "RAM")


STAGE = Results()
