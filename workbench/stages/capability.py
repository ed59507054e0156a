"""The ``capability`` stage: how well each GGUF still predicts good benign answers, per language.

For every held-out benign item (``[data.heldout]``, never trained on) in every evaluation language the
set has, llama.cpp scores the reference answer after the instruction rendered with the model's chat
template, exactly as generation sees a prompt: the summed negative log-likelihood of the answer's
tokens and their count are one row of ``measurements`` (``answer_nll``), committed as they come, so a
killed run resumes where it stopped. Perplexity per (cell, language) is exp(sum NLL / sum tokens)
(:mod:`workbench.analysis.capability`); a fine-tune that costs capability raises it against the base.

Perplexities compare cells within one language and one model (same tokenizer), not across them.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from workbench.artifacts import file_digest
from workbench.cells import Cell
from workbench.errors import WorkbenchError
from workbench.stages import common
from workbench.stages.base import Stage
from workbench.store import read

if TYPE_CHECKING:
    from workbench.context import StageContext

MEASURE = "answer_nll"
TOKENS_PER_ITEM = 120  # a held-out instruction with its chat template and answer (shipped set, Gemma 3)


class Capability(Stage):
    name = "capability"
    scope = "cell"
    needs = ("prepare", "export")
    description = "perplexity of every GGUF on held-out benign answers, per evaluation language (llama.cpp)"

    def applies_to(self, cell: Cell, recipe) -> bool:
        return recipe.capability.enabled

    def input_key(self, ctx: StageContext, cell: Cell) -> str:
        return measure_key(ctx, cell, ctx.artifacts.gguf_sha(cell.id))

    def run(self, ctx: StageContext, cell: Cell) -> dict:
        from workbench.engines.generate import Engine

        art = ctx.artifacts
        gguf = art.gguf(cell.id)
        key = measure_key(ctx, cell, gguf["sha256"])
        items = art.heldout()
        langs = ctx.recipe.languages.evaluate
        missing = [lang for lang in langs if not any(x["lang"] == lang for x in items)]
        if not items:
            raise WorkbenchError(
                f"cell {cell.id}: no held-out answers in any evaluation language ({', '.join(langs)})",
                "point [data.heldout] at instruction/response data in those languages, or set "
                "[capability] enabled = false",
            )
        done = read.measured_items(ctx.db, cell.id, MEASURE, key)
        todo = [x for x in items if (x["lang"], x["item_id"]) not in done]
        report = ctx.reporter(self.name, cell)
        g = ctx.recipe.generation
        spec = art.model_spec(cell.model)
        started = time.perf_counter()
        scored = 0
        if todo:
            report.progress(len(done), len(items), what="answers scored", rate=0.0)
            with Engine(gguf["path"], n_parallel=1, n_gpu_layers=g.n_gpu_layers, n_ctx_per_seq=g.n_ctx) as engine:
                for i, x in enumerate(todo, 1):
                    prompt = engine.chat_tokens(
                        x["instruction"],
                        system=g.system_prompt,
                        template=g.chat_template,
                        enable_thinking=spec.enable_thinking,
                    )
                    answer = engine.tokenize(x["response"])
                    if not answer:
                        raise WorkbenchError(
                            f"data.heldout: item {x['item_id']} ({x['lang']}) has an empty answer",
                            "give every held-out item a response",
                        )
                    logp = engine.answer_logprobs(prompt, answer)
                    ctx.db.add_measurement(
                        {
                            "cell_id": cell.id,
                            "measure": MEASURE,
                            "measure_key": key,
                            "lang": x["lang"],
                            "item_id": x["item_id"],
                            "value": float(-logp.sum()),
                            "n": len(answer),
                            "meta_json": {"prompt_tokens": len(prompt), "gguf_sha256": gguf["sha256"]},
                        }
                    )
                    scored += len(prompt) + len(answer)
                    elapsed = time.perf_counter() - started
                    report.progress(
                        len(done) + i,
                        len(items),
                        what="answers scored",
                        rate=scored / elapsed if elapsed > 0 else 0.0,
                        elapsed=elapsed,
                        eta=(len(todo) - i) * elapsed / i,
                    )
        ctx.db.set_current_measurement(cell.id, MEASURE, key, len(items), missing)
        if missing:
            ctx.log(f"capability {cell.id}: no held-out answers in {', '.join(missing)}: not measured there", "warning")
        return {"measure_key": key, "items": len(items), "new": len(todo), "not_measured": missing}

    def estimate(self, recipe, cells, gpu):
        units = self.units(recipe, cells)
        return common.scoring_estimate("capability", recipe, units, gpu, "heldout", TOKENS_PER_ITEM, "held-out answers")


def measure_key(ctx: StageContext, cell: Cell, gguf_sha: str) -> str:
    """What an answer's score depends on: the GGUF, the held-out file and the prompt's rendering."""
    return common.scoring_key(
        ctx,
        cell,
        gguf_sha,
        {
            "version": 1,
            "heldout": file_digest(ctx.artifacts.heldout_path()),
        },
    )


STAGE = Capability()
