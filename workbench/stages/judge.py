"""The ``judge`` stage: every configured judge reads every current response of a cell.

One unit per cell. A judgment's identity is (response, judge, judge key); it is redone only when
the judge's key (its configuration and model) changed, and the earlier key's judgments are kept.
Judgments are committed as they are produced, so a killed run resumes where it stopped; once a
judge has read every current response of the cell, its key is recorded as the cell's current one
for that judge (results never mix two keys). An LLM judge whose model is not configured or missing
is skipped with a warning; the other judges still run.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from workbench import estimates as est
from workbench.cells import Cell, digest
from workbench.errors import WorkbenchError
from workbench.stages import common, translating
from workbench.stages.base import Stage
from workbench.store import read

if TYPE_CHECKING:
    from workbench.context import StageContext


def with_hub_file(spec, *, allow_downloads: bool, log=None):
    """``spec`` with its hub GGUF (``hub``/``file``) resolved to the cached file, downloaded first when
    allowed; other specs unchanged. Raises WorkbenchError (one line, a hint) when it cannot be had."""
    if spec.model is not None or not (spec.hub and spec.file):
        return spec
    from workbench.judges.llm import resolve_model

    return spec.model_copy(update={"model": resolve_model(spec, allow_downloads=allow_downloads, log=log)})


def _judge_keys(ctx: StageContext) -> dict[str, str]:
    from workbench import judges

    keys = {}
    for spec in ctx.recipe.judges:
        try:
            # the cache only: a key never downloads (the run does, when allowed, and then rejudges)
            keys[spec.name] = judges.build(with_hub_file(spec, allow_downloads=False)).key
        except WorkbenchError as exc:
            keys[spec.name] = f"unavailable: {exc.message}"
        if spec.input == "english":
            keys[spec.name] = translating.english_judge_key(keys[spec.name], translating.current_key(ctx))
    return keys


class Judge(Stage):
    name = "judge"
    scope = "cell"
    needs = ("generate", "backtranslate")
    description = "every judge of the recipe reads every current response"

    def input_key(self, ctx: StageContext, cell: Cell) -> str:
        gen = read.current_generation(ctx.db, cell.id)
        return digest(
            {
                "version": 2,  # 2: judgments keyed by judge key, the complete one recorded as current
                "generation_key": gen.generation_key if gen else None,
                "responses": gen.responses if gen else 0,
                "judges": _judge_keys(ctx),
            }
        )

    def run(self, ctx: StageContext, cell: Cell) -> dict:
        from workbench import judges

        gen = read.current_generation(ctx.db, cell.id)
        if gen is None:
            raise WorkbenchError(
                f"cell {cell.id}: nothing to judge (no complete generation)", "run export and generate first"
            )
        rows = read.current_responses(ctx.db, cell.id)
        if not rows:
            raise WorkbenchError(f"cell {cell.id}: no responses to judge", "run the generate stage for this cell first")
        report = ctx.reporter(self.name, cell)
        summary: dict[str, dict] = {}
        for spec in ctx.recipe.judges:
            try:
                par = spec.parallel_sequences or common.parallel_sequences(ctx)
                resolved = with_hub_file(spec, allow_downloads=ctx.artifacts.allow_downloads, log=ctx.log)
                judge = judges.build(resolved, n_parallel=par, emit=ctx.emit)
            except WorkbenchError as exc:
                ctx.log(f"judge {spec.name!r} skipped: {exc.message} ({exc.hint})", "warning")
                summary[spec.name] = {"skipped": exc.message}
                continue
            english = spec.input == "english"
            summary[spec.name] = self._judge_all(
                ctx, cell, gen.generation_key, rows, judge, spec.name, report, english=english
            )
        return summary

    def _judge_all(self, ctx, cell, gen_key, rows, judge, name, report, *, english: bool = False) -> dict:
        from workbench.judges.base import JudgeItem, Verdict

        key = judge.key
        if english:
            translator = translating.current_key(ctx)
            key = translating.english_judge_key(key, translator)
        done = read.judged_response_ids(ctx.db, cell.id, gen_key, name, key)
        todo = [r for r in rows if r["id"] not in done]
        started = time.perf_counter()
        count = len(rows) - len(todo)
        report.progress(count, len(rows), what="judgments", part=name, rate_unit="judgments/s")
        if english:  # the English translations; a failed one is an abstention, not a guess
            seen = translating.english_items(ctx, todo, translator)
            abstain = [(i, Verdict("unsure", evidence=ev)) for i, (item, ev) in enumerate(seen) if item is None]
            readable = [i for i, (item, _) in enumerate(seen) if item is not None]
            items = [seen[i][0] for i in readable]
        else:
            abstain, readable = [], list(range(len(todo)))
            items = [JudgeItem(prompt=r["prompt"], response=r["text"], lang=r["lang"]) for r in todo]

        def verdicts():
            yield from abstain
            for index, v in judge.judge_iter(items):
                yield readable[index], v

        last = 0.0
        for index, v in verdicts():
            ctx.db.add_judgment(
                {
                    "response_id": todo[index]["id"],
                    "judge": name,
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
                report.progress(count, len(rows), what="judgments", part=name, rate_unit="judgments/s")
        missing = len(rows) - len(
            read.judged_response_ids(ctx.db, cell.id, gen_key, name, key) & {r["id"] for r in rows}
        )
        if missing:  # a judge that skipped an item: its key does not cover the responses, so it is not current
            raise WorkbenchError(
                f"cell {cell.id}: judge {name!r} gave no verdict for {missing} of {len(rows)} responses",
                "rerun the judge stage; if it keeps happening, the judge drops items (please report it)",
            )
        ctx.db.set_current_judgments(cell.id, name, key, gen_key, len(rows))
        labels = read.label_counts(ctx.db, cell.id, gen_key, name, key)
        return {"new": len(todo), "labels": labels, "seconds": round(time.perf_counter() - started, 2)}

    def estimate(self, recipe, cells, gpu):
        data = common.data_counts(recipe)["evaluation"]
        n_resp = len(self.units(recipe, cells)) * data.total
        n_llm = sum(1 for j in recipe.judges if j.kind == "llm")
        return est.Estimate(
            "judge",
            n_resp * len(recipe.judges),
            n_resp * (0.002 + 0.5 * n_llm),
            n_resp * len(recipe.judges) * 500.0,
            5e8 + 1.5e9 * n_llm,
            "RAM",
            counts_from=data.source,
        )


STAGE = Judge()
