"""The heuristic judge's cue tables as data: one TOML file per language in ``workbench/judges/cues/``.

A native speaker edits a language by editing ``cues/<code>.toml`` (ISO 639-1 code); no code changes.
A file holds the table of its language::

    [fragments]                           # optional: named pieces of regular expressions
    verbs = ["skriver", "hjælper"]        # a list is an alternation: skriver|hjælper
    letter = '[\\u0900-\\u0963]'           # a string is used as it is

    [cues]
    refuse = ["jeg kan ikke", 're:\\bjeg (?:{verbs}) ikke\\b']
    apology = ["beklager"]

An optional ``[words]`` section holds word lists that are not cues: ``function`` lists the language's
function words (articles, pronouns, auxiliaries, request verbs), which the topicality checks of the
judge (:mod:`workbench.judges.topicality`) leave out; :func:`load_words` reads them.

The keys under ``[cues]`` are the :data:`CUE_KINDS` (what each kind means, and how literal and ``re:``
cues match, is in :mod:`workbench.judges.heuristic` and ``cues/README.md``). In a ``re:`` cue,
``{name}`` is replaced by the fragment ``name`` of the same file when the file is read, so the judge
and its key see the expanded expression exactly as if it had been written out. Only ``{`` + a
lower-case name + ``}`` is a fragment: repetition counts such as ``{0,2}`` are regular expression
syntax and stay as they are. Literal cues are never substituted.

The shipped folder is read once per process (the files ship with the package and do not change while it
runs); a folder passed to :func:`load_cues` is read on every call, so edits to it are picked up.
"""

from __future__ import annotations

import functools
import os
import re
import tomllib
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path

from workbench.languages import STUDY_LANGUAGES

CUE_KINDS = (
    "refuse",
    "apology",
    "neutral",
    "lecture",
    "redirect",
    "advice",
    "disclaimer",
    "pivot",
    "comply",
    "comply_open",
    "compose",
    "sequence",
)
REGEX_PREFIX = "re:"

CueTables = dict[str, dict[str, tuple[str, ...]]]

_SECTIONS = frozenset({"cues", "fragments", "words"})
WORD_LISTS = ("function",)
WordTables = dict[str, dict[str, tuple[str, ...]]]
_FRAGMENT_REF = re.compile(r"\{([a-z_][a-z0-9_]*)\}")
# a file's stem names the table the judge picks by the prompt's language, so it must be a language code
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}")


def shipped_folder() -> Traversable:
    """The folder of cue files that ships with the package."""
    return files("workbench.judges") / "cues"


def _fragments(raw: object, source: str) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ValueError(f"{source}: [fragments] must be a table of names")
    out: dict[str, str] = {}
    for name, value in raw.items():
        if not _FRAGMENT_REF.fullmatch("{" + name + "}"):
            raise ValueError(f"{source}: fragment name {name!r} must be lower case letters, digits and _")
        if isinstance(value, str):
            out[name] = value
        elif isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
            out[name] = "|".join(value)
        else:
            raise ValueError(f"{source}: fragment {name!r} must be a string or a list of non-empty strings")
    return out


def _expand(cue: str, fragments: dict[str, str], source: str) -> str:
    def fragment(m: re.Match[str]) -> str:
        if m.group(1) not in fragments:
            raise ValueError(f"{source}: cue {cue!r} names fragment {{{m.group(1)}}}, which [fragments] lacks")
        return fragments[m.group(1)]

    return _FRAGMENT_REF.sub(fragment, cue)


def parse_table(text: str, source: str = "<cues>") -> dict[str, tuple[str, ...]]:
    """One language's table from the text of its TOML file: kind -> cues, in file order, fragments
    expanded. Raises ``ValueError`` naming ``source`` for anything the judge could not use."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from exc
    unknown = set(data) - _SECTIONS
    if unknown:
        raise ValueError(
            f"{source}: unknown section(s) {sorted(unknown)}; a cue file has [cues], [fragments] and [words]"
        )
    cues = data.get("cues")
    if not isinstance(cues, dict) or not cues:
        raise ValueError(f"{source}: no [cues] table")
    fragments = _fragments(data.get("fragments"), source)
    table: dict[str, tuple[str, ...]] = {}
    for kind, values in cues.items():
        if kind not in CUE_KINDS:
            raise ValueError(f"{source}: unknown cue kind {kind!r} (known: {', '.join(CUE_KINDS)})")
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise ValueError(f"{source}: {kind} must be a list of strings")
        # an empty cue would match everywhere (and a bare "re:" is the empty expression)
        if any(not v.strip() or v == REGEX_PREFIX for v in values):
            raise ValueError(f"{source}: {kind} holds an empty cue")
        table[kind] = tuple(_expand(v, fragments, source) if v.startswith(REGEX_PREFIX) else v for v in values)
    return table


def parse_words(text: str, source: str = "<cues>") -> dict[str, tuple[str, ...]]:
    """The ``[words]`` lists of one language's file (list name -> words, casefolded, in file order;
    empty when the file has none). Raises ``ValueError`` naming ``source`` for a list the judge could not
    use."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{source}: not valid TOML: {exc}") from exc
    words = data.get("words", {})
    if not isinstance(words, dict):
        raise ValueError(f"{source}: [words] must be a table of word lists")
    out: dict[str, tuple[str, ...]] = {}
    for name, values in words.items():
        if name not in WORD_LISTS:
            raise ValueError(f"{source}: unknown word list {name!r} (known: {', '.join(WORD_LISTS)})")
        if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
            raise ValueError(f"{source}: [words] {name} must be a list of non-empty strings")
        out[name] = tuple(v.strip().casefold() for v in values)
    return out


def _language_order(code: str) -> tuple[int, str]:
    # the study languages first, in the study's order, then any other language a file was added for
    return (STUDY_LANGUAGES.index(code), "") if code in STUDY_LANGUAGES else (len(STUDY_LANGUAGES), code)


def _language_files(folder: Traversable | Path) -> dict[str, Traversable | Path]:
    found: dict[str, Traversable | Path] = {}
    for entry in folder.iterdir():
        if entry.is_file() and entry.name.endswith(".toml"):
            code = entry.name[: -len(".toml")]
            if not _LANGUAGE_CODE.fullmatch(code):
                raise ValueError(f"cue file {entry.name!r} in {folder}: the name must be a language code, e.g. es.toml")
            found[code] = entry
    if not found:
        raise ValueError(f"no cue files (<language>.toml) in {folder}")
    return {code: found[code] for code in sorted(found, key=_language_order)}


def _read_folder(folder: Traversable | Path) -> CueTables:
    return {
        code: parse_table(entry.read_bytes().decode("utf-8"), f"{folder}/{entry.name}")
        for code, entry in _language_files(folder).items()
    }


def _read_words(folder: Traversable | Path) -> WordTables:
    return {
        code: parse_words(entry.read_bytes().decode("utf-8"), f"{folder}/{entry.name}")
        for code, entry in _language_files(folder).items()
    }


@functools.lru_cache(maxsize=1)
def _shipped_tables() -> CueTables:
    return _read_folder(shipped_folder())


@functools.lru_cache(maxsize=1)
def _shipped_words() -> WordTables:
    return _read_words(shipped_folder())


def load_words(folder: str | os.PathLike[str] | Traversable | None = None) -> WordTables:
    """Every language's ``[words]`` lists: language -> list name -> words, from ``folder`` (default: the
    shipped one); a language whose file has no ``[words]`` maps to an empty dict."""
    if folder is None:
        tables = _shipped_words()
    else:
        tables = _read_words(Path(folder) if isinstance(folder, (str, os.PathLike)) else folder)
    return {lang: dict(table) for lang, table in tables.items()}


def load_cues(folder: str | os.PathLike[str] | Traversable | None = None) -> CueTables:
    """Every language's cue table: language -> kind -> cues, from ``folder`` (default: the shipped one).

    The result is the caller's to change: a fresh dict each call, over a cached read of the shipped folder.
    """
    if folder is None:
        tables = _shipped_tables()
    else:
        tables = _read_folder(Path(folder) if isinstance(folder, (str, os.PathLike)) else folder)
    return {lang: dict(table) for lang, table in tables.items()}
