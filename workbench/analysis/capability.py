"""Capability per (cell, evaluation language): perplexity on held-out benign answers, and its change
against the base paired by item.

- ``perplexity``: exp(sum of the answers' negative log-likelihoods / their tokens), token-weighted, as
  llama.cpp's perplexity tool computes it; it compares cells of one model within one language (the
  tokenizer is the same), not languages or models.
- ``delta_nll``: the change against the model's base cell, paired by item: the mean over items of
  (fine-tuned - base) negative log-likelihood per answer token, in nats, with a 95% t-interval
  (scipy's one-sample t on the per-item differences). Positive: the fine-tune predicts good answers
  worse. ``ratio_vs_base``: perplexity of the fine-tune over the base's on the paired items
  (token-weighted, like ``perplexity``; equal to the two perplexities' ratio when every item is paired).
- A language the held-out set has no answers in is a row with no numbers and a note, never a guess.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from workbench.analysis.cellrows import CellLangRow, group_items, languages

MEASURE = "answer_nll"
NOT_MEASURED = "not measured: the held-out set has no answers in this language"
NO_BASE = "no base: the model's base cell has no capability measurement"


@dataclass
class CapabilityRow(CellLangRow):
    items: int = 0
    tokens: int = 0
    perplexity: float | None = None
    base_perplexity: float | None = None
    paired_items: int = 0
    delta_nll: float | None = None  # mean per-token NLL change vs base (nats), paired by item
    delta_ci_low: float | None = None
    delta_ci_high: float | None = None
    ratio_vs_base: float | None = None  # perplexity ratio fine-tuned / base over the paired items (token-weighted)
    cell: str = ""
    note: str = ""


def paired_change(ft: dict[str, tuple[float, int]], base: dict[str, tuple[float, int]]):
    """(items, mean, ci_low, ci_high) of the per-item change in NLL per token, fine-tuned minus base,
    over the items both have; the interval is None with fewer than two items (or no spread)."""
    from scipy import stats

    common = sorted(set(ft) & set(base))
    d = [ft[i][0] / ft[i][1] - base[i][0] / base[i][1] for i in common if ft[i][1] and base[i][1]]
    if not d:
        return 0, None, None, None
    mean = sum(d) / len(d)
    if len(d) < 2 or max(d) == min(d):
        return len(d), mean, None, None
    ci = stats.ttest_1samp(d, 0.0).confidence_interval(0.95)
    return len(d), mean, float(ci.low), float(ci.high)


def rows_from_items(items: list[dict[str, Any]], eval_langs: list[str] | None = None) -> list[CapabilityRow]:
    """Capability rows from :func:`workbench.store.read.current_measure_rows`."""
    per, cells, base_of = group_items(items)
    out: list[CapabilityRow] = []
    for cid, c in cells.items():
        for lang in languages(per, cid, c, eval_langs):
            row = CapabilityRow(c["model"], c["finetune_lang"], c["seed"], c["epochs"], lang, cell=cid)
            mine = per.get((cid, lang))
            if not mine:
                row.note = NOT_MEASURED
                out.append(row)
                continue
            row.items = len(mine)
            row.tokens = sum(n for _, n in mine.values())
            row.perplexity = math.exp(sum(v for v, _ in mine.values()) / row.tokens) if row.tokens else None
            base = per.get((base_of.get(c["model"], ""), lang))
            if base:
                b_tokens = sum(n for _, n in base.values())
                row.base_perplexity = math.exp(sum(v for v, _ in base.values()) / b_tokens) if b_tokens else None
            if c["kind"] != "base":
                if not base:
                    row.note = NO_BASE
                else:
                    row.paired_items, row.delta_nll, row.delta_ci_low, row.delta_ci_high = paired_change(mine, base)
                    both = [i for i in mine if i in base]
                    tokens = sum(mine[i][1] for i in both)
                    if both and tokens:
                        # exp of the token-weighted NLL difference: ppl(ft) / ppl(base) on the same items
                        row.ratio_vs_base = math.exp(sum(mine[i][0] - base[i][0] for i in both) / tokens)
            out.append(row)
    return sorted(out, key=lambda r: (r.model, r.finetune_lang is not None, r.finetune_lang or "", r.seed or 0,
                                      r.epochs or 0, r.eval_lang))  # fmt: skip


def compute(db, study_id: int, eval_langs: list[str] | None = None) -> list[CapabilityRow]:
    from workbench.store import read

    return rows_from_items(read.current_measure_rows(db, study_id, MEASURE), eval_langs)


@dataclass
class Decoupling:
    """Across fine-tuned (cell, evaluation language) points: how the change in compliance goes with the
    change in capability. Pearson's r with its 95% interval (Fisher z, scipy) and Spearman's rho; None
    where fewer than three points (or no spread) leave nothing to compute."""

    model: str | None  # None: every model pooled
    judge: str
    points: int
    against: str = "capability"  # what the change in compliance is correlated with: capability or drift
    pearson_r: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    spearman_rho: float | None = None
    note: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def decoupling(rate_rows: list, cap_rows: list[CapabilityRow], drift_rows: list | None = None) -> list[Decoupling]:
    """Per judge (all models pooled, then per model): correlation of ``delta_vs_base`` (compliance, paired
    by prompt) with ``delta_nll`` (capability, paired by item), and with the mean representation drift
    when ``drift_rows`` are given, over the fine-tuned cells and languages where both were measured."""
    out = _correlate(rate_rows, {(r.cell, r.eval_lang): r.delta_nll for r in cap_rows}, "capability")
    if drift_rows:
        out += _correlate(rate_rows, {(r.cell, r.eval_lang): r.mean for r in drift_rows}, "drift")
    return out


def _correlate(rate_rows: list, other: dict, against: str) -> list[Decoupling]:
    from scipy import stats

    cap = {k: v for k, v in other.items() if v is not None}
    out: list[Decoupling] = []
    for judge in sorted({r.judge for r in rate_rows}):
        pairs = [
            (r.model, r.delta_vs_base, cap[(r.cell, r.eval_lang)])
            for r in rate_rows
            if r.judge == judge and not r.is_base and r.delta_vs_base is not None and (r.cell, r.eval_lang) in cap
        ]
        models = sorted({m for m, _, _ in pairs})
        for model in [None, *models] if len(models) > 1 else [None]:
            xs = [(a, b) for m, a, b in pairs if model is None or m == model]
            d = Decoupling(model, judge, len(xs), against)
            if len(xs) < 3:
                d.note = "fewer than three cells with both changes measured"
            elif len({a for a, _ in xs}) < 2 or len({b for _, b in xs}) < 2:
                d.note = "one of the changes does not vary across cells"
            else:
                a, b = [x for x, _ in xs], [y for _, y in xs]
                res = stats.pearsonr(a, b)
                d.pearson_r, d.p_value = float(res.statistic), float(res.pvalue)
                if len(xs) > 3:
                    ci = res.confidence_interval(0.95)
                    d.ci_low, d.ci_high = float(ci.low), float(ci.high)
                d.spearman_rho = float(stats.spearmanr(a, b).statistic)
            out.append(d)
    return out
