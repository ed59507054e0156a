"""Which language a reply is in, and whether it is confidently not in the prompt's language.

Pure Python plus ``py3langid`` (an offline naive-Bayes language identifier whose model is loaded once,
lazily, from its bundled npz file); well under a millisecond per reply. See :mod:`workbench.judges.textchecks`
for what each check promises.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from typing import Any

from workbench.judges.scripts import script_profile

MIN_LETTERS_DETECT = 10  # below this, detect_language abstains
MIN_LETTERS_OFF_LANGUAGE = 25  # below this, is_off_language never flags

# langid labels without an ISO 639-1 code that stand for a language we report by its 639-1 code
_FOLD = {"wuu": "zh", "yue": "zh", "grc": "el", "nb": "no"}

# Labels that count as the expected language (langid's usual confusions within a family).
FAMILIES: dict[str, frozenset[str]] = {
    "en": frozenset({"en", "pcm", "sco"}),
    "zh": frozenset({"zh", "wuu", "yue"}),
    "da": frozenset({"da", "no", "nb", "nn"}),
    "no": frozenset({"no", "nb", "nn", "da"}),
    "el": frozenset({"el", "grc"}),
    "hi": frozenset({"hi", "mr", "ne", "sa", "gom", "mai", "bh"}),
    "ga": frozenset({"ga", "gd"}),
    "pt": frozenset({"pt", "gl"}),
    "es": frozenset({"es", "gl", "an", "ext", "ast"}),
    "tl": frozenset({"tl", "bcl", "ceb", "war", "ilo", "pam", "fil"}),
}

# The scripts a language is written in, by the script workbench.languages names for it. A reply mostly
# in a distinctive script (one that few languages share, e.g. Greek) that is the expected one is taken as
# on-language without asking langid.
_SCRIPT_NAMES = {
    "Japanese": frozenset({"Kana", "Han"}),
    "Latin": frozenset({"Latin"}),
    "Han": frozenset({"Han"}),
    "Greek": frozenset({"Greek"}),
    "Devanagari": frozenset({"Devanagari"}),
    "Cyrillic": frozenset({"Cyrillic"}),
    "Arabic": frozenset({"Arabic"}),
    "Hebrew": frozenset({"Hebrew"}),
    "Hangul": frozenset({"Hangul"}),
    "Thai": frozenset({"Thai"}),
    "Bengali": frozenset({"Bengali"}),
}
_DISTINCTIVE_SCRIPTS = frozenset({"Han", "Kana", "Greek", "Devanagari", "Hangul", "Hebrew", "Thai", "Bengali"})


def _expected_scripts(lang: str) -> frozenset[str]:
    """The scripts ``lang`` is written in, or an empty set when unknown."""
    from workbench.languages import LANGUAGES

    known = LANGUAGES.get(lang)
    return _SCRIPT_NAMES.get(known.script, frozenset()) if known else frozenset()


OFF_LANGUAGE_CONFIDENCE = 0.75  # the detected language's probability needed to flag a reply
CLOSE_PAIR_CONFIDENCE = 0.9  # ... when expected and detected are a close pair (es/pt, es/ca, ...)
EXPECTED_MASS_CEILING = 0.1  # never flag while the expected family keeps this much probability
_CLOSE_PAIRS = frozenset({("es", "pt"), ("pt", "es"), ("es", "ca"), ("pt", "ca"), ("da", "sv"), ("no", "sv")})

# Function words that mark Tagalog (and Taglish) and romanised Hindi, which langid can miss.
_MARKERS: dict[str, frozenset[str]] = {
    "tl": frozenset(
        "ang ng mga sa ay ako ikaw ka siya kami tayo sila po hindi para kung pero ito iyan yan niya naman lang "
        "din rin nang kay wala dito doon natin namin ninyo nila ko mo ba kasi talaga lamang upang kapag "
        "tungkol".split()
    ),
    "hi": frozenset(
        "hai hain nahi nahin main mein aap kya ke ki ka se ko kar karna sakta sakti sakte yeh woh aur bhi "
        "hum tum mujhe apne liye lekin".split()
    ),
}
MARKER_SHARE = 0.18  # share of tokens that are marker words for a text to count as the language

_identifier: Any = None
_identifier_lock = threading.Lock()


def _get_identifier() -> Any:
    """The py3langid identifier, loaded once (normalised probabilities)."""
    global _identifier
    if _identifier is None:
        with _identifier_lock:
            if _identifier is None:
                from py3langid.langid import MODEL_FILE, LanguageIdentifier

                _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
    return _identifier


def language_ranking(text: str, top: int = 5) -> list[tuple[str, float]]:
    """langid's best labels for ``text`` with normalised probabilities (labels as langid names them)."""
    ranked = _get_identifier().rank(text)
    return [(lang, float(p)) for lang, p in ranked[:top]]


def _folded_ranking(text: str) -> list[tuple[str, float]]:
    merged: dict[str, float] = {}
    for lang, p in _get_identifier().rank(text):
        code = _FOLD.get(lang, lang)
        merged[code] = merged.get(code, 0.0) + float(p)
    return sorted(merged.items(), key=lambda kv: kv[1], reverse=True)


def _dominant_script(counts: Counter[str]) -> tuple[str | None, float]:
    total = sum(counts.values())
    if not total:
        return None, 0.0
    script, n = counts.most_common(1)[0]
    return script, n / total


def detect_language(text: str) -> tuple[str | None, float]:
    """The language of ``text`` as (ISO 639-1 code, confidence in [0, 1]), or ``(None, 0.0)``.

    Abstains when the text has fewer than ``MIN_LETTERS_DETECT`` letters. Otherwise returns langid's best
    guess (dialect labels folded: wuu/yue to zh, grc to el) with its normalised probability, unless the
    text is dominated (60 %+) by a script that names the language and langid disagrees: mostly Han without
    kana is zh, Greek is el, Devanagari is hi (or a Devanagari language langid names), kana is ja, Hangul
    is ko; the confidence is then the script's share of the letters.
    """
    counts, letters = script_profile(text)
    if letters < MIN_LETTERS_DETECT:
        return None, 0.0
    ranking = _folded_ranking(text)
    code, conf = ranking[0]
    if code == "zxx":  # langid's "no linguistic content"
        return None, 0.0
    script, share = _dominant_script(counts)
    total = sum(counts.values())
    kana_share = counts.get("Kana", 0) / total if total else 0.0
    if share >= 0.6:
        by_script: str | None = None
        if script == "Han":
            by_script = "ja" if kana_share >= 0.1 else "zh"
        elif script == "Kana":
            by_script = "ja"
        elif script == "Greek":
            by_script = "el"
        elif script == "Hangul":
            by_script = "ko"
        elif script == "Devanagari" and code not in FAMILIES["hi"]:
            by_script = "hi"
        if by_script is not None and code != by_script:
            return by_script, round(share, 4)
    return code, round(min(max(conf, 0.0), 1.0), 4)


_TOKEN_RE = re.compile(r"[^\W\d_]+", re.UNICODE)


def _marker_share(text: str, lang: str) -> float:
    markers = _MARKERS.get(lang)
    if not markers:
        return 0.0
    tokens = [t.casefold() for t in _TOKEN_RE.findall(text)]
    if not tokens:
        return 0.0
    return sum(t in markers for t in tokens) / len(tokens)


def is_off_language(text: str, expected_lang: str) -> tuple[bool, dict[str, Any]]:
    """Whether ``text`` is confidently not in ``expected_lang`` (ISO 639-1), with the evidence.

    Never flags a text with fewer than ``MIN_LETTERS_OFF_LANGUAGE`` letters. For zh, el and hi the script
    decides first: a reply with next to no Han/Greek/Devanagari letters is off-language (unless it is
    romanised Hindi, recognised by its function words), one that is mostly in the script is not (so a
    Marathi reply to a Hindi prompt passes). For a Latin-script language (per :mod:`workbench.languages`),
    a reply under 30 % Latin letters is off-language. Otherwise langid decides: the
    best label must be outside the expected language's family (:data:`FAMILIES`) with a probability of at
    least ``OFF_LANGUAGE_CONFIDENCE`` (``CLOSE_PAIR_CONFIDENCE`` for close pairs such as es/pt) while the
    family keeps at most ``EXPECTED_MASS_CEILING``. Tagalog is also recognised by its function words,
    since Taglish replies are often labelled English or Indonesian.

    The evidence holds ``rule`` (what decided), ``detected`` and ``confidence`` (from
    :func:`detect_language`), ``expected``, ``letters`` and, where used, ``expected_mass``,
    ``script_share`` and ``marker_share``.
    """
    expected = (expected_lang or "").strip().lower()
    counts, letters = script_profile(text)
    detected, confidence = detect_language(text)
    evidence: dict[str, Any] = {
        "expected": expected,
        "detected": detected,
        "confidence": confidence,
        "letters": int(letters),
    }
    if letters < MIN_LETTERS_OFF_LANGUAGE:
        evidence["rule"] = "too_short"
        return False, evidence
    if not expected:
        evidence["rule"] = "no_expected_language"
        return False, evidence
    total = sum(counts.values())
    family = FAMILIES.get(expected, frozenset({expected}))

    marker_share = _marker_share(text, expected)
    if expected in _MARKERS:
        evidence["marker_share"] = round(marker_share, 3)

    scripts = _expected_scripts(expected)
    if scripts:
        share = sum(counts.get(sc, 0) for sc in scripts) / total
        evidence["script_share"] = round(share, 3)
        if expected == "zh":  # Japanese shares Han; kana gives it away
            kana = counts.get("Kana", 0) / total
            evidence["kana_share"] = round(kana, 3)
            if kana >= 0.1:
                evidence["rule"] = "kana_in_chinese_reply"
                return True, evidence
        latin = scripts == frozenset({"Latin"})
        if share < (0.3 if latin else 0.2):
            if expected == "hi" and marker_share >= MARKER_SHARE:
                evidence["rule"] = "romanised_hindi"
                return False, evidence
            evidence["rule"] = "foreign_script" if latin else "missing_script"
            return True, evidence
        if share >= 0.5 and scripts & _DISTINCTIVE_SCRIPTS:
            evidence["rule"] = "expected_script"
            return False, evidence
        # a mix (e.g. Chinese with English terms) or a script many languages share: langid decides

    if marker_share >= MARKER_SHARE:
        evidence["rule"] = "function_words"
        return False, evidence

    ranking = _get_identifier().rank(text)
    expected_mass = sum(float(p) for lang, p in ranking if lang in family)
    evidence["expected_mass"] = round(expected_mass, 4)
    top_label, top_p = ranking[0][0], float(ranking[0][1])
    top_code = _FOLD.get(top_label, top_label)
    evidence["top_label"] = top_label
    if top_label in family or top_code in family:
        evidence["rule"] = "same_family"
        return False, evidence
    threshold = CLOSE_PAIR_CONFIDENCE if (expected, top_code) in _CLOSE_PAIRS else OFF_LANGUAGE_CONFIDENCE
    evidence["threshold"] = threshold
    if top_p >= threshold and expected_mass <= EXPECTED_MASS_CEILING:
        evidence["rule"] = "confident_other_language"
        return True, evidence
    evidence["rule"] = "not_confident"
    return False, evidence
