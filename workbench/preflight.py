"""Checks of a recipe's inputs before anything runs, for ``workbench validate`` and ``workbench plan``.

:func:`workbench.recipe.load_recipe` checks the recipe's keys and that the files it names exist; this
opens them. Every (data set, language) the plan needs must have rows, local data files must be UTF-8,
not empty and have the mapped columns, a local model folder needs its config.json and weights, and a
GGUF must be one (magic, version, a header and tensor data that fit in the file). Each problem is one
line naming what and where, its hint folded in ("...; hint: ..."), all of them at once: prepare would
stop at the first.

Fast by design (``validate`` answers at once): no torch, transformers or datasets; a local data file
is read up to :data:`workbench.data.SCAN_BYTES` (pyarrow only for parquet), a GGUF's header without its tensor data
(:func:`workbench.ggufmeta.gguf_problem`).
"""

from __future__ import annotations

import json
from pathlib import Path

from workbench import data, languages
from workbench.errors import DataError
from workbench.ggufmeta import gguf_problem
from workbench.recipe.models import DataSource, Recipe

_LANGUAGE_KEYS = {
    "benign": "languages.finetune",
    "evaluation": "languages.evaluate",
    "alignment": "align.languages",
    "choice": "languages.evaluate",
}


def problems(recipe: Recipe) -> list[str]:
    """One line per input the plan cannot use ("file: key: what is wrong; hint: ..."); [] if none."""
    shown = _shown(recipe)
    out: list[str] = []
    for key, source, kind, langs in _data_needs(recipe):
        found, _ = _check_data(recipe, key, source, kind, langs)
        out += found
    checks = [(f"models[{i}].path", model_problem, m.path) for i, m in enumerate(recipe.models)]
    checks += [(f"judges[{i}].model", judge_model_problem, j.model) for i, j in enumerate(recipe.judges)]
    for key, check, path in checks:
        if path is None:
            continue
        try:
            problem = check(Path(path))
        except OSError as exc:  # unreadable: permissions, or a file gone meanwhile
            problem = f"cannot read {path}: {exc.strerror or type(exc).__name__}; hint: check its permissions"
        if problem:
            out.append(f"{shown}: {key}: {problem}")
    return list(dict.fromkeys(out))


def warnings(recipe: Recipe) -> list[str]:
    """Lines worth reading before a run that do not stop it (defaults taken, checks left to prepare)."""
    shown = _shown(recipe)
    out: list[str] = []
    if any(m.align for m in recipe.models) and recipe.align.languages is None:
        langs = recipe.align_languages()
        out.append(
            f"{shown}: align.languages is not set, so the alignment mix defaults to English plus the "
            f"evaluation languages ({', '.join(langs)}); hint: set [align] languages to choose them"
        )
    for key, source, kind, langs in _data_needs(recipe):
        _, found = _check_data(recipe, key, source, kind, langs)
        out += found
    return list(dict.fromkeys(out))


# -- data --------------------------------------------------------------------------------------------
def _data_needs(recipe: Recipe) -> list[tuple[str, DataSource, str, list[str]]]:
    """(recipe key, source, kind, languages) of every data set the plan reads."""
    needs = [
        ("data.benign", recipe.data.benign, "benign", list(recipe.languages.finetune)),
        ("data.evaluation", recipe.data.evaluation, "evaluation", list(recipe.languages.evaluate)),
    ]
    if recipe.translation.prompts:  # the other evaluation languages are translated from the source
        needs[1] = ("data.evaluation", recipe.data.evaluation, "evaluation", [recipe.translation.source])
    if any(m.align for m in recipe.models):
        needs.append(("data.alignment", recipe.data.alignment, "alignment", recipe.align_languages()))
    # the measurement sets: a language one lacks is not measured there, not an error
    if recipe.capability.enabled:  # benign columns
        needs.append((HELDOUT, recipe.data.heldout, "benign", list(recipe.languages.evaluate)))
    if recipe.overrefusal.enabled:  # a prompt column
        needs.append((OVERREFUSAL, recipe.data.overrefusal, "evaluation", list(recipe.languages.evaluate)))
    if recipe.choice.enabled:  # question, choices, answer
        needs.append((CHOICE, recipe.data.choice, "choice", list(recipe.languages.evaluate)))
    return needs


HELDOUT = "data.heldout"
OVERREFUSAL = "data.overrefusal"
CHOICE = "data.choice"
MEASURED = {
    HELDOUT: ("capability", "held-out instruction/response data"),
    OVERREFUSAL: ("overrefusal", "safe prompts"),
    CHOICE: ("choice", "multiple-choice questions"),
}


def _check_data(
    recipe: Recipe, key: str, source: DataSource, kind: str, langs: list[str]
) -> tuple[list[str], list[str]]:
    """(problems, warnings) of one data set: readable, mapped columns present, rows in every language."""
    shown = _shown(recipe)
    if source.hub is not None:
        return [], []  # read only when prepare downloads it
    table = _table(source, kind, key)
    if isinstance(table, DataError):
        return [_line(shown, table)], []
    found: dict[str, str] = {}  # first problem line -> ...; the same kind of problem in other languages joins it
    counts: dict[str, int] = {}
    first_of_kind: dict[str | None, str] = {}
    for lang in langs:
        try:
            if source.shipped:
                picked = [(i, r) for i, r in enumerate(table.rows) if r["lang"] == lang]
                data.check_unique(table, picked, key, lang)
            else:
                picked = data.pick(table, source, kind, lang, key)
        except DataError as exc:
            line = _line(shown, exc)
            if line in found:
                continue
            head = first_of_kind.get(exc.hint)
            if head is not None and f" among its {languages.describe(lang)} rows" in exc.message:
                found[head] += f", {languages.describe(lang)}"  # one line for one bad file
            else:
                first_of_kind.setdefault(exc.hint, line)
                found[line] = ""
            continue
        counts[lang] = len(picked)
    if found:
        out = []
        for line, also in found.items():
            if also:
                line = line.replace("; hint: ", f"; the same among its {also.lstrip(', ')} rows; hint: ", 1)
            out.append(line)
        return out, []
    what = f"the shipped set {source.shipped!r}" if source.shipped else str(source.path)
    missing = [lang for lang in langs if counts.get(lang, 0) == 0]
    have = sorted({r["lang"] for r in table.rows}) if source.shipped else []
    where = _LANGUAGE_KEYS[kind]
    if kind == "alignment" and recipe.align.languages is None:
        where = "align.languages (unset: English plus the evaluation languages)"
    problems_, warnings_ = [], []
    if missing and key in MEASURED and len(missing) == len(langs):
        stage, what_data = MEASURED[key]
        problems_.append(
            f"{shown}: {key}: {what} has no rows in any evaluation language: the {stage} stage has nothing to "
            f"measure; hint: point [{key}] at {what_data} in them, or set [{stage}] enabled = false"
        )
        missing = []
    if missing and key in MEASURED:
        names = ", ".join(languages.describe(lang) for lang in missing)
        stage, what_data = MEASURED[key]
        warnings_.append(
            f"{shown}: {key}: {what} has no rows in {names}: the {stage} stage does not measure those "
            f"languages (its table says so); hint: point [{key}] at {what_data} in them, or set [{stage}] "
            "enabled = false"
        )
        missing = []
    if missing:
        names = ", ".join(languages.describe(lang) for lang in missing)
        hint = f"it has {', '.join(have)}; " if have else ""
        hint += f"choose languages it has in {where}, or name a source that has them in [{key}]"
        if table.complete:
            problems_.append(f"{shown}: {key}: {what} has no rows in {names}; hint: {hint}")
        else:
            warnings_.append(
                f"{shown}: {key}: {what} has no rows in {names} in its first {data.SCAN_BYTES >> 20} MiB "
                "(prepare reads the rest); hint: " + hint
            )
    want = {"benign": recipe.training.examples_per_language, "alignment": recipe.align.examples_per_language}.get(kind)
    if key in MEASURED:
        want = None
    short = [f"{lang} ({n})" for lang, n in counts.items() if want and 0 < n < want]
    if short and table.complete:
        setting = "training" if kind == "benign" else "align"
        warnings_.append(
            f"{shown}: {key}: {what} has fewer rows than {setting}.examples_per_language = {want} in "
            f"{', '.join(short)}; hint: those languages train on fewer examples unless you add rows"
        )
    return problems_, warnings_


def _table(source: DataSource, kind: str, key: str) -> data.Table | DataError:
    """The source's rows (a local file's first ``data.SCAN_BYTES``), or the error reading them (cached in
    :func:`workbench.data.source_table`, which the plan's counts read too)."""
    return data.source_table(source, kind, key)


def _line(shown: str, exc: DataError) -> str:
    return f"{shown}: {exc.message}" + (f"; hint: {exc.hint}" if exc.hint else "")


def _shown(recipe: Recipe) -> str:
    """The recipe file as messages name it: relative to the current folder when inside it."""
    if recipe.source is None:
        return "recipe"
    try:
        return str(recipe.source.relative_to(Path.cwd()))
    except ValueError:
        return str(recipe.source)


# -- models ------------------------------------------------------------------------------------------
_GGUF_HINT = "; hint: download or convert it again (a download cut short looks like this)"
_WEIGHTS = (".safetensors", ".bin", ".pt", ".pth")


def model_problem(path: Path) -> str | None:
    """What makes ``models[].path`` unusable (a folder without config.json or weights, a broken GGUF)."""
    if not path.exists():
        return f"{path} does not exist; hint: check the path (relative to the recipe file)"
    if path.is_file():
        if path.suffix.lower() != ".gguf":
            return (
                f"{path} is a file but not a .gguf; hint: point models[].path at a folder saved with "
                "save_pretrained, or at a .gguf file"
            )
        problem = gguf_problem(path)
        return f"{problem}{_GGUF_HINT}" if problem else None
    config = path / "config.json"
    if not config.is_file():
        return (
            f"{path} is not a Hugging Face model folder (no config.json); hint: point models[].path at a "
            "folder saved with save_pretrained, or at a .gguf file"
        )
    try:
        json.loads(config.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        return f"{config}: not valid JSON ({str(exc).splitlines()[0][:120]}); hint: save the model again"
    if not any(p.suffix.lower() in _WEIGHTS for p in path.iterdir() if p.is_file()):
        return (
            f"{path} has no weight files (*.safetensors or *.bin); hint: save the model with "
            "save_pretrained, or copy its weights next to its config.json"
        )
    return None


def judge_model_problem(path: Path) -> str | None:
    """What makes ``judges[].model`` unusable: it must be a whole GGUF file."""
    if path.is_dir():
        return f"{path} is a folder; hint: name the judge's .gguf file"
    if not path.is_file():
        return f"{path} does not exist; hint: check the path (relative to the recipe file)"
    problem = gguf_problem(path)
    return f"{problem}{_GGUF_HINT}" if problem else None
