"""Whether a reply is degenerate: empty, looping (a line, a sentence or a phrase repeated) or garbled
(replacement characters, few letters, one character repeated, scripts mixed inside words, word salad,
tokenizer pieces).
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import Any

from workbench.judges.scripts import char_script, script_profile

_DENSE_CHAR = r"\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_WORD_CHARS = r"\w\u0300-\u036f\u0900-\u0963\u0966-\u097f"
# tokens for repetition checks: one Han/kana character, or a run of other word characters
_LOOP_TOKEN_RE = re.compile(rf"[{_DENSE_CHAR}]|(?:[^\W_{_DENSE_CHAR}]|[\u0300-\u036f\u0900-\u0963\u0966-\u097f])+")
_SENTENCE_SPLIT_RE = re.compile(r"(?<=[.!?;。！？；])\s*|\n+|(?<=[।॥])\s*")
_BULLET_RE = re.compile(r"^\s*(?:[-*•·●▪–>#]+|\(?\d{1,3}[.):]|\(?[a-z][.)])\s*", re.IGNORECASE)
# a markdown rule ("---", "***") or table separator ("|---|:--:|"), blank space around it; written so
# that no two runs of blank space meet (as "\s*(?:...)?\s*\s*$" did, which took cubic time in the
# spaces of a line such as "|---|" and many spaces)
_SEPARATOR_LINE_RE = re.compile(
    r"^\s*(?:([-=_*#~.·•])\1{2,}|(?:\|\s*)?:?-{3,}:?\s*\|(?:\s*:?-{3,}:?\s*\|)*(?:\s*:?-{3,}:?)?)\s*$"
)

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
SALAD_MIN_TOKENS = 8  # word salad is judged on texts of at least this many tokens ...
SALAD_SHARE = 0.2  # ... where this share of tokens repeats, or is a piece of, the token before it
SALAD_MIN_REPEATS = 3
ARTIFACT_MIN = 2  # tokenizer pieces ("<unk>", "##ing", "▁word") that make a text garbled

# pieces of a model's vocabulary that leak into text when decoding goes wrong: unknown/special tokens,
# WordPiece continuations ("##ing", not a markdown "## Heading"), SentencePiece and byte-level space marks
_ARTIFACT_RE = re.compile(r"<unk>|</?s>|<pad>|<mask>|<\|[a-z_]{2,20}\|>|(?<![#\w])##(?=\w)|\u2581|\u0120(?=\w)", re.I)


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


def _salad_rules(text: str) -> list[tuple[str, dict[str, Any]]]:
    """Word salad (tokens stammered or cut: "lock lock", "tel telefone", "的的的") and tokenizer pieces."""
    fired: list[tuple[str, dict[str, Any]]] = []
    artifacts = _ARTIFACT_RE.findall(text)
    tokens = [t.casefold() for t in _LOOP_TOKEN_RE.findall(text)]
    stammered = 0
    for prev, tok in zip(tokens, tokens[1:], strict=False):
        if tok == prev or (min(len(tok), len(prev)) >= 2 and (tok.startswith(prev) or prev.startswith(tok))):
            stammered += 1
    share = stammered / (len(tokens) - 1) if len(tokens) > 1 else 0.0
    if len(tokens) >= SALAD_MIN_TOKENS and stammered >= SALAD_MIN_REPEATS and share >= SALAD_SHARE:
        fired.append(("word_salad", {"stammered": stammered, "tokens": len(tokens), "share": round(share, 3)}))
    if len(artifacts) >= ARTIFACT_MIN or (artifacts and fired):
        fired.append(("tokenizer_artifacts", {"count": len(artifacts), "examples": sorted(set(artifacts))[:4]}))
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
      scripts in one text), ``word_salad`` (20 %+ of 8+ tokens repeat or are a piece of the token before
      them: "lock lock", "tel telefone", "的的的"), ``tokenizer_artifacts`` (two or more vocabulary pieces
      such as ``<unk>``, ``##ing``, ``\u2581word``, or one in word salad).

    Han and kana count one character per token, so Chinese loops are found too. Ordinary short answers,
    lists (numbered lines differ) and markdown separators do not fire.
    """
    if not text or not text.strip():
        return True, {"rule": "empty", "rules": ["empty"]}
    fired = _loop_rules(text) + _garble_rules(text) + _salad_rules(text)
    if not fired:
        return False, {"rule": None, "rules": []}
    evidence: dict[str, Any] = {"rule": fired[0][0], "rules": [name for name, _ in fired]}
    for name, detail in fired:
        evidence.setdefault(name, detail)
    return True, evidence
