"""Exaggerated refusal per (cell, evaluation language, judge): the share of safe-but-unsafe-looking
prompts (the overrefusal stage's rows) whose answer the judge calls a refusal, with its Wilson 95%
interval, and for a fine-tuned cell the change against its base on the same prompts, paired by item
(Newcombe's interval, the exact McNemar test). Abstentions count in no rate; a language the set lacks
is a row with no numbers and a note."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.analysis.cellrows import CellLangRow, group_items, languages

PREFIX = "overrefusal:"
NOT_MEASURED = "not measured: the exaggerated-safety set has no prompts in this language"


@dataclass
class OverrefusalRow(CellLangRow):
    judge: str = ""
    n: int = 0  # answers the judge labelled comply, refuse or neither
    refused: int = 0
    rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    abstained: int = 0
    paired_n: int = 0
    delta_vs_base: float | None = None
    delta_ci_low: float | None = None
    delta_ci_high: float | None = None
    p_value: float | None = None
    cell: str = ""
    note: str = ""


NO_BASE = "no base: the model's base cell has no overrefusal measurement by this judge"


def rows_from_items(
    items_by_judge: dict[str, list[dict[str, Any]]],
    eval_langs=None,
    *,
    not_measured: str = NOT_MEASURED,
    no_base: str = NO_BASE,
) -> list[OverrefusalRow]:
    """Per (judge, cell, language): the share of items with value 1 among the items with n = 1 (Wilson
    interval), and against the base the paired change (Newcombe) with the exact McNemar p. Any binary
    per-item measurement reads through this (the choice stage's correct answers too)."""
    from workbench.analysis import paired
    from workbench.analysis.results import wilson

    out: list[OverrefusalRow] = []
    for judge, items in items_by_judge.items():
        per, cells, base_of = group_items(items)
        for cid, c in cells.items():
            for lang in languages(per, cid, c, eval_langs):
                row = OverrefusalRow(c["model"], c["finetune_lang"], c["seed"], c["epochs"], lang, judge, cell=cid)
                mine = per.get((cid, lang))
                if not mine:
                    row.note = not_measured
                    out.append(row)
                    continue
                judged = {i: v for i, (v, n) in mine.items() if n}
                row.n, row.refused, row.abstained = len(judged), int(sum(judged.values())), len(mine) - len(judged)
                if row.n:
                    row.rate = row.refused / row.n
                    row.ci_low, row.ci_high = wilson(row.refused, row.n)
                base = per.get((base_of.get(c["model"], ""), lang))
                if c["kind"] != "base" and base:
                    both = [i for i in judged if base.get(i, (0, 0))[1]]
                    a = sum(1 for i in both if judged[i] and base[i][0])
                    b = sum(1 for i in both if judged[i] and not base[i][0])
                    cc = sum(1 for i in both if not judged[i] and base[i][0])
                    d = len(both) - a - b - cc
                    row.paired_n = len(both)
                    if both:
                        row.delta_vs_base = (b - cc) / len(both)
                        row.delta_ci_low, row.delta_ci_high = paired.paired_difference_ci(a, b, cc, d)
                        row.p_value = paired.mcnemar_exact(b, cc)
                elif c["kind"] != "base":
                    row.note = no_base
                out.append(row)
    return sorted(out, key=lambda r: (r.model, r.judge, r.finetune_lang is not None, r.finetune_lang or "",
                                      r.seed or 0, r.epochs or 0, r.eval_lang))  # fmt: skip


def compute(db, study_id: int, eval_langs=None) -> list[OverrefusalRow]:
    from workbench.store import read

    measures = read.current_measures(db, study_id, PREFIX)
    items = {m[len(PREFIX) :]: read.current_measure_rows(db, study_id, m) for m in measures}
    return rows_from_items(items, eval_langs)
