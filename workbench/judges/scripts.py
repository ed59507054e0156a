"""Which writing system (script) a letter belongs to, and how much of a text is in each: the ground
both language identification and the degeneracy checks stand on.
"""

from __future__ import annotations

import functools
import unicodedata
from collections import Counter

_SCRIPT_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x024F, "Latin"),
    (0x0370, 0x03FF, "Greek"),
    (0x0400, 0x052F, "Cyrillic"),
    (0x0590, 0x05FF, "Hebrew"),
    (0x0600, 0x06FF, "Arabic"),
    (0x0750, 0x077F, "Arabic"),
    (0x0900, 0x097F, "Devanagari"),
    (0x0980, 0x09FF, "Bengali"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x1100, 0x11FF, "Hangul"),
    (0x1E00, 0x1EFF, "Latin"),
    (0x1F00, 0x1FFF, "Greek"),
    (0x3040, 0x30FF, "Kana"),
    (0x3400, 0x4DBF, "Han"),
    (0x4E00, 0x9FFF, "Han"),
    (0xA8E0, 0xA8FF, "Devanagari"),
    (0xAC00, 0xD7AF, "Hangul"),
    (0xF900, 0xFAFF, "Han"),
    (0x20000, 0x3134F, "Han"),
)

# Scripts whose characters are syllables or words rather than letters: one counts as two letters when
# deciding whether a text is long enough to judge.
_DENSE_SCRIPTS = frozenset({"Han", "Kana", "Hangul"})


@functools.lru_cache(maxsize=8192)
def char_script(ch: str) -> str | None:
    """The script of a letter or combining mark (``None`` for anything else)."""
    if not (ch.isalpha() or unicodedata.category(ch).startswith("M")):
        return None
    cp = ord(ch)
    for lo, hi, name in _SCRIPT_RANGES:
        if lo <= cp <= hi:
            return name
    return "Other"


def script_profile(text: str) -> tuple[Counter[str], float]:
    """Letters per script, and the text's length in letters (dense-script characters count twice)."""
    counts: Counter[str] = Counter()
    for ch, n in Counter(text).items():
        script = char_script(ch)
        if script is not None:
            counts[script] += n
    weighted = sum(n * (2 if s in _DENSE_SCRIPTS else 1) for s, n in counts.items())
    return counts, float(weighted)
