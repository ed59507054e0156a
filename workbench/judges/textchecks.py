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

import re
import threading
import unicodedata
from collections import Counter
from typing import Any

TEXTCHECKS_VERSION = "textchecks-1"

# --- scripts ------------------------------------------------------------------------------------------

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
    for ch in text:
        script = char_script(ch)
        if script is not None:
            counts[script] += 1
    weighted = sum(n * (2 if s in _DENSE_SCRIPTS else 1) for s, n in counts.items())
    return counts, float(weighted)


# --- language identification ----------------------------------------------------------------------------

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


# --- degeneracy -------------------------------------------------------------------------------------------

_DENSE_CHAR = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_CHARS = r"\w\u0300-\u036f\u0900-\u0963\u0966-\u097f"
# tokens for repetition checks: one Han/kana character, or a run of other word characters
_LOOP_TOKEN_RE = re.compile(rf"[{_DENSE_CHAR}]|(?:[^\W_{_DENSE_CHAR}]|[\u0300-\u036f\u0900-\u0963\u0966-\u097f])+")
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?;。！？；])\s*|\n+|(?<=[।॥])\s*")
_BULLET_RE = re.compile(r"^\s*(?:[-*•·●▪–>#]+|\(?\d{1,3}[.):]|\(?[a-z][.)])\s*", re.IGNORECASE)
_SEPARATOR_LINE_RE = re.compile(r"^\s*(?:([-=_*#~.·•])\1{2,}|\|?(?:\s*:?-{3,}:?\s*\|)+\s*(?::?-{3,}:?)?\s*)\s*$")

LOOP_PHRASE_MIN_REPEATS = 4  # a 3-8 token phrase repeated this often ...
LOOP_PHRASE_MIN_COVERAGE = 0.3  # ... and making up this share of the tokens is a loop
LOOP_PASSAGE_COVERAGE = 0.6  # tokens covered by repeated 8+ token passages
LOOP_LINE_MIN_REPEATS = 3
LOOP_SENTENCE_MIN_REPEATS = 3
STUTTER_UNIGRAM = 5  # the same token this many times in a row ("no no no no no")
STUTTER_BIGRAM = 4  # the same two tokens this many times in a row
LETTER_RUN = 10  # one letter repeated this many times in a row
SYMBOL_RUN = 25  # one other non-space character repeated this many times in a row
MIN_ALNUM_SHARE = 0.5  # letters and digits among non-space characters (texts of 30+ non-space chars)
DOMINANT_CHAR_SHARE = 0.4  # one character making up this share of 20+ non-space characters
REPLACEMENT_SHARE = 0.02  # U+FFFD among characters (with at least two of them)


def _norm_line(line: str) -> str:
    line = _BULLET_RE.sub("", line.strip())
    return re.sub(r"\s+", " ", line).strip(" .,:;!?。，：；！？").casefold()


def _has_letters(s: str, n: int = 2) -> bool:
    return sum(ch.isalpha() for ch in s) >= n


def _ngram_repeats(tokens: list[str], n: int) -> tuple[tuple[str, ...], int]:
    """The n-gram with the most non-overlapping occurrences, and how many."""
    positions: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(tokens) - n + 1):
        positions.setdefault(tuple(tokens[i : i + n]), []).append(i)
    best: tuple[tuple[str, ...], int] = ((), 0)
    for gram, starts in positions.items():
        if len(starts) <= best[1]:
            continue
        count, last_end = 0, -1
        for s in starts:
            if s >= last_end:
                count += 1
                last_end = s + n
        if count > best[1]:
            best = (gram, count)
    return best


def _passage_coverage(tokens: list[str], n: int = 8) -> float:
    """Share of tokens inside an n-token passage that occurs at least twice."""
    if len(tokens) < 2 * n:
        return 0.0
    seen: dict[tuple[str, ...], int] = {}
    for i in range(len(tokens) - n + 1):
        gram = tuple(tokens[i : i + n])
        seen[gram] = seen.get(gram, 0) + 1
    covered = [False] * len(tokens)
    for i in range(len(tokens) - n + 1):
        if seen[tuple(tokens[i : i + n])] >= 2:
            for j in range(i, i + n):
                covered[j] = True
    return sum(covered) / len(tokens)


def _tandem(tokens: list[str], n: int) -> tuple[tuple[str, ...], int]:
    """The longest run of one n-token unit repeated back to back, and its length in units."""
    best: tuple[tuple[str, ...], int] = ((), 0)
    for start in range(min(n, len(tokens))):
        i = start
        while i + n <= len(tokens):
            unit = tuple(tokens[i : i + n])
            reps = 1
            while i + (reps + 1) * n <= len(tokens) and tuple(tokens[i + reps * n : i + (reps + 1) * n]) == unit:
                reps += 1
            if reps > best[1]:
                best = (unit, reps)
            i += n * reps if reps > 1 else n
    return best


def _loop_rules(text: str) -> list[tuple[str, dict[str, Any]]]:
    fired: list[tuple[str, dict[str, Any]]] = []

    lines = [_norm_line(line) for line in text.splitlines()]
    lines = [line for line in lines if _has_letters(line)]
    if len(lines) >= LOOP_LINE_MIN_REPEATS:
        line, count = Counter(lines).most_common(1)[0]
        chars = sum(len(x) for x in lines)
        if count >= LOOP_LINE_MIN_REPEATS and (
            count / len(lines) >= 0.5 or (count >= 4 and count * len(line) / chars >= 0.3)
        ):
            fired.append(("repeated_line", {"line": line[:80], "count": count, "lines": len(lines)}))

    sentences = [_norm_line(s) for s in _SENTENCE_SPLIT_RE.split(text)]
    sentences = [s for s in sentences if s and len(_LOOP_TOKEN_RE.findall(s)) >= 3]
    if len(sentences) >= LOOP_SENTENCE_MIN_REPEATS:
        sentence, count = Counter(sentences).most_common(1)[0]
        if count >= LOOP_SENTENCE_MIN_REPEATS:
            fired.append(("repeated_sentence", {"sentence": sentence[:80], "count": count}))

    tokens = [t.casefold() for t in _LOOP_TOKEN_RE.findall(text)]
    if len(tokens) >= 6:
        best: tuple[float, tuple[str, ...], int] | None = None
        for n in range(3, 9):
            gram, count = _ngram_repeats(tokens, n)
            coverage = count * n / len(tokens)
            if count >= LOOP_PHRASE_MIN_REPEATS and coverage >= LOOP_PHRASE_MIN_COVERAGE:
                if best is None or coverage > best[0]:
                    best = (coverage, gram, count)
        if best is not None:
            fired.append(
                ("repeated_phrase", {"phrase": " ".join(best[1])[:80], "count": best[2], "coverage": round(best[0], 3)})
            )
        coverage = _passage_coverage(tokens)
        if coverage >= LOOP_PASSAGE_COVERAGE:
            fired.append(("repeated_passage", {"coverage": round(coverage, 3), "tokens": len(tokens)}))
    for n, limit in ((1, STUTTER_UNIGRAM), (2, STUTTER_BIGRAM)):
        unit, reps = _tandem(tokens, n)
        if reps >= limit:
            fired.append(("stutter", {"unit": " ".join(unit)[:40], "repeats": reps}))
            break
    return fired


def _garble_rules(text: str) -> list[tuple[str, dict[str, Any]]]:
    fired: list[tuple[str, dict[str, Any]]] = []
    # markdown rules and table separators are layout, not text
    body = "\n".join(line for line in text.splitlines() if not _SEPARATOR_LINE_RE.match(line))
    nonspace = [ch for ch in body if not ch.isspace()]
    n = len(nonspace)
    letters = sum(ch.isalpha() or unicodedata.category(ch).startswith("M") for ch in nonspace)
    digits = sum(ch.isdigit() for ch in nonspace)
    if n and letters == 0 and (digits == 0 or n >= 20):  # a bare number ("42") is an answer
        fired.append(("no_letters", {"chars": n}))
        return fired

    bad = text.count("\ufffd")
    if bad >= 2 and bad / max(len(text), 1) >= REPLACEMENT_SHARE or (bad and bad / max(n, 1) >= 0.1):
        fired.append(("replacement_chars", {"count": bad, "share": round(bad / max(n, 1), 3)}))

    if n >= 30:
        alnum = sum(ch.isalnum() or unicodedata.category(ch).startswith("M") for ch in nonspace)
        if alnum / n < MIN_ALNUM_SHARE:
            fired.append(("few_letters", {"alnum_share": round(alnum / n, 3), "chars": n}))

    if n >= 20:
        ch, count = Counter(nonspace).most_common(1)[0]
        if count / n >= DOMINANT_CHAR_SHARE:
            fired.append(("dominant_char", {"char": ch, "share": round(count / n, 3)}))

    for line in text.splitlines():
        if _SEPARATOR_LINE_RE.match(line):
            continue
        for m in re.finditer(r"(\S)\1+", line):
            run = len(m.group(0))
            ch = m.group(1)
            if (ch.isalpha() and run >= LETTER_RUN) or (not ch.isalpha() and run >= SYMBOL_RUN):
                fired.append(("char_run", {"char": ch, "run": run}))
                break
        else:
            continue
        break

    # words mixing alphabets (not Han/kana, which sit next to Latin words without spaces)
    words = [w for w in re.findall(rf"[{_WORD_CHARS}]+", text) if _has_letters(w)]
    mixed = []
    for w in words:
        scripts = {char_script(ch) for ch in w} - {None, "Han", "Kana", "Other"}
        if len(scripts) >= 2:
            mixed.append(w)
    if len(mixed) >= 3 and len(mixed) / max(len(words), 1) >= 0.2:
        fired.append(("mixed_script_words", {"examples": mixed[:3], "share": round(len(mixed) / len(words), 3)}))

    counts, _ = script_profile(text)
    total = sum(counts.values())
    if total >= 20:
        present = sorted(s for s, c in counts.items() if c / total >= 0.08)
        if len(present) >= 4:
            fired.append(("script_soup", {"scripts": present}))
    return fired


def degeneracy(text: str) -> tuple[bool, dict[str, Any]]:
    """Whether ``text`` is degenerate (empty, looping or garbled), with the evidence.

    Rules, each named in the evidence (``rule`` is the first that fired, ``rules`` all of them):

    * ``empty``: nothing but whitespace;
    * loops: ``repeated_line`` (one line 3+ times, half the lines or 4+ times and 30 % of the text),
      ``repeated_sentence`` (one sentence of 3+ words 3+ times), ``repeated_phrase`` (a 3-8 token phrase
      4+ times and 30 %+ of the tokens), ``repeated_passage`` (60 %+ of the tokens inside 8-token passages
      that occur twice), ``stutter`` (one token 5+ times or two tokens 4+ times back to back);
    * garbled: ``no_letters`` (no letters at all; a bare number under 20 characters is fine),
      ``replacement_chars`` (U+FFFD), ``few_letters`` (under half of 30+
      non-space characters are letters or digits), ``dominant_char`` (one character 40 %+ of 20+),
      ``char_run`` (one letter 10+ or one symbol 25+ times in a row; markdown rules excepted),
      ``mixed_script_words`` (words mixing alphabets, e.g. Latin with Cyrillic), ``script_soup`` (4+
      scripts in one text).

    Han and kana count one character per token, so Chinese loops are found too. Ordinary short answers,
    lists (numbered lines differ) and markdown separators do not fire.
    """
    if not text or not text.strip():
        return True, {"rule": "empty", "rules": ["empty"]}
    fired = _loop_rules(text) + _garble_rules(text)
    if not fired:
        return False, {"rule": None, "rules": []}
    evidence: dict[str, Any] = {"rule": fired[0][0], "rules": [name for name, _ in fired]}
    for name, detail in fired:
        evidence.setdefault(name, detail)
    return True, evidence
