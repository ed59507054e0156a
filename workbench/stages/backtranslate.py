"""The ``backtranslate`` stage: every current non-English response of a cell, translated into English.

Runs when ``[translation] responses = true`` or a judge reads English (``[[judges]] input =
"english"``): the study translated responses back to English before judging them. Each response
(and its prompt, when the study has no English version of it) goes through the recipe's translator;
the translation is stored beside the original (``translations``, addressed by the text, so a response
two cells share is translated once), with its quality signal and flags, committed as it comes back.
The judges that read English read these (a failed translation makes them abstain, never guess), and
the compare view shows them under each response.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench import estimates as est
from workbench import translation
from workbench.cells import Cell, digest
from workbench.errors import WorkbenchError
from workbench.stages import translating
from workbench.stages.base import Stage
from workbench.stages.translate import _seconds_per_text, translator_memory
from workbench.store import read

if TYPE_CHECKING:
    from workbench.context import StageContext


class Backtranslate(Stage):
    name = "backtranslate"
    scope = "cell"
    needs = ("generate",)
    description = "translate every non-English response into English (for judges that read English)"

    def applies_to(self, cell: Cell, recipe) -> bool:
        return recipe.backtranslates

    def input_key(self, ctx: StageContext, cell: Cell) -> str:
        gen = read.current_generation(ctx.db, cell.id)
        return digest(
            {
                "version": 1,
                "generation_key": gen.generation_key if gen else None,
                "responses": gen.responses if gen else 0,
                "translator": translating.current_key(ctx),
                "round_trip": ctx.recipe.translation.round_trip,
            }
        )

    def run(self, ctx: StageContext, cell: Cell) -> dict:
        gen = read.current_generation(ctx.db, cell.id)
        if gen is None:
            raise WorkbenchError(
                f"cell {cell.id}: nothing to translate (no complete generation)", "run export and generate first"
            )
        rows = read.current_responses(ctx.db, cell.id)
        pairs = translating.to_english_pairs(ctx, rows)
        key, done = translating.translate_all(
            ctx, pairs, translating.ENGLISH, "response", reporter=ctx.reporter(self.name, cell), what="into English"
        )
        responses = [done[(r["text"], r["lang"])]["flags"] for r in rows if r["lang"] != translating.ENGLISH]
        counts = translation.summary(responses)
        if counts["failed"]:
            why = ", ".join(f"{f} {n}" for f, n in counts.items() if f in translation.FAILED)
            ctx.log(
                f"backtranslate {cell.id}: {counts['failed']} of {len(responses)} translations failed ({why}): "
                "judges that read English abstain on those responses",
                "warning",
            )
        return {"translator_key": key, "texts": len(pairs), **counts}

    def estimate(self, recipe, cells, gpu):
        units = self.units(recipe, cells)
        if not units:
            return None
        data = est.data_count("evaluation", recipe)
        per_cell = sum(n for lang, n in data.per_language.items() if lang != "en") if data is not None else 0
        n = per_cell * len(units)  # an upper bound: a text two cells share is translated once
        return est.Estimate(
            "backtranslate",
            len(units),
            n * _seconds_per_text(recipe, gpu),
            n * 1000.0,
            translator_memory(recipe),
            "VRAM" if est.gpu_class(gpu).is_gpu else "RAM",
            note=f"up to {n:,} non-English responses into English",
            counts_from=data.source if data is not None else "",
        )


STAGE = Backtranslate()
