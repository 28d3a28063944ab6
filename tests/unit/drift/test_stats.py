"""Drift statistics from count tables agree with scipy/numpy on the raw samples.

Every test builds raw samples with a seeded generator, turns them into the count tables the
warehouse would return, and compares :mod:`governance.drift.stats` with the scipy (or numpy)
function applied to the raw samples. Tolerances are the module's contract: statistics to 1e-12
relative, KS p-values to 1e-12 absolute / 1e-9 relative (observed: bit-identical or ~1e-16).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
import pytest
import scipy.stats
from scipy.spatial.distance import jensenshannon

from governance.drift import stats as ds
from governance.errors import DataError, GovernanceError

Sampler = Callable[[np.random.Generator, int, float], np.ndarray]

SAMPLERS: dict[str, Sampler] = {
    "normal_shift": lambda rng, n, s: rng.normal(s, 1.0, n),
    "rounded_ties": lambda rng, n, s: np.round(rng.normal(s, 1.0, n), 1),
    "cauchy": lambda rng, n, s: rng.standard_cauchy(n) + s,
    "lognormal_sigma4": lambda rng, n, s: rng.lognormal(s, 4.0, n),
    "integers": lambda rng, n, s: (rng.poisson(3.0 + s, n)).astype(np.float64),
}
SIZES = [1, 2, 3, 10, 100, 5_000, 20_000, 200_000]


def steps_of(a: np.ndarray, b: np.ndarray) -> ds.Steps:
    return ds.Steps.from_sorted(np.sort(a), np.sort(b))


def scipy_ks(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    with warnings.catch_warnings():
        # scipy's own exact->asymp fallback warns; the reference value is what we compare.
        warnings.simplefilter("ignore", RuntimeWarning)
        res = scipy.stats.ks_2samp(a, b)
    return float(res.statistic), float(res.pvalue)


def assert_ks_matches(a: np.ndarray, b: np.ndarray) -> ds.TestResult:
    got = ds.ks_2samp(steps_of(a, b))
    stat, p = scipy_ks(a, b)
    assert math.isclose(got.statistic, stat, rel_tol=1e-12, abs_tol=0.0)
    assert math.isclose(got.p_value, p, rel_tol=1e-9, abs_tol=1e-12), (got.p_value, p)
    return got


# --------------------------------------------------------------------------------------------
# KS and Wasserstein against scipy
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
@pytest.mark.parametrize("n", SIZES)
def test_ks_and_wasserstein_match_scipy(kind: str, n: int) -> None:
    rng = np.random.default_rng([n, len(kind)])
    sampler = SAMPLERS[kind]
    a = sampler(rng, n, 0.0)
    b = sampler(rng, max(1, (3 * n) // 4 + 1), 0.05)  # unequal sizes, small shift
    got = assert_ks_matches(a, b)
    assert 0.0 <= got.p_value <= 1.0
    w = ds.wasserstein(steps_of(a, b))
    assert math.isclose(w, scipy.stats.wasserstein_distance(a, b), rel_tol=1e-12)


@pytest.mark.parametrize("n", [10_000, 10_001])
def test_ks_exact_versus_asymptotic_threshold_is_scipys(n: int) -> None:
    # 10_000 per side is scipy's exact path, 10_001 the asymptotic one (MAX_AUTO_N); a
    # change of that threshold in scipy shows up here.
    rng = np.random.default_rng(n)
    assert_ks_matches(rng.normal(0, 1, n), rng.normal(0.03, 1, n))


def test_ks_exact_path_statistic_is_a_multiple_of_one_over_lcm() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(0, 1, 700), rng.normal(0.2, 1, 490)
    got = assert_ks_matches(a, b)
    lcm = 700 * 490 // math.gcd(700, 490)
    assert got.statistic * lcm == pytest.approx(round(got.statistic * lcm), abs=1e-9)


@pytest.mark.parametrize("shift", [0.0, 0.004, 0.008, 0.02, 0.2])
def test_ks_large_n_with_ties_matches_scipy(shift: float) -> None:
    # en = 1e5: shifts 0.004-0.02 put n D^2 in [2.2, 370), scipy's slow smirnov branch,
    # which we evaluate vectorised; 0 and 0.2 fall on either side of it.
    rng = np.random.default_rng(11)
    a = np.round(rng.normal(0, 1, 200_000), 2)
    b = np.round(rng.normal(shift, 1, 200_000), 2)
    assert_ks_matches(a, b)


@pytest.mark.parametrize(("n", "nx2"), [(10_000, 2.2), (10_000, 369.0), (60_000, 2.21),
                                        (60_000, 30.0), (250_000, 4.0), (250_000, 12.0),
                                        (1_000_000, 2.5)])
def test_fast_smirnov_branch_matches_kstwo_sf(n: int, nx2: float) -> None:
    d = math.sqrt(nx2 / n) * 1.0001
    ours = ds._kstwo_sf(d, float(n))
    ref = float(scipy.stats.kstwo.sf(d, float(n)))
    assert math.isclose(ours, ref, rel_tol=1e-10, abs_tol=1e-300), (ours, ref)


@pytest.mark.parametrize(("n", "d"), [(1_000_001, 0.002), (9_999, 0.02), (50_000, 0.001),
                                      (50_000, 0.2), (200, 0.1)])
def test_kstwo_sf_outside_fast_branch_is_scipy(n: int, d: float) -> None:
    assert ds._kstwo_sf(d, float(n)) == float(scipy.stats.kstwo.sf(d, float(n)))


def test_single_value_on_both_sides() -> None:
    steps = steps_of(np.full(50, 2.5), np.full(70, 2.5))
    assert ds.ks_2samp(steps) == ds.TestResult(0.0, 1.0)
    assert ds.wasserstein(steps) == 0.0
    big = steps_of(np.full(50_000, 2.5), np.full(70_000, 2.5))
    assert ds.ks_2samp(big) == ds.TestResult(0.0, 1.0)
    assert ds.wasserstein(big) == 0.0


def test_identical_samples() -> None:
    rng = np.random.default_rng(5)
    for n in (1, 7, 30_000):
        a = rng.normal(size=n)
        steps = steps_of(a, a.copy())
        assert ds.ks_2samp(steps) == ds.TestResult(0.0, 1.0)
        assert ds.wasserstein(steps) == 0.0


def test_disjoint_tiny_samples() -> None:
    assert_ks_matches(np.array([0.0]), np.array([1.0]))
    assert_ks_matches(np.array([0.0, 1.0]), np.array([2.0, 3.0, 4.0]))
    assert ds.wasserstein(steps_of(np.array([0.0]), np.array([3.0]))) == 3.0


def test_empty_side_raises_data_error() -> None:
    steps = ds.Steps.from_counts([1.0, 2.0], [3, 4], [], [])
    assert (steps.n_a, steps.n_b) == (7, 0)
    for fn in (ds.ks_2samp, ds.wasserstein, ds.ks_statistic):
        with pytest.raises(DataError, match="current"):
            fn(steps)
    zero_a = ds.Steps.from_counts([1.0], [0], [1.0], [5])
    with pytest.raises(DataError, match="baseline"):
        ds.ks_2samp(zero_a)


def test_wasserstein_beyond_float_range_of_the_axis() -> None:
    # np.diff overflows (2e308) but the distance itself is finite: |1/2 - 1/3| * 2e308.
    steps = steps_of(np.array([-1e308, 1e308]), np.array([-1e308, 1e308, 1e308]))
    assert ds.wasserstein(steps) == pytest.approx(1e308 / 3, rel=1e-12)
    with pytest.raises(DataError, match="float64 range"):
        ds.wasserstein(steps_of(np.array([-1e308]), np.array([1e308])))


def test_ecdf_exposed_for_plots() -> None:
    steps = ds.Steps.from_counts([1.0, 2.0, 3.0], [1, 1, 2], [2.0, 3.0], [3, 1])
    np.testing.assert_array_equal(steps.ecdf_a, [0.25, 0.5, 1.0])
    np.testing.assert_array_equal(steps.ecdf_b, [0.0, 0.75, 1.0])
    assert ds.ks_statistic(steps) == 0.25


# --------------------------------------------------------------------------------------------
# Steps construction
# --------------------------------------------------------------------------------------------


def test_from_counts_unordered_with_duplicates_equals_from_sorted() -> None:
    rng = np.random.default_rng(9)
    a = rng.integers(-5, 6, 400).astype(np.float64)
    b = rng.integers(-2, 9, 300).astype(np.float64)
    ref = steps_of(a, b)
    va, ca = np.unique(a, return_counts=True)
    vb, cb = np.unique(b, return_counts=True)
    # What GROUP BYs may return: rows in any order, one value split over two rows (partial
    # aggregates from two files) and a zero-count row for a value no sample has.
    pa, pb = rng.permutation(va.size), rng.permutation(vb.size)
    values_a = np.concatenate((va[pa], [100.0]))
    counts_a = np.concatenate((ca[pa], [0]))
    values_b = np.concatenate((vb[pb], vb[pb][:1]))
    counts_b = np.concatenate((cb[pb], [2]))
    counts_b[0] -= 2
    got = ds.Steps.from_counts(values_a, counts_a, values_b, counts_b)
    np.testing.assert_array_equal(got.values, np.append(ref.values, 100.0))
    np.testing.assert_array_equal(got.count_a, np.append(ref.count_a, 0))
    np.testing.assert_array_equal(got.count_b, np.append(ref.count_b, 0))
    assert ds.ks_2samp(got) == ds.ks_2samp(ref)
    assert ds.wasserstein(got) == ds.wasserstein(ref)


def test_from_counts_accepts_integral_float_counts_and_int_values() -> None:
    steps = ds.Steps.from_counts(np.array([3, 1]), np.array([2.0, 1.0]), [1], [4.0])
    np.testing.assert_array_equal(steps.values, [1.0, 3.0])
    np.testing.assert_array_equal(steps.count_a, [1, 2])
    np.testing.assert_array_equal(steps.count_b, [4, 0])
    assert steps.values.dtype == np.float64
    assert steps.count_a.dtype == np.int64


def test_from_sorted_merges_shared_and_signed_zero_values() -> None:
    steps = ds.Steps.from_sorted(np.array([-0.0, 0.0, 1.0, 1.0]), np.array([0.0, 2.0]))
    np.testing.assert_array_equal(steps.values, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(steps.count_a, [2, 2, 0])
    np.testing.assert_array_equal(steps.count_b, [1, 0, 1])
    assert (steps.n_a, steps.n_b) == (4, 2)


def test_both_empty_steps_is_constructible() -> None:
    steps = ds.Steps.from_sorted(np.array([]), np.array([]))
    assert steps.values.size == 0
    assert (steps.n_a, steps.n_b) == (0, 0)


@pytest.mark.parametrize(
    ("values", "count_a", "count_b", "match"),
    [
        ([1.0, 1.0], [1, 1], [0, 0], "strictly increasing"),
        ([2.0, 1.0], [1, 1], [0, 0], "strictly increasing"),
        ([1.0, np.nan], [1, 1], [0, 0], "non-finite"),
        ([1.0, np.inf], [1, 1], [0, 0], "non-finite"),
        ([1.0, 2.0], [1, -1], [0, 0], ">= 0"),
        ([1.0, 2.0], [1, 0.5], [0, 0], "whole numbers"),
        ([1.0, 2.0], [1], [0, 0], "differ in length"),
        ([1.0, 2.0], [1, 1], [0, 0, 0], "differ in length"),
        ([[1.0, 2.0]], [1, 1], [0, 0], "1-D"),
        (["a", "b"], [1, 1], [0, 0], "real numbers"),
        ([1.0, 2.0], ["x", "y"], [0, 0], "integer counts"),
    ],
)
def test_steps_validation(values: object, count_a: object, count_b: object, match: str) -> None:
    with pytest.raises(DataError, match=match) as info:
        ds.Steps(np.asarray(values), np.asarray(count_a), np.asarray(count_b))
    assert isinstance(info.value, GovernanceError)


def test_from_sorted_validation() -> None:
    with pytest.raises(DataError, match="a_sorted is not sorted"):
        ds.Steps.from_sorted(np.array([2.0, 1.0]), np.array([1.0]))
    with pytest.raises(DataError, match="b_sorted: 1 non-finite"):
        ds.Steps.from_sorted(np.array([1.0]), np.array([1.0, np.nan]))
    with pytest.raises(DataError, match="baseline counts"):
        ds.Steps.from_counts([1.0], [-3], [1.0], [1])


# --------------------------------------------------------------------------------------------
# Quantile edges, bins, PSI
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(SAMPLERS))
@pytest.mark.parametrize("n", [1, 2, 3, 10, 1_001, 100_000])
@pytest.mark.parametrize("n_bins", [2, 4, 10, 20])
def test_quantile_edges_equal_np_quantile(kind: str, n: int, n_bins: int) -> None:
    rng = np.random.default_rng([n, n_bins, len(kind)])
    sample = SAMPLERS[kind](rng, n, 0.0)
    values, counts = np.unique(sample, return_counts=True)
    probs = np.arange(1, n_bins) / n_bins
    expected = np.unique(np.quantile(sample, probs))
    np.testing.assert_array_equal(ds.quantile_edges(values, counts, n_bins), expected)


def test_quantile_edges_ties_collapse_and_zero_counts() -> None:
    # 60% zeros: the 1st..5th deciles are all 0 and collapse into one edge.
    values = np.array([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    counts = np.array([60, 10, 0, 10, 10, 10])
    sample = np.repeat(values, counts)
    edges = ds.quantile_edges(values, counts)
    np.testing.assert_array_equal(edges, np.unique(np.quantile(sample, np.arange(1, 10) / 10)))
    assert edges[0] == 0.0
    assert edges.size < 9
    # A constant sample has a single edge; n_bins=1 has none.
    np.testing.assert_array_equal(ds.quantile_edges([7.0], [5]), [7.0])
    # Row order of the table does not matter.
    order = np.array([3, 0, 5, 1, 4, 2])
    np.testing.assert_array_equal(ds.quantile_edges(values[order], counts[order]), edges)
    assert ds.quantile_edges([1.0, 2.0], [1, 1], n_bins=1).size == 0


@pytest.mark.parametrize(
    ("values", "counts", "n_bins", "match"),
    [
        ([1.0, 2.0], [0, 0], 10, "empty"),
        ([1.0, 2.0], [1, 1], 0, "n_bins"),
        ([1.0, 2.0], [1, 1], True, "n_bins"),
        ([1.0, 2.0], [1, 1], 2.5, "n_bins"),
        ([1.0, np.nan], [1, 1], 10, "non-finite"),
    ],
)
def test_quantile_edges_validation(values: list[float], counts: list[int], n_bins: object,
                                   match: str) -> None:
    with pytest.raises(DataError, match=match):
        ds.quantile_edges(values, counts, n_bins)  # type: ignore[arg-type]


def test_quantile_edges_do_not_overflow_near_float_max() -> None:
    edges = ds.quantile_edges([-1.7e308, 1.7e308], [1, 1], n_bins=4)
    assert np.isfinite(edges).all()
    assert np.all(np.diff(edges) > 0)


def reference_bins(sample: np.ndarray, edges: np.ndarray) -> np.ndarray:
    return np.bincount(np.searchsorted(edges, sample, side="left"), minlength=edges.size + 1)


def test_bin_counts_on_edge_values_fall_in_lower_bin() -> None:
    edges = np.array([1.0, 2.0, 3.0])
    values = np.array([0.5, 1.0, 1.5, 2.0, 3.0, 3.5])
    counts = np.array([1, 10, 100, 1000, 10000, 100000])
    expected = [11, 1100, 10000, 100000]  # (-inf,1], (1,2], (2,3], (3,inf)
    np.testing.assert_array_equal(ds.bin_counts(values, counts, edges), expected)
    order = np.array([4, 0, 5, 2, 1, 3])  # unsorted table takes the other code path
    np.testing.assert_array_equal(ds.bin_counts(values[order], counts[order], edges), expected)
    np.testing.assert_array_equal(reference_bins(np.repeat(values, counts), edges), expected)


def test_bin_counts_match_searchsorted_on_seeded_data() -> None:
    rng = np.random.default_rng(21)
    sample = np.round(rng.lognormal(0, 2, 50_000), 1)
    values, counts = np.unique(sample, return_counts=True)
    edges = ds.quantile_edges(values, counts)
    expected = reference_bins(sample, edges)
    np.testing.assert_array_equal(ds.bin_counts(values, counts, edges), expected)
    shuffled = rng.permutation(values.size)
    got = ds.bin_counts(values[shuffled], counts[shuffled], edges)
    np.testing.assert_array_equal(got, expected)
    assert got.dtype == np.int64
    assert int(got.sum()) == sample.size


def test_bin_counts_edge_cases() -> None:
    np.testing.assert_array_equal(ds.bin_counts([1.0, 2.0], [3, 4], []), [7])
    np.testing.assert_array_equal(ds.bin_counts([], [], [0.0]), [0, 0])
    with pytest.raises(DataError, match="strictly increasing"):
        ds.bin_counts([1.0], [1], [2.0, 1.0])
    with pytest.raises(DataError, match="non-finite"):
        ds.bin_counts([1.0], [1], [np.nan])
    with pytest.raises(DataError, match="differ in length"):
        ds.bin_counts([1.0, 2.0], [1], [0.0])


def test_psi_known_values() -> None:
    # e = (.5, .5), a = (.25, .75): .25 ln 2 + .25 ln 1.5 = .25 ln 3.
    assert ds.psi([50, 50], [25, 75]) == pytest.approx(0.25 * math.log(3.0), rel=1e-15)
    assert ds.psi([10, 20, 30], [1, 2, 3]) == 0.0
    # An empty baseline bin is floored at eps = 1e-4, not at 0.
    expected = -0.1 * math.log(0.9) + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    assert ds.psi([100, 0], [90, 10]) == pytest.approx(expected, rel=1e-14)
    assert ds.psi([100, 0], [90, 10], eps=1e-6) > ds.psi([100, 0], [90, 10])


def test_psi_contributions_sum_and_symmetry() -> None:
    rng = np.random.default_rng(2)
    e = rng.integers(0, 500, 12)
    a = rng.integers(0, 500, 12)
    terms = ds.psi_contributions(e, a)
    assert terms.shape == (12,)
    assert (terms >= 0).all()
    assert float(np.sum(terms)) == ds.psi(e, a)
    assert ds.psi(e, a) == pytest.approx(ds.psi(a, e), rel=1e-12)
    assert ds.DEFAULT_PSI_EPS == 1e-4


def test_psi_validation() -> None:
    with pytest.raises(DataError, match="all counts are zero"):
        ds.psi([0, 0], [1, 2])
    with pytest.raises(DataError, match="differ in length"):
        ds.psi([1, 2], [1, 2, 3])
    with pytest.raises(DataError, match="eps"):
        ds.psi([1, 2], [1, 2], eps=0.0)
    with pytest.raises(DataError, match="no bins"):
        ds.psi([], [])


# --------------------------------------------------------------------------------------------
# Categorical tests
# --------------------------------------------------------------------------------------------


def test_chi2_hand_computed() -> None:
    # Expected 15 in every cell: 4 * 5^2 / 15 = 20/3 on 1 dof; sf(x; 1) = erfc(sqrt(x / 2)).
    res = ds.chi2([10, 20], [20, 10])
    assert res.statistic == pytest.approx(20.0 / 3.0, rel=1e-14)
    assert res.p_value == pytest.approx(math.erfc(math.sqrt(10.0 / 3.0)), rel=1e-12)


@pytest.mark.parametrize(
    ("baseline", "current"),
    [
        ([50, 30, 20, 0], [45, 35, 15, 5]),       # last column: "unseen" bucket
        ([500, 300, 200, 7], [450, 350, 150, 9]),
        ([1, 0, 1], [0, 1, 1]),
        ([10**9, 10**9], [10**9 + 10**5, 10**9 - 10**5]),
    ],
)
def test_chi2_matches_scipy(baseline: list[int], current: list[int]) -> None:
    res = ds.chi2(baseline, current)
    ref = scipy.stats.chi2_contingency(np.array([baseline, current]), correction=False)
    assert res.statistic == float(ref.statistic)
    assert res.p_value == float(ref.pvalue)


def test_chi2_drops_empty_columns_and_degenerate_tables() -> None:
    res = ds.chi2([50, 50, 0, 0], [45, 55, 0, 0])
    ref = scipy.stats.chi2_contingency(np.array([[50, 50], [45, 55]]), correction=False)
    assert (res.statistic, res.p_value) == (float(ref.statistic), float(ref.pvalue))
    assert ds.chi2([10, 0, 0], [3, 0, 0]) == ds.TestResult(0.0, 1.0)
    with pytest.raises(DataError, match="current_counts"):
        ds.chi2([1, 2], [0, 0])


@pytest.mark.parametrize(
    ("baseline", "current"),
    [
        ([50, 30, 20, 0], [45, 35, 15, 5]),
        ([1, 2, 3], [3, 2, 1]),
        ([10**6, 1, 0], [10**6, 0, 1]),
        ([1, 1], [2, 2]),
    ],
)
def test_js_matches_scipy(baseline: list[int], current: list[int]) -> None:
    got = ds.js_distance(baseline, current)
    assert got == float(jensenshannon(baseline, current, base=2))
    assert 0.0 <= got <= 1.0


def test_js_extremes_and_validation() -> None:
    assert ds.js_distance([5, 0], [0, 7]) == 1.0
    assert ds.js_distance([3, 3, 3], [1, 1, 1]) == 0.0
    with pytest.raises(DataError, match="baseline_counts"):
        ds.js_distance([0, 0], [1, 1])


# --------------------------------------------------------------------------------------------
# Null rate and multiple testing
# --------------------------------------------------------------------------------------------


def test_null_rate() -> None:
    assert ds.null_rate(0, 0) == 0.0
    assert ds.null_rate(5, 20) == 0.25
    assert ds.null_rate(np.int64(3), np.int64(3)) == 1.0
    for bad in ((-1, 3), (4, 3), (1, -1)):
        with pytest.raises(DataError):
            ds.null_rate(*bad)
    with pytest.raises(DataError, match="integers"):
        ds.null_rate(1.5, 3)  # type: ignore[arg-type]


def test_benjamini_hochberg_matches_scipy() -> None:
    rng = np.random.default_rng(4)
    p = np.concatenate((rng.random(25), rng.random(5) * 1e-4, [0.0, 1.0, 0.05, 0.05]))
    got = ds.benjamini_hochberg(p.tolist())
    np.testing.assert_array_equal(got, scipy.stats.false_discovery_control(p, method="bh"))
    assert got.dtype == np.float64
    assert got.shape == p.shape
    assert ds.benjamini_hochberg([]).size == 0
    for bad in ([0.1, np.nan], [1.5], [-0.1], ["x"], [[0.1]]):
        with pytest.raises(DataError):
            ds.benjamini_hochberg(bad)  # type: ignore[arg-type]


def test_test_result_is_not_collected_by_pytest() -> None:
    assert ds.TestResult.__test__ is False
    assert ds.TestResult(1.0, 0.5) == ds.TestResult(1.0, 0.5)


