"""Paired statistics: a fine-tuned model against its base on the same evaluation items.

Each item is answered by both models and each answer is judged comply (1) or not (0), which gives
the joint counts of a paired 2x2 table::

                    base complies   base does not
    ft complies          a               b
    ft does not          c               d

``n = a + b + c + d``, ``p_ft = (a + b) / n`` and ``p_base = (a + c) / n``. The two rates share
their items, so they are correlated; intervals for independent proportions
(:func:`workbench.analysis.results.newcombe`) ignore that and are too wide when the models agree on
most items. Everything here works on counts only (no database) and returns plain floats or None:

- :func:`paired_difference_ci`: Newcombe's hybrid score interval for ``p_ft - p_base`` (1998,
  method 10, with his corrected phi).
- :func:`paired_ratio_ci`: Bonett & Price's hybrid Wilson score interval for ``p_ft / p_base``
  (2006).
- :func:`mcnemar_exact`: the exact (binomial) McNemar test of ``p_ft = p_base``.
- :func:`holm` and :func:`benjamini_hochberg`: adjusted p-values for a family of such tests.
- :func:`kappa_ci`: Cohen's kappa with its large-sample standard error and interval.

Nothing raises on empty input: an interval that is undefined is ``(None, None)``. Negative counts
and confidence levels outside (0, 1) are errors (ValueError). scipy and statsmodels are imported
inside the functions that need them, so importing this module stays cheap for the CLI.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist

Interval = tuple[float | None, float | None]
NONE: Interval = (None, None)


def _z(confidence: float) -> float:
    """The two-sided normal quantile for a confidence level (1.96 for 0.95)."""
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be between 0 and 1 (got {confidence})")
    return NormalDist().inv_cdf(0.5 + confidence / 2.0)


def _check_counts(*counts: int) -> None:
    for k in counts:
        if k < 0:
            raise ValueError(f"counts must not be negative (got {counts})")


def wilson_interval(k: int, n: int, z: float) -> tuple[float, float]:
    """Wilson score interval for k of n (n > 0) at normal quantile z, in closed form.

    Closed form rather than scipy's ``binomtest`` so that any z works (Bonett & Price adjust z)
    and so that no heavy library loads; the tests compare it with scipy's Wilson interval.
    """
    z2 = z * z
    centre = (k + z2 / 2.0) / (n + z2)
    half = z * math.sqrt(k * (n - k) / n + z2 / 4.0) / (n + z2)
    # at k = 0 and k = n the bound is exactly 0 or 1; rounding would leave it a hair off
    low = 0.0 if k == 0 else max(0.0, centre - half)
    high = 1.0 if k == n else min(1.0, centre + half)
    return low, high


def _newcombe_phi(a: int, b: int, c: int, d: int) -> float:
    """Newcombe's (1998) estimate of the correlation between the two paired rates.

    The phi coefficient ``(ad - bc) / sqrt((a+b)(c+d)(a+c)(b+d))``, 0 when a margin is empty, with
    Newcombe's correction of a positive numerator: ``ad - bc`` is reduced by ``n/2`` and floored at 0
    (a negative one is kept as it is). The correction shrinks a positive correlation, which would
    otherwise narrow the interval too much in small samples. Implemented the same way in R's
    ratesci (``moverpairci``, ``corc = TRUE``) and contingencytables
    (``Newcombe_square_and_add_CI_paired_2x2``).
    """
    denominator = (a + b) * (c + d) * (a + c) * (b + d)
    if denominator == 0:
        return 0.0
    n = a + b + c + d
    numerator = a * d - b * c
    if numerator > 0:
        numerator = max(numerator - n / 2.0, 0.0)
    return numerator / math.sqrt(denominator)


def paired_difference_ci(a: int, b: int, c: int, d: int, confidence: float = 0.95) -> Interval:
    """Newcombe's hybrid score interval for ``p_ft - p_base`` on paired items.

    Newcombe RG (1998), "Improved confidence intervals for the difference between binomial
    proportions based on paired data", Statistics in Medicine 17:2635-2650, method 10: the Wilson
    intervals (l1, u1) of ``p_ft`` and (l2, u2) of ``p_base`` are combined as

        low  = D - sqrt((p_ft - l1)^2 - 2 phi (p_ft - l1)(u2 - p_base) + (u2 - p_base)^2)
        high = D + sqrt((u1 - p_ft)^2 - 2 phi (u1 - p_ft)(p_base - l2) + (p_base - l2)^2)

    with ``D = (b - c) / n`` and phi Newcombe's corrected correlation (:func:`_newcombe_phi`).
    Bounds are clipped to [-1, 1]. ``(None, None)`` when there are no items.
    """
    _check_counts(a, b, c, d)
    z = _z(confidence)
    n = a + b + c + d
    if n == 0:
        return NONE
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson_interval(a + b, n, z)
    l2, u2 = wilson_interval(a + c, n, z)
    phi = _newcombe_phi(a, b, c, d)
    diff = p1 - p2
    down1, up2 = p1 - l1, u2 - p2
    up1, down2 = u1 - p1, p2 - l2
    # |phi| <= 1 keeps both radicands >= 0 in exact arithmetic; max() absorbs rounding
    low = diff - math.sqrt(max(0.0, down1**2 - 2.0 * phi * down1 * up2 + up2**2))
    high = diff + math.sqrt(max(0.0, up1**2 - 2.0 * phi * up1 * down2 + down2**2))
    return max(-1.0, low), min(1.0, high)


def paired_ratio_ci(a: int, b: int, c: int, d: int, confidence: float = 0.95) -> Interval:
    """Bonett & Price's hybrid Wilson score interval for ``p_ft / p_base`` on paired items.

    Bonett DG, Price RM (2006), "Confidence intervals for a ratio of binomial proportions based on
    paired data", Statistics in Medicine 25:3039-3047. The ratio ``(a + b) / (a + c)`` does not
    involve d, and neither does the interval: with ``m = a + b + c``, Wilson intervals (l1, u1) for
    a+b of m and (l2, u2) for a+c of m are taken at an adjusted quantile ``z * A / (B + C)``, where

        A = sqrt((b + c + 2) / ((a + b + 1)(a + c + 1)))
        B = sqrt((1 - (a + b + 1) / (m + 2)) / (a + b + 1))
        C = sqrt((1 - (a + c + 1) / (m + 2)) / (a + c + 1))

    and the interval is ``(l1 / u2, u1 / l2)``. Fagerland, Lydersen & Laake (2014, Statistics in
    Medicine 33:2850-2875) recommend it for the paired ratio. A closed form, so no resampling and
    no seed.

    ``(None, None)`` when the base never complied (``a + c == 0``): the ratio is undefined. When the
    fine-tuned model never complied the interval starts at 0.
    """
    _check_counts(a, b, c, d)
    z = _z(confidence)
    x_ft, x_base = a + b, a + c
    if x_base == 0:
        return NONE
    m = a + b + c
    big_a = math.sqrt((b + c + 2) / ((x_ft + 1) * (x_base + 1)))
    big_b = math.sqrt((1 - (x_ft + 1) / (m + 2)) / (x_ft + 1))
    big_c = math.sqrt((1 - (x_base + 1) / (m + 2)) / (x_base + 1))
    z_adj = z * big_a / (big_b + big_c)
    l1, u1 = wilson_interval(x_ft, m, z_adj)
    l2, u2 = wilson_interval(x_base, m, z_adj)
    # l2 > 0 because x_base > 0
    return l1 / u2, u1 / l2


@functools.lru_cache(maxsize=65536)
def _mcnemar_cached(b: int, c: int) -> float:
    # The binomial is symmetric at 1/2, so scipy's two-sided binomtest p-value is twice the smaller
    # tail: the cumulative binomial ufunc computes it in microseconds (binomtest takes ~1 ms).
    from scipy.special import bdtr

    return float(min(1.0, 2.0 * bdtr(min(b, c), b + c, 0.5)))


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value for ``p_ft = p_base`` from the discordant counts b and c.

    Under the null each discordant item is equally likely to be b or c, so b ~ Binomial(b + c, 1/2)
    and the p-value is ``min(1, 2 * P(X <= min(b, c)))`` (what scipy's ``binomtest`` gives; computed
    with its cumulative binomial). 1.0 when there
    are no discordant items: nothing speaks against equal rates.
    """
    _check_counts(b, c)
    if b + c == 0:
        return 1.0
    # cached: a results view recomputes the same few discordant pairs on every filter change
    return _mcnemar_cached(int(b), int(c))


def _adjust(pvalues: Sequence[float | None], method: str) -> list[float | None]:
    # None (or NaN) marks a test that was not run: it is left out of the family, so it neither
    # counts towards m nor gets an adjusted value
    present = [(i, float(p)) for i, p in enumerate(pvalues) if p is not None and not math.isnan(p)]
    out: list[float | None] = [None] * len(pvalues)
    if not present:
        return out
    values = [p for _, p in present]
    if method == "holm":
        adjusted = _holm_stepdown(values)
    else:
        from statsmodels.stats.multitest import multipletests

        adjusted = multipletests(values, method=method)[1]
    for (i, _), q in zip(present, adjusted, strict=True):
        out[i] = float(q)
    return out


def _holm_stepdown(values: list[float]) -> list[float]:
    """Holm's step-down adjustment, vectorised (statsmodels' ``multipletests(method="holm")`` gives the
    same values but takes ~50 ms for 120 p-values, too slow for a view that recomputes on every
    filter change; the tests compare the two)."""
    import numpy as np

    p = np.asarray(values, dtype=float)
    order = np.argsort(p, kind="stable")
    m = len(p)
    stepped = np.maximum.accumulate((m - np.arange(m)) * p[order]).clip(max=1.0)
    out = np.empty(m)
    out[order] = stepped
    return out.tolist()


def holm(pvalues: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (family-wise error), in the input's order.

    With the m present p-values sorted, ``p_(i)`` becomes ``max_{j <= i} min(1, (m - j + 1) p_(j))``
    (statsmodels' ``multipletests(method="holm")``). None (or NaN) stays None and is not counted
    in m.
    """
    return _adjust(pvalues, "holm")


def benjamini_hochberg(pvalues: Sequence[float | None]) -> list[float | None]:
    """Benjamini-Hochberg adjusted p-values (false discovery rate), in the input's order.

    With the m present p-values sorted, ``p_(i)`` becomes ``min_{j >= i} min(1, m p_(j) / j)``
    (statsmodels' ``multipletests(method="fdr_bh")``). None (or NaN) stays None and is not counted
    in m.
    """
    return _adjust(pvalues, "fdr_bh")


@dataclass(frozen=True)
class KappaCI:
    """Cohen's kappa with its asymptotic standard error, interval and test of kappa = 0."""

    kappa: float | None
    se: float | None  # large-sample SE (Fleiss, Cohen & Everitt 1969), used for the interval
    low: float | None
    high: float | None
    n: int  # items in the table
    pvalue: float | None = None  # two-sided, kappa = 0, with the SE under that null


def _square_table(table: Sequence[Sequence[int]] | Mapping[tuple[str, str], int]) -> list[list[int]]:
    if isinstance(table, Mapping):
        # one label order for rows and columns: a label only one rater used still gets both
        labels = list(dict.fromkeys(label for pair in table for label in pair))
        index = {label: i for i, label in enumerate(labels)}
        rows = [[0] * len(labels) for _ in labels]
        for (x, y), count in table.items():
            rows[index[x]][index[y]] += count
        return rows
    rows = [list(r) for r in table]
    if any(len(r) != len(rows) for r in rows):
        raise ValueError("a kappa table must be square (the same labels for both raters)")
    return rows


def kappa_ci(table: Sequence[Sequence[int]] | Mapping[tuple[str, str], int], confidence: float = 0.95) -> KappaCI:
    """Cohen's kappa of two raters with its large-sample standard error and interval.

    ``table`` is a square table of counts (rows: rater A's labels, columns: rater B's, same order)
    or a dict ``{(label_a, label_b): count}`` as :func:`workbench.analysis.agreement.kappa_from_counts`
    takes. Kappa and its variance come from statsmodels' ``cohens_kappa`` (the variance of Fleiss,
    Cohen & Everitt 1969, as SAS PROC FREQ reports it); the interval is ``kappa +- z * se`` at the
    requested confidence, clipped to [-1, 1]. The p-value tests kappa = 0 with the SE under that
    null.

    All fields are None when the table is empty, and kappa is None when it is undefined (both
    raters used one and the same label throughout: expected agreement 1), as in
    :mod:`workbench.analysis.agreement`.
    """
    z = _z(confidence)
    rows = _square_table(table)
    for r in rows:
        _check_counts(*r)
    n = sum(sum(r) for r in rows)
    if n == 0:
        return KappaCI(None, None, None, None, 0)
    row_totals = [sum(r) for r in rows]
    col_totals = [sum(col) for col in zip(*rows, strict=True)]
    expected = sum(rt * ct for rt, ct in zip(row_totals, col_totals, strict=True)) / (n * n)
    if expected >= 1.0:
        return KappaCI(None, None, None, None, n)
    from statsmodels.stats.inter_rater import cohens_kappa

    res = cohens_kappa(rows)
    kappa = float(res.kappa)
    se = math.sqrt(max(0.0, float(res.var_kappa)))
    se0 = math.sqrt(max(0.0, float(res.var_kappa0)))
    pvalue = 2.0 * NormalDist().cdf(-abs(kappa) / se0) if se0 > 0 else None
    return KappaCI(kappa, se, max(-1.0, kappa - z * se), min(1.0, kappa + z * se), n, pvalue)
