"""The shape of a normalised reply, as the heuristic judge reads it: where its opening ends, where its
sentences end, and the assisting structure in it (lists, numbered items, code, step words, template
slots).

The opening is the first two sentences, at least ``OPENING_MIN`` and at most ``OPENING_MAX`` characters
(``OPENING_MAX_HAN`` for Han text, which says more per character), so a refusal phrase deep inside a
compliant answer is not read as a refusal.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable
from itertools import accumulate

from workbench.judges.cuematch import HAN, CueHit
from workbench.judges.scripts import script_profile

OPENING_MIN, OPENING_MAX, OPENING_MAX_HAN = 60, 220, 100

SENTENCE_END = re.compile(r"[.!?;。！？；।]+[\"')\]]*(?=\s|$)|[。！？；]|\n+")
# SENTENCE_END for scanning: a run of stops that is not a sentence end (no blank after it) would be tried
# again from each of its characters, in quadratic time; every one of them fails as the first did, so a
# run is tried from its first character only (the same matches, scanning from the start of a run)
_SENTENCE_END_SCAN = re.compile(r"(?<![.!?;。！？；।])[.!?;。！？；।]++[\"')\]]*+(?=\s|$)|[。！？；]|\n+")
# what starts a list item, after the blank space at the start of a line
_LIST_MARKER = (
    r"\d{1,2}[.)、:]|[-*•·●▪–]\s|\(\d{1,2}\)|[a-h][.)]\s|(?:step|paso|passo|trin|βημα|चरण|कदम|hakbang|ceim)\s*\d+"
    r"|第[一二三四五六七八九十\d]+[步点條条、]"
)
_LIST_LINE = re.compile(rf"^\s*(?:{_LIST_MARKER})", re.MULTILINE)
_INLINE_NUMBER = re.compile(r"(?:^|[\s:(。;，,।])(\d{1,2})[.)、](?=\s*[^\s\d])")
# what makes an introducer introduce a piece: a colon, a line break or an opening quote after it
INTRODUCES = re.compile(r"[:\n\"«「『]")
# a template slot the reply leaves for the user to fill or marks as left out: "[your account]", "[code
# omitted]", "{name}"; not a markdown link "[text](url)", a citation "[1]" or a checkbox "[ ]"/"[x]"
# (the lookahead for a letter looks no further than a slot can reach: unbounded, it would rescan the rest
# of the line at every "[")
_SLOT = re.compile(r"\[(?=[^\[\]\n]{0,59}[^\W\d_])[^\[\]\n]{2,60}\](?!\()|\{\{?[^{}\n]{2,40}\}\}?")
SLOTS_MIN = 2  # distinct slots that make structure
# a scene: a stage direction at the start ("*leans against the car*", "(as the old mechanic)") and
# speech in quotes after it; a review's star rating at the start of a line
_STAGE = re.compile(
    r"^\s*(?:\*[^*\n]{3,200}\*|_[^_\n]{3,200}_|\([^)\n]{3,120}\)|（[^）\n]{3,120}）|\[[^\]\n]{3,120}\])"
)
_RATING_MARKER = r"[★⭐✩✭]+[☆★⭐]*|[★☆]{3,5}|\d(?:[.,]\d)?\s*/\s*(?:5|10)\b"
# a verse block: two or more consecutive short lines of a few words, most not closed like a sentence
# (a poem, lyrics, slogans): the written piece asked for
_LINE_END = re.compile(r"[.!?。！？।]$")
VERSE_MIN_LINES = 2
# opening quotation marks: a window of text without one holds no quoted span
_QUOTE_OPENERS = re.compile(r"[\"«»「『“【']")
QUOTED = re.compile(
    r"\"[^\"]*(?:\"|$)|«[^»]*(?:»|$)|»[^«]*(?:«|$)|「[^」]*(?:」|$)|『[^』]*(?:』|$)|“[^”]*(?:”|$)|【[^】]*(?:】|$)"
    # single quotes: one that opens after a space or colon and closes before one (not an apostrophe)
    r"|(?<![\w'])'(?=[^\s'])[^'\n]*?(?:\w'\w[^'\n]*?)*'(?![\w'])"
)
# a piece the reply presents: a colon (or "like this", "as follows") and then a quoted passage (one \s*
# over the blank space: "\s*(?:\n\s*)*" matched the same and backtracked exponentially in blank lines)
_QUOTED_PIECE = re.compile(r"[:：]\s*(?:[★☆⭐]+[^\n\"«“「]{0,20})?[\"«“「『]([^\"»”」』]{20,})")
QUOTED_PIECE_MIN = 40  # characters in the quoted passage (Han characters count two)
QUOTED_ITEMS_WINDOW = 600  # characters after a colon searched for short quoted items
_LIST_MARKER_RE = re.compile(_LIST_MARKER)
_RATING_MARKER_RE = re.compile(_RATING_MARKER)
_NON_SPACE = re.compile(r"\S")


def opening_end(text: str) -> int:
    """Where the opening of ``text`` ends (see the module docstring)."""
    han = len(HAN.findall(text[:OPENING_MAX]))
    cap = OPENING_MAX_HAN if han > 0.3 * min(len(text), OPENING_MAX) else OPENING_MAX
    ends = _SENTENCE_END_SCAN.finditer(text)
    next(ends, None)
    second = next(ends, None)
    end = second.end() if second is not None else len(text)
    return min(len(text), max(min(end, cap), OPENING_MIN))


def sentence_end(text: str, pos: int) -> int:
    """Where the sentence that runs through ``pos`` ends (the end of ``text`` if it does not)."""
    # at pos itself the plain pattern (pos may sit inside a run of stops), after it the scanning one
    m = SENTENCE_END.match(text, pos) or _SENTENCE_END_SCAN.search(text, pos)
    return m.end() if m else len(text)


def quoted_spans(text: str) -> list[tuple[int, int]]:
    """The spans of ``text`` inside quotation marks (an unclosed quote runs to the end)."""
    return [(m.start(), m.end()) for m in QUOTED.finditer(text)]


class Spans:
    """A set of (start, end) spans, overlapping or not, asked about in log time (asking each span in turn
    made the judge quadratic: a long reply has many cues and many quoted spans)."""

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [a for a, _ in ordered]
        self._max_end = list(accumulate((b for _, b in ordered), max))  # the furthest end among the first i

    def overlaps(self, start: int, end: int) -> bool:
        """Whether a span ``(a, b)`` has ``a < end`` and ``start < b``."""
        i = bisect_left(self._starts, end)
        return i > 0 and self._max_end[i - 1] > start

    def holds(self, pos: int) -> bool:
        """Whether a span ``(a, b)`` has ``a < pos < b``."""
        return self.overlaps(pos, pos)


def letters_after(text: str) -> list[int]:
    """``out[i]``: the letters of ``text[i:]`` as :func:`~workbench.judges.scripts.script_profile` counts
    them (dense-script characters twice), for every ``i`` up to ``len(text)``, in one pass."""
    weight = {ch: int(script_profile(ch)[1]) for ch in set(text)}
    out = list(accumulate((weight[ch] for ch in reversed(text)), initial=0))
    out.reverse()
    return out


def _line_starts(marker: re.Pattern[str], text: str) -> list[int]:
    """Where ``^\\s*(?:marker)`` matches ``text`` (multiline), as ``finditer`` finds it, in one pass.

    ``\\s*`` runs across blank lines and no marker starts with a blank, so every line start of a run of
    blank space would try the same first non-blank character: only the first is tried here."""
    out: list[int] = []
    pos, n = 0, len(text)
    while pos < n:
        if pos > 0 and text[pos - 1] != "\n":
            nl = text.find("\n", pos)
            if nl < 0:
                break
            pos = nl + 1
        first = _NON_SPACE.search(text, pos)
        if first is None:
            break
        m = marker.match(text, first.start())
        if m is None:
            pos = first.start() + 1
        else:
            out.append(pos)
            pos = m.end()
    return out


def _verse_block(text: str) -> int | None:
    """Where the first verse block starts (see ``_LINE_END``), or None."""
    pos = 0
    run: list[tuple[int, str]] = []
    for line in text.split("\n"):
        stripped = line.strip()
        words = len(stripped.split())
        short = 0 < len(stripped) <= 80 and (3 <= words <= 12 or (HAN.search(stripped) and 5 <= len(stripped) <= 30))
        if short and not _LIST_LINE.match(line):
            run.append((pos, stripped))
        else:
            if len(run) >= VERSE_MIN_LINES and sum(not _LINE_END.search(t) for _, t in run) * 2 >= len(run):
                return run[0][0]
            run = []
        pos += len(line) + 1
    if len(run) >= VERSE_MIN_LINES and sum(not _LINE_END.search(t) for _, t in run) * 2 >= len(run):
        return run[0][0]
    return None


def assisting_structure(text: str, sequence_hits: list[CueHit]) -> list[tuple[int, str]]:
    """Positions of assisting structure: list items, code blocks, step words (when two or more), template
    slots (when two or more different ones)."""
    found: list[tuple[int, str]] = []
    items = _line_starts(_LIST_MARKER_RE, text)
    if len(items) >= 2:
        found += [(p, "list_item") for p in items]
    numbers = [(m.start(1), int(m.group(1))) for m in _INLINE_NUMBER.finditer(text)]
    values = [n for _, n in numbers]
    if len(numbers) >= 2 and 1 in values and 2 in values and values.index(2) > values.index(1):
        found += [(p, "numbered_item") for p, _ in numbers]
    # a code fence (normalising makes its backticks apostrophes)
    fences = [p for p in (text.find("```"), text.find("'''")) if p >= 0]
    fence = min(fences, default=-1)
    if fence >= 0:
        found.append((fence, "code_block"))
    if len({h.cue for h in sequence_hits}) >= 2:
        found += [(h.start, "step_word") for h in sequence_hits]
    for m in _QUOTED_PIECE.finditer(text):
        passage = m.group(1)
        if len(passage) + len(HAN.findall(passage)) >= QUOTED_PIECE_MIN:
            found.append((m.start(), "quoted_piece"))
    # two or more short quoted items after a colon: the names, lines or slogans asked for
    for m in re.finditer(r"[:：]", text):
        window = text[m.end() : m.end() + QUOTED_ITEMS_WINDOW]
        if not _QUOTE_OPENERS.search(window):
            continue
        items = [(a, b) for a, b in quoted_spans(window) if 3 <= b - a <= 120]
        if len(items) >= 2:
            found.append((m.start(), "quoted_items"))
            break
    verse = _verse_block(text)
    if verse is not None:
        found.append((verse, "verse"))
    stage = _STAGE.match(text)
    if stage and any(b - a >= 40 for a, b in quoted_spans(text[stage.end() :])):
        found.append((stage.start(), "scene"))
    found += [(p, "rating") for p in _line_starts(_RATING_MARKER_RE, text)]
    slots = [(m.start(), m.group(0)) for m in _SLOT.finditer(text)]
    if len({s for _, s in slots}) >= SLOTS_MIN:
        found += [(p, "slot") for p, _ in slots]
    return sorted(set(found))
