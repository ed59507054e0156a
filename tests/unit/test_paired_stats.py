"""Paired statistics (workbench.analysis.paired) against published values, hand arithmetic and other libraries.

Counts are (a, b, c, d): a = both comply, b = only the fine-tuned model complies, c = only the base
complies, d = neither. The R packages cited below take the same vector c(a, b, c, d) (ratesci) or
the matrix [[a, b], [c, d]] (contingencytables), with p1 = (a + b) / n, as here.
"""

import math
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import ROOT
from workbench.analysis import agreement
from workbench.analysis import paired as pr

Z95 = 1.959963984540054


# -- paired difference: Newcombe (1998) method 10 -------------------------------------------------
# Where each expected interval comes from:
# - (20, 12, 2, 16): Newcombe's 1998 paper, method 10, as cited in R ratesci's test suite
#   (tests/testthat/test3.R, "example from Newcombe ... against Newcombe's method 10 result").
# - (1, 1, 7, 12): Bentur et al. 2009 data in Fagerland, Lydersen & Laake 2014 (Stat Med 33:2850),
#   published -0.507 to -0.026; ratesci's paired-contrasts vignette gives MOVER-NW -0.5069 to -0.0256.
# - (59, 6, 16, 80): Cavo et al. 2012 data, R contingencytables (companion to Fagerland, Lydersen &
#   Laake 2017, ch. 8) test suite: Newcombe_square_and_add_CI_paired_2x2 -> -0.1186 to -0.0046.
# - (8, 3, 1, 2): Tang, Li & Tang 2010 example, ratesci test3.R -> -0.1574 to 0.4136.
# - (7, 25, 2, 68): Chang et al. 2024 example, ratesci test3.R -> 0.133 to 0.318.
@pytest.mark.parametrize(
    "counts, expected, decimals",
    [
        ((20, 12, 2, 16), (0.0562, 0.3292), 4),
        ((1, 1, 7, 12), (-0.5069, -0.0256), 4),
        ((59, 6, 16, 80), (-0.1186, -0.0046), 4),
        ((8, 3, 1, 2), (-0.1574, 0.4136), 4),
        ((7, 25, 2, 68), (0.133, 0.318), 3),
    ],
)
def test_difference_matches_published_values(counts, expected, decimals):
    low, high = pr.paired_difference_ci(*counts)
    assert round(low, decimals) == expected[0]
    assert round(high, decimals) == expected[1]


def test_difference_applies_newcombes_phi_correction():
    # Bentur: ad - bc = 12 - 7 = 5 is positive but below n/2 = 10.5, so the corrected phi is 0. With the
    # raw phi (0.0795) the interval would be ratesci's MOVER-W, -0.5017 to -0.0361 (its vignette).
    low, high = pr.paired_difference_ci(1, 1, 7, 12)
    assert abs(low - -0.5017) > 4e-3 and abs(high - -0.0361) > 9e-3


def _statsmodels_wilson(k, n, alpha=0.05):
    from statsmodels.stats.proportion import proportion_confint

    return proportion_confint(k, n, alpha=alpha, method="wilson")


def test_difference_with_negative_correlation_by_hand():
    # (2, 10, 8, 1), n = 21: ad - bc = 2 - 80 = -78 < 0, so phi is the raw phi coefficient:
    # -78 / sqrt((a+b)(c+d)(a+c)(b+d)) = -78 / sqrt(12 * 9 * 10 * 11) = -78 / sqrt(11880) = -0.71563.
    # p_ft = 12/21, p_base = 10/21; Wilson bounds from statsmodels (another library).
    phi = -78 / math.sqrt(11880)
    p1, p2 = 12 / 21, 10 / 21
    l1, u1 = _statsmodels_wilson(12, 21)
    l2, u2 = _statsmodels_wilson(10, 21)
    low = (p1 - p2) - math.sqrt((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2)
    high = (p1 - p2) + math.sqrt((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2)
    assert pr.paired_difference_ci(2, 10, 8, 1) == pytest.approx((low, high), abs=1e-10)


def test_difference_edge_cases():
    z2 = Z95**2
    assert pr.paired_difference_ci(0, 0, 0, 0) == (None, None)
    # b = c = 0: no change, an interval symmetric about 0 that is not degenerate
    low, high = pr.paired_difference_ci(10, 0, 0, 10)
    assert low == pytest.approx(-high) and 0 < high < 0.2
    # all items in a (both always comply): phi is 0 (empty margins), both rates are 1 and the
    # Wilson lower bound of 5/5 is 5 / (5 + z^2), so the interval is +-(1 - 5 / (5 + z^2)) = +-0.4345
    half = 1 - 5 / (5 + z2)
    assert pr.paired_difference_ci(5, 0, 0, 0) == pytest.approx((-half, half), abs=1e-12)
    assert pr.paired_difference_ci(0, 0, 0, 5) == pytest.approx((-half, half), abs=1e-12)
    # all items in b: difference 1; low = 1 - sqrt(2) * z^2 / (5 + z^2) = 0.3855, high clipped to 1
    assert pr.paired_difference_ci(0, 5, 0, 0) == pytest.approx((1 - math.sqrt(2) * z2 / (5 + z2), 1.0))
    assert pr.paired_difference_ci(0, 0, 5, 0) == pytest.approx((-1.0, -(1 - math.sqrt(2) * z2 / (5 + z2))))


def test_difference_mirrors_when_the_models_swap():
    low, high = pr.paired_difference_ci(20, 12, 2, 16)
    assert pr.paired_difference_ci(20, 2, 12, 16) == pytest.approx((-high, -low))


def test_difference_widens_with_confidence():
    l80, h80 = pr.paired_difference_ci(20, 12, 2, 16, confidence=0.80)
    l95, h95 = pr.paired_difference_ci(20, 12, 2, 16)
    l99, h99 = pr.paired_difference_ci(20, 12, 2, 16, confidence=0.99)
    assert l99 < l95 < l80 < 0.2 < h80 < h95 < h99


def test_bad_input_is_an_error():
    with pytest.raises(ValueError):
        pr.paired_difference_ci(1, -1, 0, 0)
    with pytest.raises(ValueError):
        pr.paired_difference_ci(1, 1, 0, 0, confidence=1.0)
    with pytest.raises(ValueError):
        pr.paired_ratio_ci(1, 1, 1, 1, confidence=0)
    with pytest.raises(ValueError):
        pr.mcnemar_exact(-1, 3)


def test_wilson_helper_agrees_with_scipy_and_statsmodels():
    for n in (1, 7, 40):
        for k in range(n + 1):
            assert pr.wilson_interval(k, n, Z95) == pytest.approx(_statsmodels_wilson(k, n), abs=1e-12)
            z90 = 1.6448536269514722
            assert pr.wilson_interval(k, n, z90) == pytest.approx(_statsmodels_wilson(k, n, alpha=0.10), abs=1e-12)


# -- paired ratio: Bonett & Price (2006) ----------------------------------------------------------
def test_ratio_matches_published_value():
    # Cavo et al. 2012 data: R contingencytables' test suite (Fagerland, Lydersen & Laake 2017, ch. 8),
    # BonettPrice_hybrid_Wilson_score_CI_paired_2x2 -> estimate 0.8667 (95% CI 0.7579 to 0.9910).
    low, high = pr.paired_ratio_ci(59, 6, 16, 80)
    assert (round(low, 4), round(high, 4)) == (0.7579, 0.9910)
    assert low < 65 / 75 < high


def test_ratio_edge_cases():
    assert pr.paired_ratio_ci(0, 0, 0, 0) == (None, None)
    assert pr.paired_ratio_ci(0, 4, 0, 9) == (None, None)  # the base never complied: undefined
    low, high = pr.paired_ratio_ci(0, 0, 5, 3)  # the fine-tune never complied: starts at 0
    assert low == 0.0 and 0 < high < 1
    low, high = pr.paired_ratio_ci(7, 0, 0, 3)  # no discordant items: contains 1
    assert low < 1 < high


def test_ratio_ignores_d_and_inverts_when_the_models_swap():
    # The method conditions on a + b + c (Bonett & Price 2006); swapping b and c swaps the Wilson
    # intervals, so the interval becomes (1 / high, 1 / low).
    low, high = pr.paired_ratio_ci(59, 6, 16, 80)
    assert pr.paired_ratio_ci(59, 6, 16, 0) == (low, high)
    assert pr.paired_ratio_ci(59, 16, 6, 80) == pytest.approx((1 / high, 1 / low))


def test_ratio_contains_its_point_estimate():
    for a in range(0, 6):
        for b in range(0, 6):
            for c in range(0, 6):
                if a + c == 0:
                    continue
                low, high = pr.paired_ratio_ci(a, b, c, 4)
                assert low <= (a + b) / (a + c) <= high


@pytest.mark.parametrize("probs, n", [((0.25, 0.10, 0.05, 0.60), 120), ((0.4, 0.1, 0.1, 0.4), 40)])
def test_coverage_on_simulated_tables(probs, n):
    # 4000 paired tables drawn with a fixed seed; both 95% intervals should cover the true value in
    # roughly 95% of them (Monte Carlo error ~0.35 points; the methods are slightly conservative).
    draws = np.random.default_rng(7).multinomial(n, probs, size=4000).tolist()
    true_diff = probs[1] - probs[2]
    true_ratio = (probs[0] + probs[1]) / (probs[0] + probs[2])
    diffs = [pr.paired_difference_ci(*t) for t in draws]
    ratios = [pr.paired_ratio_ci(*t) for t in draws]
    assert all(r[0] is not None for r in ratios)
    assert 0.93 <= np.mean([lo <= true_diff <= hi for lo, hi in diffs]) <= 0.975
    assert 0.93 <= np.mean([lo <= true_ratio <= hi for lo, hi in ratios]) <= 0.975


# -- exact McNemar --------------------------------------------------------------------------------
def test_mcnemar_by_hand():
    # b = 10, c = 2: 2 * sum_{k<=2} C(12, k) / 2^12 = 2 * (1 + 12 + 66) / 4096 = 158 / 4096 = 0.038574
    assert pr.mcnemar_exact(10, 2) == pytest.approx(158 / 4096, rel=1e-12)
    assert pr.mcnemar_exact(2, 10) == pytest.approx(158 / 4096, rel=1e-12)
    # Cavo et al. 2012 (b = 6, c = 16): contingencytables' McNemar exact conditional test, P = 0.052479
    assert round(pr.mcnemar_exact(6, 16), 6) == 0.052479


def test_mcnemar_agrees_with_statsmodels():
    from statsmodels.stats.contingency_tables import mcnemar

    for b in range(0, 15):
        for c in range(0, 15):
            expected = mcnemar([[3, b], [c, 4]], exact=True).pvalue
            assert pr.mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-10)


def test_mcnemar_edge_cases():
    assert pr.mcnemar_exact(0, 0) == 1.0  # no discordant items
    assert pr.mcnemar_exact(5, 5) == 1.0
    assert pr.mcnemar_exact(0, 1) == 1.0  # 2 * 1/2 = 1
    assert pr.mcnemar_exact(0, 6) == pytest.approx(2 / 64)  # 2 * (1/2)^6


# -- multiple testing -----------------------------------------------------------------------------
def test_holm_by_hand():
    # Present p-values 0.04, 0.01, 0.045 (m = 3; the Nones are not counted). Sorted: 0.01, 0.04, 0.045
    # -> 3 * 0.01 = 0.03, 2 * 0.04 = 0.08, 1 * 0.045 = 0.045 -> running max: 0.03, 0.08, 0.08.
    assert pr.holm([0.04, None, 0.01, 0.045, None]) == pytest.approx([0.08, None, 0.03, 0.08, None])
    # 2 * 0.6 = 1.2 caps at 1; 0.7 is raised to the running max 1
    assert pr.holm([0.6, 0.7]) == pytest.approx([1.0, 1.0])


def test_benjamini_hochberg_by_hand():
    # Sorted 0.01, 0.04, 0.045 (m = 3) -> m * p / rank: 0.03, 0.06, 0.045 -> running min from the top:
    # 0.045, min(0.06, 0.045) = 0.045, min(0.03, 0.045) = 0.03.
    assert pr.benjamini_hochberg([0.04, None, 0.01, 0.045, None]) == pytest.approx([0.045, None, 0.03, 0.045, None])
    # 2 * 0.6 / 1 = 1.2 -> min(1.2, 0.7) = 0.7; 2 * 0.7 / 2 = 0.7
    assert pr.benjamini_hochberg([0.6, 0.7]) == pytest.approx([0.7, 0.7])


def test_adjustments_tolerate_missing_and_empty():
    for adjust in (pr.holm, pr.benjamini_hochberg):
        assert adjust([]) == []
        assert adjust([None, None]) == [None, None]
        assert adjust([None, 0.02, float("nan")]) == pytest.approx([None, 0.02, None])  # m = 1


# -- Cohen's kappa with its standard error --------------------------------------------------------
def test_kappa_matches_sas():
    # SAS PROC FREQ output for the 3x3 table below, as reproduced in statsmodels' test suite
    # (statsmodels/stats/tests/test_inter_rater.py, TestUnweightedCohens): kappa 0.4842, ASE 0.1380,
    # 95% limits 0.2137 and 0.7547; H0 kappa = 0: two-sided Pr > |Z| 0.0011.
    res = pr.kappa_ci([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert [round(x, 4) for x in (res.kappa, res.se, res.low, res.high, res.pvalue)] == [
        0.4842,
        0.1380,
        0.2137,
        0.7547,
        0.0011,
    ]
    assert res.n == 19


def test_kappa_by_hand():
    # [[20, 5], [10, 15]], n = 50: p_o = 0.7; rows 0.5, 0.5; columns 0.6, 0.4; p_e = 0.3 + 0.2 = 0.5;
    # kappa = (0.7 - 0.5) / 0.5 = 0.4. Fleiss, Cohen & Everitt (1969) variance:
    #   A = sum_i p_ii (1 - (p_i. + p_.i)(1 - k))^2 = 0.4 * (1 - 1.1 * 0.6)^2 + 0.3 * (1 - 0.9 * 0.6)^2 = 0.10972
    #   B = (1 - k)^2 sum_{i!=j} p_ij (p_.i + p_j.)^2 = 0.36 * (0.1 * 1.1^2 + 0.2 * 0.9^2) = 0.10188
    #   C = (k - p_e (1 - k))^2 = (0.4 - 0.3)^2 = 0.01
    #   var = (A + B - C) / ((1 - p_e)^2 n) = 0.2016 / 12.5 = 0.016128
    # Under H0: var0 = (p_e + p_e^2 - sum p_i. p_.i (p_i. + p_.i)) / ((1 - p_e)^2 n)
    #   = (0.5 + 0.25 - (0.3 * 1.1 + 0.2 * 0.9)) / 12.5 = 0.24 / 12.5 = 0.0192
    res = pr.kappa_ci([[20, 5], [10, 15]])
    se = math.sqrt(0.016128)
    assert res.kappa == pytest.approx(0.4, abs=1e-12)
    assert res.se == pytest.approx(se, rel=1e-9)
    assert (res.low, res.high) == pytest.approx((0.4 - Z95 * se, 0.4 + Z95 * se), rel=1e-9)
    assert res.pvalue == pytest.approx(math.erfc(0.4 / math.sqrt(0.0192) / math.sqrt(2)), rel=1e-9)
    z99 = 2.5758293035489004
    wide = pr.kappa_ci([[20, 5], [10, 15]], confidence=0.99)
    assert (wide.low, wide.high) == pytest.approx((0.4 - z99 * se, 0.4 + z99 * se), rel=1e-9)


def test_kappa_from_a_dict_matches_the_table_and_agreement_module():
    counts = {("comply", "comply"): 20, ("comply", "refuse"): 5, ("refuse", "comply"): 10, ("refuse", "refuse"): 15}
    res = pr.kappa_ci(counts)
    assert res == pr.kappa_ci([[20, 5], [10, 15]])
    assert res.kappa == pytest.approx(agreement.kappa_from_counts(counts), abs=1e-12)
    # a label only one rater used still gets its row and column
    lopsided = {("comply", "comply"): 5, ("comply", "refuse"): 2, ("refuse", "refuse"): 3}
    assert pr.kappa_ci(lopsided) == pr.kappa_ci([[5, 2], [0, 3]])
    assert pr.kappa_ci(lopsided).kappa == pytest.approx(agreement.kappa_from_counts(lopsided), abs=1e-12)


def test_kappa_edge_cases():
    empty = pr.kappa_ci({})
    assert (empty.kappa, empty.se, empty.low, empty.high, empty.n, empty.pvalue) == (None,) * 4 + (0, None)
    assert pr.kappa_ci([]).n == 0
    assert pr.kappa_ci([[0, 0], [0, 0]]).kappa is None
    one_label = pr.kappa_ci({("refuse", "refuse"): 7})  # expected agreement 1: undefined
    assert one_label.kappa is None and one_label.n == 7
    perfect = pr.kappa_ci([[6, 0], [0, 4]])
    assert perfect.kappa == pytest.approx(1.0) and perfect.se == pytest.approx(0.0, abs=1e-9)
    assert perfect.high == 1.0
    with pytest.raises(ValueError):
        pr.kappa_ci([[1, 2, 3], [4, 5, 6]])


def test_importing_the_module_loads_no_heavy_library():
    code = (
        "import sys\nimport workbench.analysis.paired\n"
        "print('HEAVY', [m for m in ('scipy', 'statsmodels', 'numpy') if m in sys.modules])\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert "HEAVY []" in proc.stdout, proc.stdout + proc.stderr


def test_holm_matches_statsmodels_on_random_families():
    """The vectorised Holm step-down equals statsmodels' multipletests(method="holm")."""
    import random

    from statsmodels.stats.multitest import multipletests

    from workbench.analysis import paired

    rng = random.Random(3)
    for m in (1, 2, 5, 40, 120):
        values = [rng.random() ** 3 for _ in range(m)] + [0.01, 0.01]  # ties too
        expected = multipletests(values, method="holm")[1]
        assert paired.holm(values) == pytest.approx(list(expected), abs=1e-12)
