"""Data sources: the shipped sets, local JSONL/CSV/parquet files and hub datasets.

Every loader returns rows in the workbench's own column names:

- ``benign``: item_id, lang, instruction, response, category
- ``evaluation``: item_id, lang, prompt, category, domain
- ``alignment``: item_id, lang, prompt, response, kind (helpful/refusal), category

Local files are read here, strictly: text must be UTF-8, a file must have rows, and an id must not
appear twice among the rows of one language (the database keys prompts by id and language, so the
later text would silently replace the earlier). Each refusal is a :class:`DataError` naming the file
and its lines. ``pyarrow`` is imported only for parquet, ``huggingface_hub`` and ``datasets`` only for a hub
dataset.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from workbench import fsutil, languages
from workbench.errors import DataError
from workbench.hub import DATASET_FILES, first_line, hub_snapshot
from workbench.recipe.models import DataSource

REQUIRED = {
    "benign": ("instruction", "response"),
    "evaluation": ("prompt",),
    "alignment": ("prompt", "response"),
    "choice": ("question", "choices", "answer"),
}
OPTIONAL = {
    "benign": ("id", "category"),
    "evaluation": ("id", "category", "domain"),
    "alignment": ("id", "category", "kind"),
    "choice": ("id", "category"),
}
LETTERS = "ABCDEFGHIJ"  # the option letters of a multiple-choice question (at most ten options)
UTF8_HINT = "re-save the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 IN > OUT`, or 'Save as UTF-8' in an editor)"
UNIQUE_HINT = (
    "make the ids unique, or drop the id column (or its fields.id mapping) so ids are derived from row numbers"
)


@dataclass
class Table:
    """Rows of a data source with where each came from, for messages that name lines."""

    what: str  # the file or hub id, as messages name it
    columns: list[str]
    rows: list[dict[str, Any]]
    lines: list[int] | None = None  # the line each row starts on (JSONL, CSV)
    unit: str = "row"  # what a place is called when there are no lines: "row" (parquet, hub) or "item"
    complete: bool = True  # False: only the start of the file was read (preflight's sample)

    def places(self, indexes: list[int]) -> str:
        """``lines 3 and 9`` (or ``rows 4 and 10``, counted from 1) for rows at these indexes."""
        unit = "line" if self.lines is not None else self.unit
        numbers = [str(self.lines[i] if self.lines is not None else i + 1) for i in indexes]
        if len(numbers) == 1:
            return f"{unit} {numbers[0]}"
        return f"{unit}s {', '.join(numbers[:-1])} and {numbers[-1]}"


def shipped_path(name: str) -> Path:
    """The file of a shipped data set (``benign``, ``adversarial``, ``alignment``)."""
    return Path(str(resources.files("workbench.data") / "shipped" / f"{name}.jsonl"))


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Rows of a JSONL file; a bad line or a file that is not UTF-8 is an error naming the file and line."""
    return _jsonl(Path(path), str(path)).rows


def require_utf8(path: Path, label: str, *, max_bytes: int | None = None) -> None:
    """Raise :class:`DataError` naming the first few lines of ``path`` that are not UTF-8."""
    bad = fsutil.bad_utf8_lines(path, limit=3, max_bytes=max_bytes)
    if bad:
        lines = Table("", [], [], lines=bad).places(list(range(len(bad))))
        more = " (and maybe more)" if len(bad) == 3 else ""
        raise DataError(f"{_prefix(label, path)}{path}: not UTF-8 text on {lines}{more}", UTF8_HINT)


def _prefix(label: str, path: Path) -> str:
    """``data.benign: `` before a file's name in messages (nothing when the label is the file)."""
    return f"{label}: " if label and label != str(path) else ""


def read_local(path: Path, label: str, *, max_bytes: int | None = None) -> Table:
    """The rows of a local JSONL, JSON, CSV or parquet file, checked (UTF-8, not empty, well formed).

    ``max_bytes`` reads only about that much of the start of the file (``Table.complete`` says whether
    that was all of it), for checks that must stay fast on a huge file.
    """
    path = Path(path)
    if path.is_dir():
        raise DataError(f"{label}.path: {path} is a folder, not a data file", "name one JSONL, CSV or parquet file")
    if not path.is_file():
        raise DataError(f"{label}.path: {path} does not exist", "check the path (relative to the recipe file)")
    suffix = path.suffix.lower()
    if path.stat().st_size == 0:
        raise DataError(f"{label}: {path}: no rows (the file is empty)", "fill the file, or name another one")
    try:
        if suffix == ".parquet":
            table = _parquet(path, label, max_bytes)
        else:
            require_utf8(path, label, max_bytes=max_bytes)
            table = _csv(path, label, max_bytes) if suffix == ".csv" else _jsonl(path, label, max_bytes)
    except OSError as exc:  # unreadable (permissions), or gone while being read
        raise DataError(
            f"{label}: cannot read {path}: {exc.strerror or type(exc).__name__}",
            "check the file's permissions (ls -l)",
        ) from None
    if not table.rows:
        why = " (only a header line)" if suffix == ".csv" and table.columns else ""
        raise DataError(f"{label}: {path}: no rows{why}", "fill the file, or name another one")
    return table


def load(
    source: DataSource,
    kind: str,
    langs: list[str],
    *,
    allow_downloads: bool = False,
    where: str = "",
    skip_missing: bool = False,
) -> list[dict[str, Any]]:
    """Rows of ``kind`` for each language in ``langs`` from ``source``, in the workbench's columns.

    ``where`` names the recipe key (for messages). Raises :class:`DataError` for a missing, empty or
    non-UTF-8 file, missing columns, an id that appears twice in a language, or a language the source
    does not have. A hub dataset is read from the Hugging Face cache, downloaded into it only when
    ``allow_downloads`` (see :func:`hub_snapshot`). With ``skip_missing``, a language the source has
    no rows in is left out instead (the caller says it was not measured).
    """
    label = where or f"data.{kind}"
    shipped = read_shipped(source.shipped, kind, label) if source.shipped else None
    if shipped is not None:
        origin = f"shipped:{source.shipped}"
    else:
        origin = f"hub:{source.hub}" if source.hub else f"file:{source.path}"
    tables: dict[tuple, Table] = {}  # one read per distinct hub config / file, not one per language
    out: list[dict[str, Any]] = []
    for lang in langs:
        if shipped is not None:
            picked = [(i, r) for i, r in enumerate(shipped.rows) if r["lang"] == lang]
            check_unique(shipped, picked, label, lang)
            picked_rows = [r for _, r in picked]
        else:
            code = source.lang_codes.get(lang, lang)
            key = ((source.config or "").replace("{lang}", code), (source.data_files or "").replace("{lang}", code))
            if key not in tables:
                tables[key] = _read_table(source, code, label, allow_downloads)
            picked_rows = [r for _, r in pick(tables[key], source, kind, lang, label)]
        if not picked_rows and skip_missing:
            continue
        if not picked_rows:
            raise DataError(
                f"{label}: {origin} has no rows in {languages.describe(lang)}",
                "choose languages the data set has, or map its language column with fields.lang / lang_codes",
            )
        if source.limit:
            picked_rows = picked_rows[: source.limit]
        for r in picked_rows:
            out.append({**r, "lang": lang, "source": origin})
    return out


SCAN_BYTES = 32 << 20  # how much of a local data file the checks and the plan read; prepare reads all of it
_tables: dict[tuple, Table | DataError] = {}  # read once per process and version of the file


def source_table(source: DataSource, kind: str, label: str) -> Table | DataError:
    """A shipped set's rows, or a local file's first :data:`SCAN_BYTES` (``Table.complete`` says whether
    that is all of it), or the error reading them; cached per version of the file, so ``validate`` and
    ``plan`` read a file once."""
    if source.shipped:
        path = shipped_path(source.shipped)
        ident: tuple = ("shipped", source.shipped, kind, label)
    else:
        path = Path(source.path)
        try:
            st = path.stat()
        except OSError:
            return DataError(f"{label}.path: {path} does not exist", "check the path (relative to the recipe file)")
        ident = (str(path.resolve()), st.st_size, st.st_mtime_ns, label, SCAN_BYTES)
    if ident not in _tables:
        if len(_tables) >= 16:  # a long-lived process (the TUI) checks edited files again and again
            _tables.clear()
        try:
            if source.shipped:
                _tables[ident] = read_shipped(source.shipped, kind, label)
            else:
                _tables[ident] = read_local(path, label, max_bytes=SCAN_BYTES)
        except DataError as exc:
            _tables[ident] = exc
    return _tables[ident]


def read_shipped(name: str, kind: str, label: str) -> Table:
    """A shipped set as ``kind`` rows (item_id, lang, ...), with the line of each row."""
    raw = _jsonl(shipped_path(name), label)
    rows = []
    for r in raw.rows:
        item = {"item_id": r["id"], "lang": r["lang"], "category": r.get("category")}
        if kind == "benign":
            item |= {"instruction": r.get("instruction") or r.get("prompt"), "response": r.get("response")}
        elif kind == "evaluation":
            item |= {"prompt": r.get("prompt"), "domain": r.get("domain")}
        elif kind == "choice":
            choices, answer = choice_fields(r, "choices", "answer")
            item |= {"question": r.get("question"), "choices": choices, "answer": answer}
        else:
            item |= {
                "prompt": r.get("prompt") or r.get("instruction"),
                "response": r.get("response"),
                "kind": r.get("kind", "helpful"),
            }
        missing = [c for c in REQUIRED[kind] if item.get(c) is None or item.get(c) == ""]
        if missing:
            raise DataError(
                f"{label}: shipped set {name!r} lacks {', '.join(missing)} needed for {kind} data",
                f"use a shipped set made for {kind}",
            )
        rows.append(item)
    return Table(raw.what, raw.columns, rows, lines=raw.lines)


def pick(table: Table, source: DataSource, kind: str, lang: str, label: str) -> list[tuple[int, dict[str, Any]]]:
    """(index in ``table.rows``, row in the workbench's columns) of the rows of ``lang`` in a file or hub table.

    Raises :class:`DataError` when mapped columns are missing, the language of the rows cannot be
    told, or an id appears twice among the rows of ``lang``.
    """
    code = source.lang_codes.get(lang, lang)
    fields = {c: c for c in (*REQUIRED[kind], *OPTIONAL[kind], "lang")} | {
        k: v.replace("{lang}", code) for k, v in source.fields.items()
    }
    per_lang_columns = any("{lang}" in v for v in source.fields.values())
    columns = set(table.columns)
    missing = [
        f"{want} (column {c!r})"
        for want, col in fields.items()
        if want in REQUIRED[kind]
        for c in (col.split(",") if kind == "choice" and want == "choices" else [col])
        if c.strip() not in columns
    ]
    if missing:
        raise DataError(
            f"{label}: {table.what} lacks {', '.join(missing)}; it has: {', '.join(sorted(columns))}",
            f'map the columns in [data.{kind}.fields], e.g. {REQUIRED[kind][0]} = "<column>"',
        )
    lang_col = fields.get("lang")
    filters = {col: val.replace("{lang}", code) for col, val in source.filters.items()}
    bad = [col for col in filters if col not in columns]
    if bad:
        raise DataError(
            f"{label}.filters: {table.what} has no column {bad[0]!r}",
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
            f"{label}: cannot tell the language of the rows of {table.what}",
            "add a lang column (or map one with fields.lang), or use {lang} in fields, filters, config or data_files",
        )
    out = []
    empty: list[int] = []  # rows of this language with an empty required field
    for i, row in enumerate(table.rows):
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
            if kind == "choice" and want in ("choices", "answer"):
                continue
            value = row.get(col) if col in columns else None
            if isinstance(value, list):  # e.g. SORRY-Bench keeps the request in a one-turn list
                value = value[0] if value else None
            item[want] = None if value is None else str(value)
        if kind == "choice":
            choices, answer = choice_fields(row, fields["choices"], fields["answer"])
            item["choices"], item["answer"] = choices, answer
            if choices is None or answer is None:
                empty.append(i)
                continue
        if all(item.get(c) is not None and str(item[c]).strip() for c in REQUIRED[kind]):
            out.append((i, item))
        else:
            empty.append(i)
    if empty and source.hub is None:  # a local file: the user can fix it; a hub set's gaps are skipped
        among = f" among its {languages.describe(lang)} rows" if by_lang else ""
        raise DataError(
            f"{label}: {table.what}: {len(empty)} row(s) with an empty or missing "
            f"{' or '.join(REQUIRED[kind])} on {table.places(empty[:5])}{' ...' if len(empty) > 5 else ''}{among}",
            "fill those fields or remove the rows; nothing is dropped silently",
        )
    check_unique(table, out, label, lang if by_lang else None)
    return out


def choice_fields(row: dict[str, Any], choices_col: str, answer_col: str) -> tuple[list[str] | None, int | None]:
    """A multiple-choice row's options and the 0-based index of the right one, or None where unusable.

    ``choices_col`` is one column holding a list (or a JSON list), or several columns separated by
    commas (``option_a,option_b,option_c,option_d``, Global-MMLU style); the answer is an index (0-based),
    or an option letter (``A``-``J``)."""
    if "," in choices_col:
        raw: Any = [row.get(c.strip()) for c in choices_col.split(",")]
    else:
        raw = row.get(choices_col)
        if isinstance(raw, str):
            try:
                raw = json.loads(raw)
            except ValueError:
                return None, None
    if hasattr(raw, "tolist"):  # a numpy array from parquet
        raw = raw.tolist()
    if (
        not isinstance(raw, list)
        or not 2 <= len(raw) <= len(LETTERS)
        or any(c is None or not str(c).strip() for c in raw)
    ):
        return None, None
    choices = [str(c).strip() for c in raw]
    answer: Any = row.get(answer_col)
    if isinstance(answer, str):
        answer = answer.strip()
        answer = LETTERS.index(answer.upper()) if len(answer) == 1 and answer.upper() in LETTERS else (
            int(answer) if answer.isdigit() else None
        )  # fmt: skip
    elif isinstance(answer, bool) or not isinstance(answer, int):
        answer = int(answer) if isinstance(answer, float) and answer.is_integer() else None
    if answer is None or not 0 <= answer < len(choices):
        return choices, None
    return choices, answer


def check_unique(table: Table, picked: list[tuple[int, dict[str, Any]]], label: str, lang: str | None) -> None:
    """Raise :class:`DataError` when an id appears twice among ``picked`` (the rows of one language)."""
    seen: dict[str, list[int]] = {}
    for i, item in picked:
        seen.setdefault(item["item_id"], []).append(i)
    dups = [(item_id, at) for item_id, at in seen.items() if len(at) > 1]
    if not dups:
        return
    item_id, at = dups[0]
    among = f" among its {languages.describe(lang)} rows" if lang else ""
    more = f"; {len(dups) - 1} more id(s) appear more than once" if len(dups) > 1 else ""
    raise DataError(f"{label}: {table.what}: id {item_id!r} appears on {table.places(at)}{among}{more}", UNIQUE_HINT)


# -- readers ---------------------------------------------------------------------------------------
def _text(path: Path, label: str, max_bytes: int | None) -> tuple[str, bool]:
    """The file's UTF-8 text, or its first whole lines within ``max_bytes``; and whether that is all."""
    with open(path, "rb") as f:
        data = f.read() if max_bytes is None else f.read(max_bytes + 1)
    complete = max_bytes is None or len(data) <= max_bytes
    if not complete:
        cut = data.rfind(b"\n", 0, max_bytes) + 1
        if cut == 0:  # not one whole line within max_bytes (e.g. a one-line JSON array): read it all
            return _text(path, label, None)
        data = data[:cut]
    try:
        return data.decode("utf-8").removeprefix("\ufeff"), complete
    except UnicodeDecodeError:
        require_utf8(path, label)  # names the lines
        raise


def _jsonl(path: Path, label: str, max_bytes: int | None = None) -> Table:
    """JSON lines, or (for ``.json``) a JSON array of objects; each row an object."""
    text, complete = _text(path, label, max_bytes)
    if path.suffix.lower() == ".json" and text.lstrip().startswith("["):
        if not complete:  # an array cannot be read in part; read it all
            text, complete = _text(path, label, None)
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise DataError(
                f"{_prefix(label, path)}{path}:{exc.lineno}: not valid JSON ({exc.msg})", "fix the file"
            ) from None
        if not isinstance(items, list):
            raise DataError(f"{_prefix(label, path)}{path}: expected JSON lines or an array", "one object per row")
        table, columns = Table(str(path), [], [], unit="item"), {}
        for n, obj in enumerate(items, 1):
            _add(table, columns, obj, f"{_prefix(label, path)}{path}: item {n}", None)
        table.columns = list(columns)
        return table
    table, columns = Table(str(path), [], [], lines=[], complete=complete), {}
    for n, line in enumerate(text.split("\n"), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            where = f"{_prefix(label, path)}{path}:{n}"
            raise DataError(f"{where}: not valid JSON ({exc.msg})", "fix or remove that line") from None
        _add(table, columns, obj, f"{_prefix(label, path)}{path}:{n}", n)
    table.columns = list(columns)
    return table


def _add(table: Table, columns: dict[str, None], obj: Any, where: str, line: int | None) -> None:
    if not isinstance(obj, dict):
        raise DataError(f"{where}: not a JSON object (got {type(obj).__name__})", "each row must be a {...} object")
    table.rows.append(obj)
    if table.lines is not None and line is not None:
        table.lines.append(line)
    columns.update(dict.fromkeys(obj))


def _csv(path: Path, label: str, max_bytes: int | None = None) -> Table:
    """A CSV file with a header line; values are strings, an empty cell is missing."""
    text, complete = _text(path, label, max_bytes)
    csv.field_size_limit(max(csv.field_size_limit(), 1 << 28))  # long responses: the default is 128 KiB
    reader = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    table = Table(str(path), [], [], lines=[], complete=complete)
    previous = 0
    try:
        for record in reader:
            start, previous = previous + 1, reader.line_num
            if not record:
                continue  # a blank line
            if header is None:
                header = record
                table.columns = list(dict.fromkeys(record))
                continue
            if len(record) > len(header):
                raise DataError(
                    f"{_prefix(label, path)}{path}:{start}: {len(record)} fields, but the header has {len(header)}",
                    "quote fields that contain commas",
                )
            table.rows.append({k: (v if v != "" else None) for k, v in zip(header, record, strict=False)})
            table.lines.append(start)
    except csv.Error as exc:
        where = f"{_prefix(label, path)}{path}:{reader.line_num}"
        raise DataError(f"{where}: not valid CSV ({exc})", "fix that line") from None
    return table


def _parquet(path: Path, label: str, max_bytes: int | None) -> Table:
    import pyarrow.parquet as pq  # only for parquet files

    try:
        if max_bytes is None:
            t = pq.read_table(path)
            return Table(str(path), t.column_names, t.to_pylist())
        f = pq.ParquetFile(path)
        rows: list[dict[str, Any]] = []
        size = 0
        for batch in f.iter_batches(batch_size=4096):
            rows += batch.to_pylist()
            size += batch.nbytes
            if size > max_bytes:
                break
        return Table(str(path), f.schema_arrow.names, rows, complete=len(rows) >= f.metadata.num_rows)
    except (OSError, ValueError) as exc:  # pyarrow's ArrowInvalid is a ValueError
        raise DataError(f"{label}: cannot read {path}: {first_line(exc)}", "check that it is a parquet file") from None


def _read_table(source: DataSource, code: str, label: str, allow_downloads: bool) -> Table:
    if source.path is not None:
        return read_local(Path(source.path), label)
    kwargs: dict[str, Any] = {"split": source.split}
    if source.config:
        kwargs["name"] = source.config.replace("{lang}", code)
    if source.data_files:
        kwargs["data_files"] = source.data_files.replace("{lang}", code)
    what = f"hub:{source.hub}" + (f" ({kwargs['name']})" if "name" in kwargs else "") + f" split {source.split!r}"
    # The repo's files come from the Hugging Face cache (or are downloaded into it, when allowed) and are
    # read as a local folder: `datasets` cannot read a hub dataset from the cache when HF_HUB_OFFLINE=1.
    patterns = ["README.md", kwargs["data_files"]] if "data_files" in kwargs else list(DATASET_FILES)
    folder = hub_snapshot(
        source.hub,
        repo_type="dataset",
        revision=source.revision,
        allow_patterns=patterns,
        allow_downloads=allow_downloads,
        label=f"{label}.hub",
    )
    import datasets  # heavy: only when a hub dataset is read

    try:
        t = datasets.load_dataset(str(folder), **kwargs).data.table
    except Exception as exc:  # datasets raises many kinds; the user needs what and where
        raise DataError(
            f"{label}: cannot read {what}: {first_line(exc)}",
            "check the hub id, config and split",
        ) from None
    if t.num_rows == 0:
        raise DataError(f"{label}: {what}: no rows", "check the config, split and data_files")
    return Table(what, t.column_names, t.to_pylist())
