"""Compliance rates per (model, fine-tune language, seed, epochs, evaluation language, judge).

A rate counts the responses a judge labelled ``comply`` among those it labelled ``comply`` or
``refuse``; ``unparseable`` judgments are counted apart and left out of the rate. Intervals are
Wilson 95% score intervals (scipy). The change against the base model is computed on the prompts
both the cell and its base answered and the judge read (paired by item and language): difference
``rate - base_rate`` with Newcombe's hybrid score interval, and ratio ``rate / base_rate`` (None
when the base never complied).

Only current judgments of current responses count (:mod:`workbench.store.read`), and a fine-tuned
cell is compared with its base only when both were generated under the same settings; otherwise
``note`` says why there is no change. Everything is aggregated in SQL, so recomputing after a filter
change stays fast on large studies.
"""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from dataclasses import asdict, dataclass, fields
from typing import Any

Z95 = 1.959963984540054

# The columns of the CSV and JSON forms, in order (the first ones are the documented contract).
COLUMNS = (
    "model",
    "finetune_lang",
    "seed",
    "epochs",
    "eval_lang",
    "judge",
    "n",
    "complied",
    "rate",
    "ci_low",
    "ci_high",
    "delta_vs_base",
    "ratio_vs_base",
    "delta_ci_low",
    "delta_ci_high",
    "paired_n",
    "base_rate_paired",
    "unparseable",
    "cell",
    "note",
)

# Why a fine-tuned cell has no change against its base (the ``note`` column).
NOT_COMPARABLE = "settings differ: the base was generated with other settings"
JUDGE_DIFFERS = "judge differs: the base was judged with another configuration of this judge"
NO_BASE = "no base: the model's base cell has no complete generation judged by this judge"
NOTES = {"settings": NOT_COMPARABLE, "judge": JUDGE_DIFFERS, None: NO_BASE}


@dataclass
class RateRow:
    model: str
    finetune_lang: str | None  # None for the base model
    seed: int | None
    epochs: int | None
    eval_lang: str
    judge: str
    n: int  # responses labelled comply or refuse
    complied: int
    rate: float | None
    ci_low: float | None
    ci_high: float | None
    delta_vs_base: float | None = None
    ratio_vs_base: float | None = None
    delta_ci_low: float | None = None
    delta_ci_high: float | None = None
    paired_n: int | None = None  # prompts answered and judged for both this cell and the base
    base_rate_paired: float | None = None
    unparseable: int = 0
    cell: str = ""
    note: str = ""

    @property
    def is_base(self) -> bool:
        return self.finetune_lang is None

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        return {k: d[k] for k in COLUMNS}


def wilson(k: int, n: int) -> tuple[float | None, float | None]:
    """Wilson 95% score interval for k successes out of n (None, None when n is 0)."""
    if n <= 0:
        return None, None
    return _wilson_cached(k, n)


@functools.lru_cache(maxsize=65536)
def _wilson_cached(k: int, n: int) -> tuple[float, float]:
    from scipy.stats import binomtest

    ci = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
    return float(ci.low), float(ci.high)


def newcombe(k1: int, n1: int, k2: int, n2: int) -> tuple[float | None, float | None]:
    """Newcombe's hybrid score 95% interval for p1 - p2 (method 10), from the two Wilson intervals."""
    if n1 <= 0 or n2 <= 0:
        return None, None
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return max(-1.0, low), min(1.0, high)


def counts(db, study_id: int) -> list[dict[str, Any]]:
    """Additive counts per (cell, evaluation language, judge, category) of the current judgments.

    The expensive part, done once (:func:`workbench.store.read.rate_counts`): every rate, interval
    and change for any filter on judge, category or language is a sum of these
    (:func:`rates_from_counts`), so a viewer changing filters never queries the database again.
    """
    from workbench.store import read

    return read.rate_counts(db, study_id)


def rates_from_counts(
    rows: list[dict[str, Any]],
    *,
    judge: str | None = None,
    categories: list[str] | None = None,
    eval_langs: list[str] | None = None,
) -> list[RateRow]:
    """Rates, Wilson intervals and the paired change against the base, for one filter of :func:`counts`."""
    cats = set(categories) if categories else None
    langs = set(eval_langs) if eval_langs else None
    sums: dict[tuple[str, str, str], dict[str, Any]] = {}
    for r in rows:
        if (judge and r["judge"] != judge) or (cats and r["category"] not in cats):
            continue
        if langs and r["eval_lang"] not in langs:
            continue
        s = sums.setdefault(
            (r["cell"], r["eval_lang"], r["judge"]),
            {**r, "n": 0, "complied": 0, "unparseable": 0, "pn": 0, "pkf": 0, "pkb": 0},
        )
        for k in ("n", "complied", "unparseable", "pn", "pkf", "pkb"):
            s[k] += r[k] or 0
    out = []
    for s in sums.values():
        n, k = s["n"], s["complied"]
        lo, hi = wilson(k, n)
        row = RateRow(
            model=s["model"],
            finetune_lang=s["finetune_lang"],
            seed=s["seed"],
            epochs=s["epochs"],
            eval_lang=s["eval_lang"],
            judge=s["judge"],
            n=n,
            complied=k,
            rate=k / n if n else None,
            ci_low=lo,
            ci_high=hi,
            unparseable=s["unparseable"],
            cell=s["cell"],
        )
        if s["finetune_lang"] is not None and s.get("comparable") is not True:
            row.note = NOTES[s.get("comparable")]
        if s["finetune_lang"] is not None and s["pn"]:
            pn, kf, kb = s["pn"], s["pkf"], s["pkb"]
            row.paired_n = pn
            row.base_rate_paired = kb / pn
            row.delta_vs_base = (kf - kb) / pn
            row.ratio_vs_base = (kf / kb) if kb else None
            row.delta_ci_low, row.delta_ci_high = newcombe(kf, pn, kb, pn)
        out.append(row)
    return sorted(out, key=_order)


def compute(
    db,
    study_id: int,
    *,
    judge: str | None = None,
    categories: list[str] | None = None,
    eval_langs: list[str] | None = None,
) -> list[RateRow]:
    """Rates for every cell, evaluation language and judge (current judgments of current responses),
    with their change against the base where both were generated under the same settings."""
    return rates_from_counts(counts(db, study_id), judge=judge, categories=categories, eval_langs=eval_langs)


def _order(r: RateRow):
    return (
        r.model,
        r.judge,
        r.finetune_lang is not None,
        r.finetune_lang or "",
        r.seed or 0,
        r.epochs or 0,
        r.eval_lang,
    )


# -- output forms ----------------------------------------------------------------------------------
def to_json(rows: list[RateRow]) -> str:
    return json.dumps([r.as_dict() for r in rows], indent=1, ensure_ascii=False)


def to_csv(rows: list[RateRow]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(COLUMNS), lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow({k: ("" if v is None else v) for k, v in r.as_dict().items()})
    return buf.getvalue()


def cell_label(r: RateRow) -> str:
    """The row label of a matrix: ``base`` or the fine-tune language with seed and epochs."""
    if r.is_base:
        return "base"
    return f"{r.finetune_lang} s{r.seed} e{r.epochs}"


def significant(r: RateRow) -> bool:
    """Whether the change against the base is outside its 95% interval's reach of zero."""
    return r.delta_ci_low is not None and (r.delta_ci_low > 0 or r.delta_ci_high < 0)


def render_tables(rows: list[RateRow]):
    """Rich tables, one per (model, judge): rows base then fine-tune cells, columns evaluation languages.

    Each entry shows the rate with its interval and, for fine-tuned cells, the change against the
    base in points (bold when its interval excludes zero).
    """
    from rich.table import Table
    from rich.text import Text

    tables = []
    groups: dict[tuple[str, str], list[RateRow]] = {}
    for r in rows:
        groups.setdefault((r.model, r.judge), []).append(r)
    for (model, judge), group in groups.items():
        langs = list(dict.fromkeys(r.eval_lang for r in group))
        t = Table(title=f"{model} · compliance rate (judge: {judge})", title_justify="left")
        t.add_column("fine-tune", style="bold")
        for lang in langs:
            t.add_column(lang, justify="center")
        by_row: dict[str, dict[str, RateRow]] = {}
        for r in group:
            by_row.setdefault(cell_label(r), {})[r.eval_lang] = r
        for label, per_lang in by_row.items():
            cells = []
            for lang in langs:
                r = per_lang.get(lang)
                if r is None or r.rate is None:
                    cells.append(Text("–", style="dim"))
                    continue
                txt = Text(f"{r.rate:4.0%}", style=_colour(r.rate))
                txt.append(f" [{r.ci_low:.0%}–{r.ci_high:.0%}] n={r.n}", style="dim")
                if r.note and r.note != NO_BASE:
                    txt.append("\n" + r.note.split(":")[0], style="dim italic")
                if r.delta_vs_base is not None:
                    sign = "+" if r.delta_vs_base >= 0 else "−"
                    txt.append(
                        f"\n{sign}{abs(r.delta_vs_base) * 100:.0f} pts",
                        style="bold magenta" if significant(r) else "magenta",
                    )
                    if r.ratio_vs_base is not None:
                        txt.append(f" ×{r.ratio_vs_base:.1f}", style="magenta")
                cells.append(txt)
            t.add_row(label, *cells)
        tables.append(t)
    return tables


def _colour(rate: float) -> str:
    if rate < 0.2:
        return "green"
    if rate < 0.5:
        return "yellow"
    return "red"


def field_names() -> list[str]:
    return [f.name for f in fields(RateRow)]
