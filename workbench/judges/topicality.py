"""How much of a request a reply talks about: the lexical overlap the heuristic judge reads as topicality.

Both texts are normalised (:func:`workbench.judges.cuematch.normalize`) and cut into content words: runs of
letters that are not function words of the languages in play (the ``[words] function`` lists of the cue
files) and have at least three letters; in Han text every character that is not a function character
(的, 了, 我, 人, 时 ...) is a unit of its own, worth half a word (a Chinese word is one or two
characters, and a reply that shares one character with the request by chance is not on its topic). A
word is represented by its letter
4-grams (a three- or four-letter word by itself), so inflection, Irish initial mutation and compounding
still match ("forklar" / "forklaring", "múinteoir" / "mhúinteoir", "escrevendo" / "escrever"): a word
of one text is *found* in the other when at least half of its 4-grams occur there, or when a word there
begins with the same five letters ("printing" / "prints").

:func:`overlap` gives

``coverage``  the share of the request's content words found in the reply (what of the request it takes up)
``found``     how many of them (Han characters counting half)
``novelty``   the share of the reply's content words not found in the request (what it adds)

An echo repeats the request and adds little (high coverage, low novelty); an off-topic reply is fluent
but takes up (almost) nothing of the request (coverage near 0). Both are only meaningful when the two
texts are in the same language: across languages only names, numbers and loanwords can match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from workbench.judges.cuematch import HAN, normalize

NGRAM = 4
MIN_WORD = 3  # letters (code points) a non-Han content word needs
FOUND_SHARE = 0.5  # share of a word's 4-grams the other text must hold for the word to be found
PREFIX = 5  # ... or letters a word of the other text must begin with the same

# A run of word characters (letters and combining marks of any script, Devanagari signs), or one Han
# character; digits and underscores are left out.
_TOKEN = re.compile(
    r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|(?:[^\W\d_\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[\u0300-\u036f\u0900-\u0963])+"
    r"(?:'[^\W\d_]+)?"
)


@dataclass(frozen=True)
class Topicality:
    """The overlap of a reply with its request (see the module docstring)."""

    coverage: float  # share of the request's content words found in the reply
    found: float  # how many of the request's content words the reply takes up (Han characters: half)
    novelty: float  # share of the reply's content words not found in the request
    prompt_words: float  # content words of the request (Han characters: half)
    reply_words: float  # content words of the reply
    shared: tuple[str, ...]  # the request's words found in the reply (at most 12, for evidence)

    def as_dict(self) -> dict[str, object]:
        return {
            "coverage": round(self.coverage, 3),
            "found": self.found,
            "novelty": round(self.novelty, 3),
            "prompt_words": self.prompt_words,
            "reply_words": self.reply_words,
            "shared": list(self.shared),
        }


def _grams(word: str) -> frozenset[str]:
    if len(word) <= NGRAM:
        return frozenset((word,))
    return frozenset(word[i : i + NGRAM] for i in range(len(word) - NGRAM + 1))


HAN_WEIGHT = 0.5  # a Han character counts as half a word

# Irish changes the start of a word after many particles: elision (m'fhón), eclipsis (gcóras, bhfuil,
# n-oíche) and lenition (mhúinteoir, fhón); the root is what the request and the reply share
_GA_ELISION = ("m'", "d'", "b'")
_GA_ECLIPSIS = (("bhf", "f"), ("mb", "b"), ("gc", "c"), ("nd", "d"), ("ng", "g"), ("bp", "p"), ("dt", "t"))
_GA_PREFIX = ("n-", "t-", "h-")


def demutate_irish(word: str) -> str:
    """The Irish word without elision, eclipsis or lenition at its start ("m'fhon" -> "fon")."""
    for e in _GA_ELISION:
        if word.startswith(e):
            word = word[len(e) :]
    for e in _GA_PREFIX:
        if word.startswith(e):
            word = word[len(e) :]
    for prefix, root in _GA_ECLIPSIS:
        if word.startswith(prefix) and len(word) > len(prefix) + 1:
            return root + word[len(prefix) :]
    if len(word) > 3 and word[1] == "h" and word[0] in "bcdfgmpst":
        return word[0] + word[2:]
    return word


def content_words(
    text: str, function_words: frozenset[str], *, normalised: bool = False, irish: bool = False
) -> list[str]:
    """The content words of ``text`` in order, repeats kept (Han: single content characters); with
    ``irish``, word starts are demutated (:func:`demutate_irish`)."""
    if not normalised:
        text = normalize(text)
    words: list[str] = []
    for m in _TOKEN.finditer(text):
        tok = m.group(0)
        if HAN.match(tok):
            if tok not in function_words:
                words.append(tok)
            continue
        tok = tok.strip("'")
        if tok in function_words:
            continue
        if irish:
            tok = demutate_irish(tok)
        if len(tok) >= MIN_WORD and tok not in function_words:
            words.append(tok)
    return words


def _weight(word: str) -> float:
    return HAN_WEIGHT if len(word) == 1 and HAN.match(word) else 1.0


def _found(words: Iterable[str], other: set[str], prefixes: set[str]) -> list[bool]:
    out = []
    for w in words:
        grams = _grams(w)
        hits = sum(g in other for g in grams)
        out.append((hits >= FOUND_SHARE * len(grams) and hits > 0) or (len(w) >= PREFIX and w[:PREFIX] in prefixes))
    return out


def _prefixes(words: Iterable[str]) -> set[str]:
    return {w[:PREFIX] for w in words if len(w) >= PREFIX}


def overlap(
    prompt: str, reply: str, function_words: frozenset[str], *, normalised: bool = False, irish: bool = False
) -> Topicality:
    """How much of ``prompt`` the ``reply`` takes up, and how much it adds (see the module docstring);
    ``irish``: demutate word starts first (the texts are in Irish)."""
    p_words = list(dict.fromkeys(content_words(prompt, function_words, normalised=normalised, irish=irish)))
    r_words = list(dict.fromkeys(content_words(reply, function_words, normalised=normalised, irish=irish)))
    p_grams = {g for w in p_words for g in _grams(w)}
    r_grams = {g for w in r_words for g in _grams(w)}
    p_found = _found(p_words, r_grams, _prefixes(r_words))
    r_found = _found(r_words, p_grams, _prefixes(p_words))
    p_weight = [_weight(w) for w in p_words]
    r_weight = [_weight(w) for w in r_words]
    found = sum(wt for wt, f in zip(p_weight, p_found, strict=True) if f)
    coverage = found / sum(p_weight) if p_words else 0.0
    r_found_weight = sum(wt for wt, f in zip(r_weight, r_found, strict=True) if f)
    novelty = 1.0 - r_found_weight / sum(r_weight) if r_words else 0.0
    shared = tuple(w for w, f in zip(p_words, p_found, strict=True) if f)[:12]
    return Topicality(coverage, found, novelty, sum(p_weight), sum(r_weight), shared)
