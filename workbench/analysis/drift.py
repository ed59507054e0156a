"""Representation drift per (fine-tuned cell, evaluation language): the mean over prompts of the cosine
distance between the cell's and its base's pooled last-layer states (the drift stage's rows), with a
95% t-interval over prompts. 0: the prompt is represented as the base did; larger: moved further."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from workbench.analysis.cellrows import CellLangRow, group_items

MEASURE = "drift_cosine"


@dataclass
class DriftRow(CellLangRow):
    prompts: int = 0
    mean: float | None = None  # mean cosine distance, fine-tuned vs base
    ci_low: float | None = None
    ci_high: float | None = None
    cell: str = ""
    note: str = ""


def rows_from_items(items: list[dict[str, Any]], eval_langs: list[str] | None = None) -> list[DriftRow]:
    from scipy import stats

    per, cells, _ = group_items(items)
    out = []
    for (cid, lang), by_item in per.items():
        values = [v for v, _ in by_item.values()]
        if eval_langs is not None and lang not in eval_langs:
            continue
        c = cells[cid]
        row = DriftRow(c["model"], c["finetune_lang"], c["seed"], c["epochs"], lang, len(values), cell=cid)
        row.mean = sum(values) / len(values)
        if len(values) > 1 and max(values) > min(values):
            ci = stats.ttest_1samp(values, 0.0).confidence_interval(0.95)
            row.ci_low, row.ci_high = float(ci.low), float(ci.high)
        out.append(row)
    return sorted(out, key=lambda r: (r.model, r.finetune_lang or "", r.seed or 0, r.epochs or 0, r.eval_lang))


def compute(db, study_id: int, eval_langs: list[str] | None = None) -> list[DriftRow]:
    from workbench.store import read

    return rows_from_items(read.current_measure_rows(db, study_id, MEASURE), eval_langs)
