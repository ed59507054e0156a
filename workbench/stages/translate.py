"""The ``translate`` stage: evaluation prompts in every evaluation language the data set lacks.

With ``[translation] prompts = true``, ``prepare`` keeps the evaluation languages the data set has (the
source language, ``[translation] source``, must be among them) and this stage translates every
source-language prompt into each evaluation language that has none, through the recipe's translator
(:mod:`workbench.engines.translate`). Each translation is committed as it comes back with its quality
signal and flags (``translations`` table); a translation that failed (the translator refused, answered
the prompt instead of translating it, left it in the source language, ...) is left out of the
evaluation set, and the stage says how many per language and why. The kept prompts go into the
database's prompts (id ``<item>:<lang>``, source ``translated from <source> (<translator key>)``)
and their ids into ``evaluation-translated.jsonl``, which the generate stage reads with the data
set's. The study used machine translation checked by people: the ``translations`` table (and
``workbench translations``) is what to check.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from workbench import estimates as est
from workbench import languages, translation
from workbench.artifacts import file_digest
from workbench.cells import digest
from workbench.errors import WorkbenchError
from workbench.stages import translating
from workbench.stages.base import Stage
from workbench.store import read

if TYPE_CHECKING:
    from workbench.context import StageContext


def targets(ctx: StageContext) -> list[str]:
    """The evaluation languages the data set has no prompts in (the source language never)."""
    present = {r["lang"] for r in ctx.artifacts._read(ctx.artifacts.evaluation_path())}
    source = ctx.recipe.translation.source
    return [lang for lang in ctx.recipe.languages.evaluate if lang not in present and lang != source]


class Translate(Stage):
    name = "translate"
    scope = "study"
    needs = ("prepare",)
    description = "translate the evaluation prompts into the evaluation languages the data set lacks"

    def units(self, recipe, cells):
        return [None] if recipe.translation.prompts else []

    def input_key(self, ctx: StageContext, cell=None) -> str:
        t = ctx.recipe.translation
        return digest(
            {
                "version": 1,
                "translator": translating.current_key(ctx),
                "prompts": file_digest(ctx.artifacts.evaluation_path()),
                "source": t.source,
                "evaluate": ctx.recipe.languages.evaluate,
                "round_trip": t.round_trip,
            }
        )

    def run(self, ctx: StageContext, cell=None) -> dict:
        t = ctx.recipe.translation
        art = ctx.artifacts
        ids = [r["id"] for r in art._read(art.evaluation_path()) if r["lang"] == t.source]
        sources = read.prompts(ctx.db, ctx.study_id, ids)
        langs = targets(ctx)
        if langs and not sources:
            raise WorkbenchError(
                f"translate: the evaluation set has no prompts in {languages.describe(t.source)} to translate",
                "set [translation] source to a language the evaluation set has",
            )
        kept_rows: list[dict] = []
        summary: dict[str, dict] = {}
        report = ctx.reporter(self.name, None)
        for lang in langs:
            key, done = translating.translate_all(
                ctx,
                [(p["text"], t.source) for p in sources],
                lang,
                "prompt",
                reporter=report,
                what=f"prompts into {lang}",
            )
            prompts, flags = [], []
            for p in sources:
                row = done[(p["text"], t.source)]
                flags.append(row["flags"])
                if translation.failed(row["flags"]):
                    continue
                prompts.append(
                    {
                        "item_id": p["item_id"],
                        "lang": lang,
                        "category": p.get("category"),
                        "domain": p.get("domain"),
                        "text": row["text"],
                        "source": f"translated from {t.source} ({key})",
                    }
                )
            ctx.db.add_prompts(ctx.study_id, prompts)
            kept_rows += [{"id": f"{p['item_id']}:{lang}", "lang": lang, "from": t.source} for p in prompts]
            counts = translation.summary(flags)
            summary[lang] = counts
            if counts["failed"]:
                why = ", ".join(f"{f} {n}" for f, n in counts.items() if f in translation.FAILED)
                ctx.log(
                    f"translate: {counts['failed']} of {len(sources)} prompts into {lang} failed ({why}): "
                    "left out of the evaluation set; review them with `workbench translations RECIPE`",
                    "warning",
                )
            if not prompts:
                raise WorkbenchError(
                    f"translate: every prompt's translation into {languages.describe(lang)} failed",
                    "use a stronger translator ([translation] model), or leave the language out",
                )
        path = art.write_jsonl(art.translated_path(), kept_rows)
        ctx.db.add_artifact(kind="data", path=path, meta={"data": "evaluation-translated", "rows": len(kept_rows)})
        return {"languages": summary, "source": t.source, "prompts": len(sources)}

    def estimate(self, recipe, cells, gpu):
        t = recipe.translation
        if not t.prompts:
            return None
        data = est.data_count("evaluation", recipe)
        raw = est._data_count("evaluation", recipe)  # before the translated languages are counted in
        per = data.rows(t.source) if data is not None else 0
        # a hub set's languages are known only once prepare reads it: then every language counts
        lacking = [lang for lang in recipe.languages.evaluate if lang != t.source and not (raw and raw.rows(lang))]
        if recipe.data.evaluation.hub:
            lacking = [lang for lang in recipe.languages.evaluate if lang != t.source]
        n = per * len(lacking)
        return est.Estimate(
            "translate",
            1,
            n * _seconds_per_text(recipe, gpu),
            n * 1000.0,
            translator_memory(recipe),
            "VRAM" if est.gpu_class(gpu).is_gpu else "RAM",
            note=f"{n:,} prompts ({per} x {len(lacking)} evaluation languages the data set lacks"
            + (
                ", at most: the hub set's languages are known once prepare reads it)"
                if recipe.data.evaluation.hub
                else ")"
            ),
        )


def _seconds_per_text(recipe, gpu) -> float:
    """A rough time per translated text: an NLLB-600M-class model or the LLM at its generation speed."""
    t = recipe.translation
    if t.kind == "nllb":
        return 0.15 if est.gpu_class(gpu).is_gpu else 1.5
    return min(t.max_new_tokens, 256) / est.gen_tokens_per_s(1e9, gpu)


def translator_memory(recipe) -> float:
    return 2.5e9 if recipe.translation.kind == "nllb" else 2e9


STAGE = Translate()
