"""What the ``translate`` and ``backtranslate`` stages and the judges that read English share.

:func:`translate_all` translates (text, language) pairs into one language through the recipe's
translator, reusing what the study database already has (translations are addressed by the text's
sha256, the language pair and the translator's key) and committing each new one, with its quality
signal and flags (:func:`workbench.translation.assess`), as it comes back: a killed run loses only the
translations in flight. :func:`english_items` gives a judge with ``input = "english"`` what it reads.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from workbench import translation
from workbench.cells import digest
from workbench.errors import WorkbenchError
from workbench.store import read

if TYPE_CHECKING:
    from workbench.context import StageContext

ENGLISH = "en"


def current_key(ctx: StageContext) -> str:
    """The recipe translator's key from files already here (``unavailable: ...`` otherwise)."""
    from workbench.engines import translate

    return translate.cached_key(ctx.recipe.translation)


def translate_all(
    ctx: StageContext,
    pairs: list[tuple[str, str]],
    target: str,
    purpose: str,
    *,
    reporter=None,
    what: str = "translations",
) -> tuple[str, dict[tuple[str, str], dict[str, Any]]]:
    """(translator key, {(text, language): stored translation}) for every pair, translating the ones the
    database lacks. Pairs already in ``target`` are not translated (and not in the result)."""
    from workbench.engines import translate
    from workbench.stages import common

    settings = ctx.recipe.translation
    pairs = list(dict.fromkeys((t, lang) for t, lang in pairs if lang != target))
    path = translate.resolve(settings, allow_downloads=ctx.artifacts.allow_downloads, log=ctx.log)
    key = translate.translator_key(settings, path)
    have = read.translations(ctx.db, pairs, target, key)
    todo = [p for p in pairs if p not in have]
    if todo:
        for lang in sorted({lang for _, lang in todo} | {target}):
            if settings.kind == "nllb" and translation.flores_code(lang) is None:
                raise WorkbenchError(
                    f"{translate.label(settings)}: no FLORES-200 code for {lang}",
                    "use an llm translator for that language, or leave it out",
                )
        translator = translate.build(
            settings,
            allow_downloads=ctx.artifacts.allow_downloads,
            n_parallel=common.parallel_sequences(ctx),
            n_gpu_layers=ctx.recipe.generation.n_gpu_layers,
            log=ctx.log,
        )
        jobs = [translate.Job(i, text, lang, target) for i, (text, lang) in enumerate(todo)]
        started = time.perf_counter()
        done = len(pairs) - len(todo)
        if reporter is not None:
            reporter.progress(done, len(pairs), what=what, rate=0.0)
        for res in translator.translate(jobs):
            text, lang = todo[res.key]
            quality = translation.assess(
                text, res.text, lang, target, res.finish_reason, instruction=translator.instruction(lang, target)
            )
            ctx.db.add_translation(
                {
                    "source_lang": lang,
                    "target_lang": target,
                    "translator_key": key,
                    "purpose": purpose,
                    "source_text": text,
                    "text": res.text,
                    "finish_reason": res.finish_reason,
                    "flags_json": quality.pop("flags"),
                    "quality_json": quality,
                }
            )
            done += 1
            if reporter is not None:
                reporter.progress(done, len(pairs), what=what, elapsed=time.perf_counter() - started)
        if settings.round_trip:
            _round_trip(ctx, translator, todo, target, key)
        have = read.translations(ctx.db, pairs, target, key)
    return key, have


def _round_trip(ctx: StageContext, translator, pairs: list[tuple[str, str]], target: str, key: str) -> None:
    """Translate each new translation back into its source language and keep the chrF of that against
    the source text in the translation's quality (``round_trip_chrf``)."""
    import json

    from workbench.engines import translate
    from workbench.store.db import text_sha

    rows = read.translations(ctx.db, pairs, target, key)
    jobs = [
        translate.Job(i, rows[p]["text"], target, p[1])
        for i, p in enumerate(pairs)
        if p in rows and rows[p]["text"].strip() and "round_trip_chrf" not in rows[p]["quality"]
    ]
    for res in translator.translate(jobs):
        text, lang = pairs[res.key]
        quality = {**rows[(text, lang)]["quality"], "round_trip_chrf": round(translation.chrf(res.text, text), 2)}
        with ctx.db.db.atomic():
            ctx.db.db.execute(
                """UPDATE translations SET quality_json = ? WHERE text_sha = ? AND source_lang = ?
                   AND target_lang = ? AND translator_key = ?""",
                [json.dumps(quality, sort_keys=True), text_sha(text), lang, target, key],
            )


def english_judge_key(judge_key: str, translator_key: str) -> str:
    """The key of a judge that reads English: its own and the translator's."""
    return digest({"judge": judge_key, "input": "english", "translator": translator_key})


def english_prompts(ctx: StageContext, rows: list[dict[str, Any]]) -> dict[str, str]:
    """Per item id of ``rows``, the English prompt the study has (the data set's, or the source a
    translation was made from); items without one are absent."""
    ids = sorted({f"{r['item_id']}:{ENGLISH}" for r in rows if r.get("item_id") is not None})
    return {p["item_id"]: p["text"] for p in read.prompts(ctx.db, ctx.study_id, ids)}


def to_english_pairs(ctx: StageContext, rows: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The (text, language) pairs a judge that reads English needs translated for ``rows`` (responses
    with ``text``, ``prompt``, ``lang`` and ``item_id``): each non-English response, and its prompt when
    the study has no English version of it."""
    english = english_prompts(ctx, rows)
    pairs = []
    for r in rows:
        if r["lang"] == ENGLISH:
            continue
        pairs.append((r["text"], r["lang"]))
        if r.get("item_id") not in english:
            pairs.append((r["prompt"], r["lang"]))
    return pairs


def english_items(ctx: StageContext, rows: list[dict[str, Any]], translator_key: str):
    """Per row, ``(JudgeItem in English, None)``, or ``(None, evidence)`` when its translation failed
    (the judge abstains: ``unsure``, with the translation's flags as evidence). Raises when a
    translation the judge needs is not in the database (the backtranslate stage has not run)."""
    from workbench.judges.base import JudgeItem

    english = english_prompts(ctx, rows)
    pairs = to_english_pairs(ctx, rows)
    have = read.translations(ctx.db, pairs, ENGLISH, translator_key)
    lacking = [p for p in pairs if p not in have]
    if lacking:
        raise WorkbenchError(
            f'{len(lacking)} texts a judge with input = "english" reads have no English translation yet',
            "run the backtranslate stage first: `workbench run RECIPE --only backtranslate`",
        )
    out: list[tuple[Any, dict[str, Any] | None]] = []
    for r in rows:
        if r["lang"] == ENGLISH:
            out.append((JudgeItem(prompt=r["prompt"], response=r["text"], lang=ENGLISH), None))
            continue
        response = have[(r["text"], r["lang"])]
        prompt = english.get(r.get("item_id"))
        prompt_row = None if prompt is not None else have[(r["prompt"], r["lang"])]
        failed = translation.failed(response["flags"]) + (translation.failed(prompt_row["flags"]) if prompt_row else [])
        if failed:
            out.append((None, {"translation_failed": failed, "translation": response["text"][:500]}))
            continue
        text = response["text"]
        out.append((JudgeItem(prompt=prompt if prompt is not None else prompt_row["text"], response=text, lang=ENGLISH),
                    None))  # fmt: skip
    return out
