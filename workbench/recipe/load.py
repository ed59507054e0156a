"""Load a recipe from TOML and turn every problem into one clear line.

Each problem names the file, the key path in TOML words (``training.lora.r``, ``models[0].family``),
what is wrong and, for misspelt keys and languages, a "did you mean ...?". Nothing here imports a
heavy library: ``workbench validate`` answers at once.
"""

from __future__ import annotations

import copy
import difflib
import hashlib
import json
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from workbench.errors import RecipeError
from workbench.recipe.models import MODEL_FAMILIES, Recipe

_TYPE_WORDS = {
    "dict_type": "should be a table",
    "model_type": "should be a table",
    "model_attributes_type": "should be a table",
    "list_type": "should be an array",
    "string_type": "should be a string",
    "int_type": "should be an integer",
    "int_parsing": "should be an integer",
    "int_from_float": "should be a whole number",
    "float_type": "should be a number",
    "float_parsing": "should be a number",
    "bool_type": "should be true or false",
    "bool_parsing": "should be true or false",
    "path_type": "should be a path (a string)",
}


def load_recipe(
    path: str | Path,
    *,
    quick: bool = False,
    allow_downloads: bool = False,
    check_files: bool = True,
) -> Recipe:
    """Read, validate and resolve a recipe. Raises :class:`RecipeError` listing every problem.

    ``quick`` merges the recipe's ``[quick]`` table over it (the small profile of ``--quick``).
    ``allow_downloads`` grants the permission ``study.allow_downloads`` would.
    """
    path = Path(path)
    shown = str(path)
    if path.is_dir():
        raise RecipeError(shown, [f"{shown}: is a folder, not a recipe file"], "name the recipe's .toml file")
    if not path.is_file():
        raise RecipeError(
            shown, [f"{shown}: no such recipe file"], "check the path; `workbench init NAME` writes a new recipe"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise RecipeError(
            shown, [f"{shown}: not UTF-8 text ({exc.reason} at byte {exc.start})"], "re-save the recipe as UTF-8"
        ) from None
    except OSError as exc:
        from workbench.errors import from_os_error

        err = from_os_error(exc)
        raise RecipeError(shown, [err.message], err.hint) from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RecipeError(shown, [f"{shown}: not valid TOML: {exc}"], "check the line named above") from None
    if not raw:
        raise RecipeError(
            shown,
            [f"{shown}: the recipe is empty; it needs at least [study], [[models]] and [languages]"],
            "`workbench init NAME` writes a complete template",
        )
    data = _with_quick(raw) if quick else raw
    try:
        recipe = Recipe.model_validate(data)
    except ValidationError as exc:
        raise RecipeError(shown, format_validation_error(shown, exc), "see docs/recipes.md for every key") from None

    problems: list[str] = []
    base = path.resolve().parent
    recipe = _resolve(recipe, base, shown, problems, check_files)
    if recipe.hub_resources() and not (recipe.study.allow_downloads or allow_downloads):
        for key, hub_id in recipe.hub_resources():
            problems.append(f"{shown}: {key}: names the hub resource {hub_id!r} but downloads are not allowed")
    if problems:
        hint = "paths are relative to the recipe's folder; fix them, then `workbench validate` the recipe"
        if any("downloads are not allowed" in p for p in problems):
            hint = "set study.allow_downloads = true in the recipe, or pass --allow-downloads"
        raise RecipeError(shown, problems, hint)
    recipe._source = path.resolve()
    recipe._toml = text
    return recipe


def recipe_hash(recipe: Recipe) -> str:
    """A hash of the validated recipe's content (independent of comments and key order)."""
    # where units run ([run]) does not change what they compute
    blob = json.dumps(recipe.model_dump(mode="json", exclude={"run"}), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()


# -- helpers ---------------------------------------------------------------------------------------
def _with_quick(raw: dict[str, Any]) -> dict[str, Any]:
    overlay = raw.get("quick")
    if not isinstance(overlay, dict):
        return raw
    merged = _deep_merge(copy.deepcopy(raw), overlay)
    merged.pop("quick", None)
    return merged


def _deep_merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value)
    return base


def _resolve(recipe: Recipe, base: Path, shown: str, problems: list[str], check_files: bool) -> Recipe:
    """Make local paths absolute (relative to the recipe's folder), check they exist, infer families."""

    def absolute(p: Path | None) -> Path | None:
        if p is None:
            return None
        p = p.expanduser()
        return p if p.is_absolute() else (base / p).resolve()

    models = []
    for i, m in enumerate(recipe.models):
        update: dict[str, Any] = {}
        if m.path is not None:
            update["path"] = absolute(m.path)
            if check_files and not update["path"].exists():
                problems.append(f"{shown}: models[{i}].path: {update['path']} does not exist")
            elif check_files and not os.access(update["path"], os.R_OK):
                problems.append(f"{shown}: models[{i}].path: {update['path']}: permission denied")
        family = m.family or _infer_family(m, update.get("path"))
        # The family only lends a fallback chat template: a model outside the three families needs none
        # when it carries its own template (a hub model's is checked once it is downloaded).
        if family is None and not m.chat_template and not _has_own_template(m, update.get("path")):
            problems.append(
                f"{shown}: models[{i}].family: cannot tell the model family of {m.path}, and it has no chat "
                f"template of its own; set models[{i}].chat_template to its Jinja chat template, or family to "
                f"one of {', '.join(MODEL_FAMILIES)} to use that family's template"
            )
        update["family"] = family
        models.append(m.model_copy(update=update))

    data_update = {}
    for key in ("benign", "evaluation", "alignment", "choice", "heldout", "overrefusal"):
        src = getattr(recipe.data, key)
        if src.path is not None:
            p = absolute(src.path)
            if check_files:
                if p.is_dir():
                    problems.append(f"{shown}: data.{key}.path: {p} is a folder, not a data file")
                elif not p.is_file():
                    problems.append(f"{shown}: data.{key}.path: {p} does not exist")
                elif not os.access(p, os.R_OK):
                    problems.append(f"{shown}: data.{key}.path: {p}: permission denied")
            data_update[key] = src.model_copy(update={"path": p})
    judges = []
    for i, j in enumerate(recipe.judges):
        if j.model is not None:
            p = absolute(j.model)
            if check_files and p.is_dir():
                problems.append(f"{shown}: judges[{i}].model: {p} is a folder, not a GGUF file")
            elif check_files and not p.is_file():
                problems.append(f"{shown}: judges[{i}].model: {p} does not exist")
            j = j.model_copy(update={"model": p})
        judges.append(j)
    update = {"models": models, "data": recipe.data.model_copy(update=data_update), "judges": judges}
    t = recipe.translation
    if t.model is not None:
        p = absolute(t.model)
        if check_files and not p.exists():
            problems.append(f"{shown}: translation.model: {p} does not exist")
        update["translation"] = t.model_copy(update={"model": p})
    return recipe.model_copy(update=update)


def family_from_name(name: str) -> str | None:
    """The model family a hub id or folder name spells (``meta-llama/Llama-3.2-1B-Instruct`` -> llama3)."""
    name = name.lower().replace("_", "-")
    for needle, family in (
        ("llama-3", "llama3"),
        ("llama3", "llama3"),
        ("qwen3", "qwen3"),
        ("gemma-3", "gemma3"),
        ("gemma3", "gemma3"),
    ):
        if needle in name:
            return family
    return None


def _has_own_template(m, path: Path | None) -> bool:
    """True unless ``m`` is a local folder without a chat template (hub models are checked later)."""
    if m.hub is not None:
        return True
    if path is None or not path.is_dir():  # a GGUF carries its template inside; a missing path is reported
        return path is None or path.suffix == ".gguf" or not path.exists()
    from workbench.engines.chat import own_template

    return own_template(path) is not None


def _infer_family(m, path: Path | None) -> str | None:
    if m.embedded:
        return "gemma3"
    family = family_from_name(m.hub or (path.name if path else ""))
    if family:
        return family
    if path is not None and (path / "config.json").is_file():
        try:
            model_type = json.loads((path / "config.json").read_text()).get("model_type", "")
        except (OSError, ValueError):
            return None
        return {"llama": "llama3", "qwen3": "qwen3", "gemma3": "gemma3", "gemma3_text": "gemma3"}.get(model_type)
    return None


def format_validation_error(shown: str, exc: ValidationError) -> list[str]:
    """One line per problem: ``file: key.path: what is wrong``; union alternatives are merged."""
    by_path: dict[str, list[str]] = {}
    for err in exc.errors(include_url=False):
        loc = [p for p in err["loc"] if not _is_type_tag(p)]
        kind = err["type"]
        key = _key_path(loc)
        if kind == "missing":
            msg = "required key is missing"
        elif kind == "extra_forbidden":
            parent, name = loc[:-1], str(loc[-1])
            table = f"table [{_key_path(parent)}]" if parent else "the top level"
            msg = f"unknown key in {table}"
            close = difflib.get_close_matches(name, _known_keys(parent), n=1, cutoff=0.6)
            if close:
                msg += f"; did you mean {close[0]!r}?"
        elif kind in _TYPE_WORDS:
            msg = f"{_TYPE_WORDS[kind]} (got {_short(err.get('input'))})"
        elif kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
            words = {
                "greater_than": "greater than",
                "greater_than_equal": "at least",
                "less_than": "less than",
                "less_than_equal": "at most",
            }[kind]
            bound = next(iter(err.get("ctx", {}).values()), "?")
            msg = f"must be {words} {bound} (got {_short(err.get('input'))})"
        elif kind == "too_short":
            msg = "must not be empty"
        elif kind == "string_too_short":
            msg = "must not be an empty string"
        elif kind == "literal_error":
            msg = f"must be {err.get('ctx', {}).get('expected', '?')} (got {_short(err.get('input'))})"
        else:
            msg = err["msg"].removeprefix("Value error, ")
        by_path.setdefault(key, [])
        if msg not in by_path[key]:
            by_path[key].append(msg)
    lines = []
    for key, msgs in by_path.items():
        if len(msgs) > 1 and all(m.startswith(("should be", "must be")) for m in msgs):
            got = msgs[0].rsplit(" (got ", 1)[-1] if " (got " in msgs[0] else ""
            alts = [m.split(" (got ")[0].removeprefix("should be ").removeprefix("must be ") for m in msgs]
            text = "should be " + " or ".join(alts) + (f" (got {got}" if got else "")
            lines.append(f"{shown}: {key or 'top level'}: {text}")
        else:
            lines.extend(f"{shown}: {key or 'top level'}: {m}" for m in msgs)
    return lines


def _is_type_tag(part: Any) -> bool:
    return isinstance(part, str) and (
        "[" in part or part in {"int", "str", "float", "bool", "list", "dict", "none", "function-after"}
    )


def _key_path(loc: list[Any]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _short(value: Any) -> str:
    if isinstance(value, dict):
        return "a table"
    if isinstance(value, list):
        return "an array"
    text = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _known_keys(parent: list[Any]) -> list[str]:
    """Field names of the pydantic model found at ``parent`` inside :class:`Recipe`."""
    model: type[BaseModel] | None = Recipe
    for part in parent:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(part)
        model = _model_in(field.annotation) if field else None
    return list(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (list, typing.Union, types.UnionType, typing.Annotated):
        for arg in typing.get_args(annotation):
            found = _model_in(arg)
            if found:
                return found
    return None
