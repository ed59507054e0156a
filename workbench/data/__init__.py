"""Data sources: the shipped sets, local JSONL/CSV/parquet files and hub datasets.

Every loader returns rows in the workbench's own column names:

- ``benign``: item_id, lang, instruction, response, category
- ``evaluation``: item_id, lang, prompt, category, domain
- ``alignment``: item_id, lang, prompt, response, kind (helpful/refusal), category

``datasets`` is imported only when a local file or hub dataset is read.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from workbench import languages
from workbench.errors import DataError
from workbench.recipe.models import DataSource

REQUIRED = {
    "benign": ("instruction", "response"),
    "evaluation": ("prompt",),
    "alignment": ("prompt", "response"),
}
OPTIONAL = {
    "benign": ("id", "category"),
    "evaluation": ("id", "category", "domain"),
    "alignment": ("id", "category", "kind"),
}


def shipped_path(name: str) -> Path:
    """The file of a shipped data set (``benign``, ``adversarial``, ``alignment``)."""
    return Path(str(resources.files("workbench.data") / "shipped" / f"{name}.jsonl"))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a bad line is an error naming the file and line."""
    rows = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise DataError(f"{path}:{n}: not valid JSON ({exc.msg})", "fix or remove that line") from None
    return rows


def load(
    source: DataSource, kind: str, langs: list[str], *, allow_downloads: bool = False, where: str = ""
) -> list[dict[str, Any]]:
    """Rows of ``kind`` for each language in ``langs`` from ``source``, in the workbench's columns.

    ``where`` names the recipe key (for messages). Raises :class:`DataError` for a missing file,
    missing columns or a language the source does not have.
    """
    label = where or f"data.{kind}"
    if source.shipped:
        rows = _from_shipped(source.shipped, kind, label)
        origin = f"shipped:{source.shipped}"
    else:
        rows = None
        origin = f"hub:{source.hub}" if source.hub else f"file:{source.path}"
    out: list[dict[str, Any]] = []
    for lang in langs:
        if rows is not None:
            picked = [r for r in rows if r.get("lang") == lang]
        else:
            picked = _from_dataset(source, kind, lang, label, allow_downloads)
        if not picked:
            raise DataError(
                f"{label}: {origin} has no rows in {languages.describe(lang)}",
                "choose languages the data set has, or map its language column with fields.lang / lang_codes",
            )
        if source.limit:
            picked = picked[: source.limit]
        for r in picked:
            out.append({**r, "lang": lang, "source": origin})
    return out


def _from_shipped(name: str, kind: str, label: str) -> list[dict[str, Any]]:
    rows = read_jsonl(shipped_path(name))
    out = []
    for r in rows:
        item = {"item_id": r["id"], "lang": r["lang"], "category": r.get("category")}
        if kind == "benign":
            item |= {"instruction": r.get("instruction") or r.get("prompt"), "response": r["response"]}
        elif kind == "evaluation":
            item |= {"prompt": r["prompt"], "domain": r.get("domain")}
        else:
            item |= {
                "prompt": r.get("prompt") or r.get("instruction"),
                "response": r["response"],
                "kind": r.get("kind", "helpful"),
            }
        missing = [c for c in REQUIRED[kind] if not item.get(c)]
        if missing:
            raise DataError(
                f"{label}: shipped set {name!r} lacks {', '.join(missing)} needed for {kind} data",
                f"use a shipped set made for {kind}",
            )
        out.append(item)
    return out


def _from_dataset(source: DataSource, kind: str, lang: str, label: str, allow_downloads: bool) -> list[dict[str, Any]]:
    code = source.lang_codes.get(lang, lang)
    fields = {c: c for c in (*REQUIRED[kind], *OPTIONAL[kind], "lang")} | {
        k: v.replace("{lang}", code) for k, v in source.fields.items()
    }
    per_lang_columns = any("{lang}" in v for v in source.fields.values())
    table = _read_table(source, code, label, allow_downloads)
    columns = set(table.column_names)
    missing = [
        f"{want} (column {col!r})" for want, col in fields.items() if want in REQUIRED[kind] and col not in columns
    ]
    if missing:
        raise DataError(
            f"{label}: {source.path or source.hub} lacks {', '.join(missing)}; it has: {', '.join(sorted(columns))}",
            f'map the columns in [data.{kind}.fields], e.g. {REQUIRED[kind][0]} = "<column>"',
        )
    lang_col = fields.get("lang")
    filters = {col: val.replace("{lang}", code) for col, val in source.filters.items()}
    bad = [col for col in filters if col not in columns]
    if bad:
        raise DataError(
            f"{label}.filters: {source.path or source.hub} has no column {bad[0]!r}",
            f"columns: {', '.join(sorted(columns))}",
        )
    split_by_lang = (
        per_lang_columns
        or any("{lang}" in v for v in source.filters.values())
        or "{lang}" in (source.config or "")
        or "{lang}" in (source.data_files or "")
    )
    by_lang = lang_col in columns and not split_by_lang
    if not by_lang and not split_by_lang:
        raise DataError(
            f"{label}: cannot tell the language of the rows of {source.path or source.hub}",
            "add a lang column (or map one with fields.lang), or use {lang} in fields, filters, config or data_files",
        )
    out = []
    for i, row in enumerate(table.to_pylist()):
        if by_lang and str(row.get(lang_col)) != code:
            continue
        if any(str(row.get(col)) != val for col, val in filters.items()):
            continue
        has_id = fields["id"] in columns and row.get(fields["id"]) is not None
        item: dict[str, Any] = {"item_id": str(row[fields["id"]]) if has_id else f"row{i:05d}"}
        for want in (*REQUIRED[kind], *OPTIONAL[kind]):
            if want == "id":
                continue
            col = fields.get(want)
            value = row.get(col) if col in columns else None
            if isinstance(value, list):  # e.g. SORRY-Bench keeps the request in a one-turn list
                value = value[0] if value else None
            item[want] = None if value is None else str(value)
        if all(item.get(c) for c in REQUIRED[kind]):
            out.append(item)
    return out


def _read_table(source: DataSource, code: str, label: str, allow_downloads: bool):
    import datasets  # heavy: only when a file or hub dataset is read

    try:
        if source.path is not None:
            path = Path(source.path)
            if not path.is_file():
                raise DataError(f"{label}.path: {path} does not exist", "check the path (relative to the recipe file)")
            builder = {".jsonl": "json", ".json": "json", ".csv": "csv", ".parquet": "parquet"}[path.suffix.lower()]
            return datasets.load_dataset(builder, data_files=str(path), split="train").data.table
        if not allow_downloads:
            raise DataError(
                f"{label}.hub: downloading {source.hub!r} is not allowed",
                "set study.allow_downloads = true in the recipe, or pass --allow-downloads",
            )
        kwargs: dict[str, Any] = {"split": source.split, "revision": source.revision}
        if source.config:
            kwargs["name"] = source.config.replace("{lang}", code)
        if source.data_files:
            kwargs["data_files"] = source.data_files.replace("{lang}", code)
        return datasets.load_dataset(source.hub, **kwargs).data.table
    except DataError:
        raise
    except Exception as exc:  # datasets raises many kinds; the user needs what and where
        what = source.path or source.hub
        raise DataError(
            f"{label}: cannot read {what}: {type(exc).__name__}: {str(exc).splitlines()[0][:200]}",
            "check the file format, or the hub id, config and split",
        ) from None
