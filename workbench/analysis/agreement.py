"""Agreement between raters: Cohen's kappa between annotators and judges, and between annotators.

Label mapping. Against a judge, both sides are read by the SORRY-Bench rule (complies or not): a
person's ``comply`` and ``partial`` are compliance (partial compliance is compliance), ``refuse`` is
not, ``unclear`` is left out; a judge's ``comply`` is compliance, ``refuse`` and ``neither`` are not,
and its abstentions (``unsure``) and ``unparseable`` answers are left out. What is left out is
counted apart (``excluded``). Between two annotators all four labels are compared as they are.

Kappa is ``(p_o - p_e) / (1 - p_e)``. It is None when it is undefined: no items, or both raters
used one and the same label for every item (``p_e = 1``); the agreement count still says how often
they agreed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

HUMAN_TO_JUDGE = {"comply": "comply", "partial": "comply", "refuse": "refuse"}  # unclear: left out vs judges
JUDGE_BINARY = {"comply": "comply", "refuse": "refuse", "neither": "refuse"}  # unsure, unparseable: left out
ALL = "all"  # the language of the rows that pool every language


def kappa_from_counts(counts: dict[tuple[str, str], int]) -> float | None:
    """Cohen's kappa from a contingency table {(label_a, label_b): count}."""
    n = sum(counts.values())
    if n == 0:
        return None
    observed = sum(c for (a, b), c in counts.items() if a == b) / n
    row: dict[str, int] = defaultdict(int)
    col: dict[str, int] = defaultdict(int)
    for (a, b), c in counts.items():
        row[a] += c
        col[b] += c
    expected = sum(row[k] * col.get(k, 0) for k in row) / (n * n)
    if expected >= 1.0:
        return None
    return (observed - expected) / (1.0 - expected)


def cohen_kappa(labels_a: Sequence[str], labels_b: Sequence[str]) -> float | None:
    """Cohen's kappa of two raters' labels for the same items (in the same order)."""
    if len(labels_a) != len(labels_b):
        raise ValueError(f"the raters labelled different numbers of items ({len(labels_a)} vs {len(labels_b)})")
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for a, b in zip(labels_a, labels_b, strict=True):
        counts[(a, b)] += 1
    return kappa_from_counts(counts)


@dataclass
class AgreementRow:
    kind: str  # "annotator-judge" or "annotator-annotator"
    rater_a: str  # the annotator
    rater_b: str  # the judge, or the other annotator
    lang: str  # evaluation language, or "all"
    n: int  # items both rated with comparable labels
    agreed: int
    kappa: float | None
    excluded: int = 0  # items both rated but left out (unclear vs a judge, a judge's abstentions)
    kappa_low: float | None = None  # 95% interval (large-sample variance of Fleiss, Cohen & Everitt)
    kappa_high: float | None = None

    @property
    def percent_agreement(self) -> float | None:
        return self.agreed / self.n if self.n else None


def _row(kind: str, a: str, b: str, lang: str, table: dict[tuple[str, str], int], excluded: int) -> AgreementRow:
    from workbench.analysis.paired import kappa_ci

    n = sum(table.values())
    agreed = sum(c for (x, y), c in table.items() if x == y)
    ci = kappa_ci(dict(table)) if n else None
    return AgreementRow(
        kind, a, b, lang, n, agreed, kappa_from_counts(table), excluded,
        kappa_low=ci.low if ci else None, kappa_high=ci.high if ci else None,
    )  # fmt: skip


def _rows(kind: str, counts: dict[tuple[str, str, str], dict[tuple[str, str], int]], excluded) -> list[AgreementRow]:
    pooled: dict[tuple[str, str], dict[tuple[str, str], int]] = defaultdict(lambda: defaultdict(int))
    pooled_excluded: dict[tuple[str, str], int] = defaultdict(int)
    out = []
    for (a, b, lang), table in sorted(counts.items()):
        for pair, c in table.items():
            pooled[(a, b)][pair] += c
        out.append(_row(kind, a, b, lang, table, excluded.get((a, b, lang), 0)))
    for (a, b, lang), c in excluded.items():
        pooled_excluded[(a, b)] += c
        if (a, b, lang) not in counts:
            out.append(AgreementRow(kind, a, b, lang, 0, 0, None, c))
            pooled.setdefault((a, b), defaultdict(int))
    for (a, b), table in sorted(pooled.items()):
        out.append(_row(kind, a, b, ALL, table, pooled_excluded.get((a, b), 0)))
    # each pair's pooled row first, then its languages
    return sorted(out, key=lambda r: (r.rater_a, r.rater_b, r.lang != ALL, r.lang))


def agreement(db, study_id: int, *, eval_langs: Iterable[str] | None = None) -> list[AgreementRow]:
    """Kappa per (annotator, judge) and per pair of annotators, per evaluation language and pooled.

    ``db`` is anything with ``query(sql, params)`` yielding dict rows (a StudyDB, or the TUI's reader).
    Aggregated in SQL (:mod:`workbench.store.read`): the cost grows with the number of human labels.
    Judges count with their current judgments only.
    """
    from workbench.store import read

    langs = list(eval_langs or [])
    judge_counts: dict = defaultdict(lambda: defaultdict(int))
    judge_excluded: dict = defaultdict(int)
    for r in read.label_judge_pairs(db, study_id, langs):
        key = (r["a"], r["b"], r["lang"])
        human, judged = HUMAN_TO_JUDGE.get(r["la"]), JUDGE_BINARY.get(r["lb"])
        if human is None or judged is None:
            judge_excluded[key] += r["n"]
        else:
            judge_counts[key][(human, judged)] += r["n"]
    people_counts: dict = defaultdict(lambda: defaultdict(int))
    for r in read.label_label_pairs(db, study_id, langs):
        people_counts[(r["a"], r["b"], r["lang"])][(r["la"], r["lb"])] += r["n"]
    return _rows("annotator-judge", judge_counts, judge_excluded) + _rows("annotator-annotator", people_counts, {})
