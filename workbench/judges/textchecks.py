"""Text checks every judge shares: which language a reply is in, and whether it is degenerate.

Both checks are pure Python plus ``py3langid`` (an offline naive-Bayes language identifier whose model is
loaded once, lazily, from its bundled npz file) and run in well under a millisecond per reply.

* :func:`detect_language` names the language of a text (ISO 639-1) with a confidence in [0, 1], or
  ``(None, 0.0)`` when the text has too few letters to tell. A script check backs the statistical guess:
  text that is mostly Han, Greek, Devanagari, kana or Hangul is named by its script when langid disagrees.
* :func:`is_off_language` says whether a reply is confidently *not* in the prompt's language. It is
  conservative: short texts are never flagged, languages langid confuses with the expected one (Danish and
  Norwegian, Portuguese and Galician, Tagalog and its neighbours, Irish and Scottish Gaelic) count as the
  expected one, a Spanish/Portuguese swap needs a higher confidence, and Tagalog or romanised Hindi is
  recognised by its function words as well.
* :func:`degeneracy` says whether a reply is empty, loops (a line, a sentence or a phrase repeated) or is
  garbled (replacement characters, few letters, one character repeated, scripts mixed inside words).
"""

from __future__ import annotations

from workbench.judges.degenerate import degeneracy
from workbench.judges.language_id import (
    CLOSE_PAIR_CONFIDENCE,
    EXPECTED_MASS_CEILING,
    FAMILIES,
    MARKER_SHARE,
    MIN_LETTERS_DETECT,
    MIN_LETTERS_OFF_LANGUAGE,
    OFF_LANGUAGE_CONFIDENCE,
    detect_language,
    is_off_language,
    language_ranking,
)
from workbench.judges.scripts import char_script, script_profile

__all__ = [
    "CLOSE_PAIR_CONFIDENCE",
    "EXPECTED_MASS_CEILING",
    "FAMILIES",
    "MARKER_SHARE",
    "MIN_LETTERS_DETECT",
    "MIN_LETTERS_OFF_LANGUAGE",
    "OFF_LANGUAGE_CONFIDENCE",
    "TEXTCHECKS_VERSION",
    "char_script",
    "degeneracy",
    "detect_language",
    "is_off_language",
    "language_ranking",
    "script_profile",
]

# part of every judge's key: bump it when any check below changes what it says about a reply
TEXTCHECKS_VERSION = "textchecks-2"
