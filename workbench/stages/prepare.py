"""The ``prepare`` stage: read every data source, check it, and fix the study's inputs.

Writes the benign fine-tune data per language and the alignment mix (``ctx.artifacts``, as JSONL,
atomically) and the evaluation prompts into the study database. The content hashes of these files
become part of the keys of the stages that read them; its own key hashes the content of the shipped
sets and of every local data file the recipe names (:mod:`workbench.filekeys`).
"""

from __future__ import annotations

import hashlib
import json
from typing import TYPE_CHECKING

from workbench import data, filekeys
from workbench.cells import cells
from workbench.estimates import Estimate
from workbench.stages.base import Stage

if TYPE_CHECKING:
    from workbench.context import StageContext


class Prepare(Stage):
    name = "prepare"
    scope = "study"
    auto = True  # seconds, and every model stage reads its output
    description = "read and check every data source; fix the study's prompts and training data"

    def input_key(self, ctx: StageContext, cell=None) -> str:
        r = ctx.recipe
        blob = {
            "version": 5,  # 2: also writes evaluation.jsonl; 3: heldout.jsonl; 4: overrefusal.jsonl; 5: choice.jsonl
            # a local file counts by its content (below), not where it lies: moving it changes nothing
            "data": {k: {**v, "path": None} if v.get("path") else v for k, v in r.data.model_dump(mode="json").items()},
            "finetune": r.languages.finetune,
            "evaluate": r.languages.evaluate,
            "align": r.align_languages() if any(m.align for m in r.models) else [],
            "examples_per_language": r.training.examples_per_language,
            "align_examples_per_language": r.align.examples_per_language,
            "capability": r.capability.model_dump(mode="json"),
            "overrefusal": r.overrefusal.model_dump(mode="json"),
            "choice": r.choice.model_dump(mode="json"),
        }
        if r.translation.prompts:  # only then does prepare read differently (the source language, skip missing)
            blob["translate_from"] = r.translation.source
        for name in ("benign", "adversarial", "alignment", "choice", "heldout", "overrefusal"):
            p = data.shipped_path(name)
            if p.is_file():
                blob[f"shipped:{name}"] = hashlib.sha256(p.read_bytes()).hexdigest()
        # A local file is its bytes, not its path: editing it after a prepare must prepare again.
        kinds = ["benign", "evaluation"] + (["alignment"] if blob["align"] else [])
        optional = [
            k
            for k, on in (
                ("heldout", r.capability.enabled), ("overrefusal", r.overrefusal.enabled), ("choice", r.choice.enabled)
            )
            if on
        ]  # fmt: skip
        for kind in kinds + optional:
            source = getattr(r.data, kind)
            if source.path is not None:
                blob[f"file:{kind}"] = filekeys.file_key(source.path)
        return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()[:16]

    def run(self, ctx: StageContext, cell=None) -> dict:
        """Load and store the study's data. Returns counts per kind and language."""
        r, art = ctx.recipe, ctx.artifacts
        for c in cells(r):
            ctx.db.upsert_cell(ctx.study_id, c.as_row())
        counts: dict[str, dict[str, int]] = {}

        benign = data.load(
            r.data.benign, "benign", r.languages.finetune, allow_downloads=ctx.allow_downloads, where="data.benign"
        )
        for lang in r.languages.finetune:
            rows = [x for x in benign if x["lang"] == lang][: r.training.examples_per_language]
            path = art.write_jsonl(art.benign_path(lang), rows)
            ctx.db.add_artifact(kind="data", path=path, meta={"data": "benign", "lang": lang, "rows": len(rows)})
            counts.setdefault("benign", {})[lang] = len(rows)

        t = r.translation
        if t.prompts:  # the languages the set lacks are translated from the source language (translate stage)
            eval_langs = list(dict.fromkeys([t.source, *r.languages.evaluate]))
            prompts = data.load(
                r.data.evaluation, "evaluation", eval_langs, allow_downloads=ctx.allow_downloads,
                where="data.evaluation", skip_missing=True,
            )  # fmt: skip
            if not any(p["lang"] == t.source for p in prompts):
                from workbench import languages
                from workbench.errors import DataError

                raise DataError(
                    f"data.evaluation has no prompts in {languages.describe(t.source)}, the language "
                    "[translation] translates from",
                    "set [translation] source to a language the evaluation set has",
                )
        else:
            prompts = data.load(
                r.data.evaluation,
                "evaluation",
                r.languages.evaluate,
                allow_downloads=ctx.allow_downloads,
                where="data.evaluation",
            )
        ctx.db.add_prompts(ctx.study_id, [{**p, "text": p["prompt"]} for p in prompts])
        # The prompt ids this recipe evaluates on (the database may also hold prompts of earlier versions).
        path = art.write_jsonl(
            art.evaluation_path(), [{"id": f"{p['item_id']}:{p['lang']}", "lang": p["lang"]} for p in prompts]
        )
        ctx.db.add_artifact(kind="data", path=path, meta={"data": "evaluation", "rows": len(prompts)})
        for p in prompts:
            counts.setdefault("evaluation", {}).setdefault(p["lang"], 0)
            counts["evaluation"][p["lang"]] += 1

        if any(m.align for m in r.models):
            langs = r.align_languages()
            rows = data.load(
                r.data.alignment, "alignment", langs, allow_downloads=ctx.allow_downloads, where="data.alignment"
            )
            if r.align.examples_per_language:
                kept = []
                for lang in langs:
                    kept += [x for x in rows if x["lang"] == lang][: r.align.examples_per_language]
                rows = kept
            path = art.write_jsonl(art.alignment_path(), rows)
            ctx.db.add_artifact(
                kind="data", path=path, meta={"data": "alignment", "languages": langs, "rows": len(rows)}
            )
            for x in rows:
                counts.setdefault("alignment", {}).setdefault(x["lang"], 0)
                counts["alignment"][x["lang"]] += 1
        # The measurement sets, for every evaluation language their source has; a language one lacks is
        # recorded (the measurement's table says "not measured"), never an error.
        measured = (
            ("heldout", r.capability, r.data.heldout, "benign", art.heldout_path()),
            ("overrefusal", r.overrefusal, r.data.overrefusal, "evaluation", art.overrefusal_path()),
            ("choice", r.choice, r.data.choice, "choice", art.choice_path()),
        )
        for name, settings, source, kind, target in measured:
            if not settings.enabled:
                continue
            rows = data.load(
                source, kind, r.languages.evaluate, allow_downloads=ctx.allow_downloads, where=f"data.{name}",
                skip_missing=True,
            )  # fmt: skip
            kept = []
            for lang in r.languages.evaluate:
                kept += [x for x in rows if x["lang"] == lang][: settings.examples_per_language]
            missing = [lang for lang in r.languages.evaluate if not any(x["lang"] == lang for x in kept)]
            path = art.write_jsonl(target, kept)
            ctx.db.add_artifact(
                kind="data", path=path, meta={"data": name, "rows": len(kept), "missing_languages": missing}
            )
            for x in kept:
                counts.setdefault(name, {}).setdefault(x["lang"], 0)
                counts[name][x["lang"]] += 1
        return counts

    def estimate(self, recipe, cells, gpu) -> Estimate:
        return Estimate("prepare", 1, 5.0, 1e6, 5e8, "RAM")


STAGE = Prepare()
