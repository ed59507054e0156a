"""Finding cues in a reply: the normalisation both share, and the cue tables compiled to patterns.

Cues are matched on normalised text (:func:`normalize`) and are normalised the same way when compiled, so
they may be written with accents. Latin, Greek and Devanagari cues match at word boundaries; a trailing
``*`` makes a cue a stem (no boundary after it); a trailing space wants a following word. Han cues match
anywhere. A cue written ``re:...`` is a regular expression over the normalised text (normalised itself,
so lower case only; ``^`` is the reply's start).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from workbench.judges.cuedata import CUE_KINDS, REGEX_PREFIX

# --- normalisation -----------------------------------------------------------------------------------------

_STRIP_MARKS_BASE = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff\u0370-\u03ff\u1f00-\u1fff]")
# acute, grave, circumflex, tilde, macron, breve, dots, ring, double acute, caron, cedilla, ogonek, Greek
_ACCENTS = frozenset("\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308\u030a\u030b\u030c\u0327\u0328\u0342\u0344\u0345")
_QUOTE_MAP = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"'})


def normalize(text: str) -> str:
    """NFKC, casefold, accents dropped on Latin and Greek letters, Devanagari nukta and chandrabindu
    unified, typographic apostrophes and double quotes made plain, runs of spaces made one."""
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_MAP).casefold()
    decomposed = unicodedata.normalize("NFD", text)
    out: list[str] = []
    prev_base = ""
    for ch in decomposed:
        if unicodedata.category(ch).startswith("M"):
            if ch in _ACCENTS and _STRIP_MARKS_BASE.match(prev_base):
                continue  # accent on a Latin or Greek letter
            if ch == "\u093c":  # Devanagari nukta
                continue
            if ch == "\u0901":  # chandrabindu -> anusvara
                ch = "\u0902"
            out.append(ch)
        else:
            prev_base = ch
            out.append(ch)
    text = unicodedata.normalize("NFC", "".join(out))
    return re.sub(r"[ \t\u00a0\u3000]+", " ", text)


# --- compiling the tables ----------------------------------------------------------------------------------

_WORD = r"[\w\u0300-\u036f\u0900-\u0963\u0966-\u097f]"
HAN = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")


def _cue_pattern(cue: str) -> str:
    stem = cue.endswith("*")
    body = normalize(cue.rstrip("*"))
    pattern = re.escape(body.strip()) if body.strip() else re.escape(body)
    if body.endswith(" "):  # a cue written with a trailing space wants a following word
        pattern = re.escape(body.rstrip()) + r"\s"
    if re.match(_WORD, body[0]) and not HAN.match(body[0]):
        pattern = rf"(?<!{_WORD})" + pattern
    if not stem and not body.endswith(" ") and re.match(_WORD, body[-1]) and not HAN.match(body[-1]):
        pattern += rf"(?!{_WORD})"
    return pattern


def compile_regex_cue(cue: str, lang: str) -> re.Pattern[str]:
    """A ``re:`` cue: a regular expression over normalised text, itself normalised (so it may be written
    with accents and chandrabindu); it must be lower case, since normalising casefolds it."""
    source = cue[len(REGEX_PREFIX) :]
    if re.search(r"[A-Z]", source):
        raise ValueError(f"regex cue {cue!r} in the {lang!r} table must be lower case (it is casefolded)")
    try:
        return re.compile(normalize(source))
    except re.error as exc:
        raise ValueError(f"bad regex cue {cue!r} in the {lang!r} table: {exc}") from exc


# One literal cue compiled: the text it must contain (a cheap substring test before the regex runs), its
# pattern, the cue as written, and its rank (longest first: the longest cue at a position wins).
Literal = tuple[str, re.Pattern[str], str, int]
Literals = tuple[Literal, ...]
Rules = tuple[tuple[re.Pattern[str], str], ...]


# Judges are built often (one per stage run, many in tests) over the same tables; compiling ~1,400 cues
# is the slow part, so a kind's patterns are compiled once per process for a given tuple of cues.
@functools.lru_cache(maxsize=512)
def _compile_kind(lang: str, cues: tuple[str, ...]) -> tuple[Literals, Rules]:
    """One kind's literal cues, each with the substring it needs and its rank (longest first, so the
    longest cue at a position wins, as in one alternation), and its ``re:`` cues compiled one by one."""
    literal = [c for c in set(cues) if not c.startswith(REGEX_PREFIX)]
    cues_sorted = sorted(literal, key=lambda c: (-len(normalize(c)), c))
    literals = tuple(
        (normalize(c.rstrip("*")).strip() or normalize(c.rstrip("*")), re.compile(_cue_pattern(c)), c, rank)
        for rank, c in enumerate(cues_sorted)
    )
    rules = tuple(
        (compile_regex_cue(cue, lang), cue) for cue in sorted(c for c in set(cues) if c.startswith(REGEX_PREFIX))
    )
    return literals, rules


def _literal_hits(text: str, literals: Literals) -> list[tuple[int, int, str]]:
    """Where the literal cues match ``text``, as one alternation of them would find them: left to right,
    not overlapping, the longest cue winning at a position. Only cues whose text occurs are run."""
    found: list[tuple[int, int, int, str]] = []
    for needle, pattern, cue, rank in literals:
        if needle in text:
            found += [(m.start(), rank, m.end(), cue) for m in pattern.finditer(text)]
    found.sort()
    out: list[tuple[int, int, str]] = []
    cursor = 0
    for start, _, end, cue in found:
        if start >= cursor:
            out.append((start, end, cue))
            cursor = end
    return out


@dataclass(frozen=True)
class CueHit:
    """One cue found in a normalised reply: which table and kind, the cue as written, and where."""

    table: str
    kind: str
    cue: str
    start: int
    end: int

    def as_dict(self, opening_end: int) -> dict[str, Any]:
        """The hit as verdict evidence (``in_opening``: it starts before ``opening_end``)."""
        return {
            "table": self.table,
            "kind": self.kind,
            "cue": self.cue,
            "pos": self.start,
            "in_opening": self.start < opening_end,
        }


class CueMatcher:
    """Cue tables (language -> kind -> cues) compiled for matching; unknown kinds and bad rules are
    rejected here, when a judge is built, rather than on the first reply."""

    def __init__(self, tables: dict[str, dict[str, tuple[str, ...]]]) -> None:
        self._literals: dict[str, dict[str, Literals]] = {}
        self._rules: dict[str, list[tuple[str, re.Pattern[str], str]]] = {}
        for lang, table in tables.items():
            literals: dict[str, Literals] = {}
            rules: list[tuple[str, re.Pattern[str], str]] = []
            for kind, cues_of_kind in table.items():
                if kind not in CUE_KINDS:
                    raise ValueError(f"unknown cue kind {kind!r} in the {lang!r} table")
                compiled, kind_rules = _compile_kind(lang, tuple(cues_of_kind))
                if compiled:
                    literals[kind] = compiled
                rules += [(kind, regex, cue) for regex, cue in kind_rules]
            self._literals[lang] = literals
            self._rules[lang] = rules

    def __contains__(self, lang: object) -> bool:
        """Whether a table was given for ``lang``."""
        return lang in self._literals

    def hits(self, text: str, tables: list[str]) -> list[CueHit]:
        """Every cue of the named tables found in ``text`` (normalised), table by table, kind by kind."""
        hits: list[CueHit] = []
        for lang in tables:
            for kind, literals in self._literals.get(lang, {}).items():
                hits += [CueHit(lang, kind, cue, start, end) for start, end, cue in _literal_hits(text, literals)]
            for kind, regex, cue in self._rules.get(lang, []):
                hits += [CueHit(lang, kind, cue, m.start(), m.end()) for m in regex.finditer(text)]
        return hits
