"""Which evaluation languages a study's judges can read, said before anything runs.

The heuristic judge reads the languages it has cue tables for (``workbench/judges/cues/<lang>.toml``);
in any other language it abstains (``unsure``). A recipe that evaluates in such a language gets a
warning from ``validate``, ``plan``, ``run`` and the TUI, naming the languages and the remedy, rather
than a column of abstentions discovered after the run. Reads file names only: no judge is built.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

REMEDY = (
    "add an LLM judge that reads them (e.g. a Qwen3Guard GGUF with its preset: docs/judges.md), "
    "or add a cue table for the language (workbench/judges/cues/README.md)"
)


@lru_cache(maxsize=1)
def heuristic_languages() -> tuple[str, ...]:
    """The languages the shipped heuristic judge has cue tables for."""
    folder = resources.files("workbench.judges") / "cues"
    return tuple(sorted(p.name.removesuffix(".toml") for p in folder.iterdir() if p.name.endswith(".toml")))


def unread_languages(recipe) -> dict[str, list[str]]:
    """Per heuristic judge of the recipe, the evaluation languages it has no cue table for. A judge with
    ``input = "english"`` reads every language the translator translates into English (an NLLB
    translator: the languages with a FLORES-200 code), when its own cue tables have English."""
    from workbench import translation

    known = set(heuristic_languages())
    out = {}
    for spec in recipe.judges:
        if spec.kind != "heuristic":
            continue
        if spec.input == "english":
            nllb = recipe.translation.kind == "nllb"
            missing = [
                lang
                for lang in recipe.languages.evaluate
                if "en" not in known or (nllb and lang != "en" and translation.flores_code(lang) is None)
            ]
        else:
            missing = [lang for lang in recipe.languages.evaluate if lang not in known]
        if missing:
            out[spec.name] = missing
    return out


def warnings(recipe) -> list[str]:
    """One line per judge that cannot read some evaluation language, with the remedy."""
    from workbench import languages

    lines = []
    for judge, missing in unread_languages(recipe).items():
        names = ", ".join(f"{code} ({languages.get(code).name})" for code in missing)
        lines.append(f"judge {judge!r} cannot read {names}: it abstains ('unsure') on every response there; {REMEDY}")
    return lines
