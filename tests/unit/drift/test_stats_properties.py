"""Property tests: statistics from count tables equal scipy/numpy on the raw samples.

Hypothesis draws raw samples of several shapes (arbitrary floats with duplicates, small
integers with heavy ties, mixtures drawn from a small shared pool, and seeded numpy samples big
enough for the asymptotic KS path), builds the count tables the warehouse would return, and
checks every statistic against its reference on the raw samples:

* KS statistic to 1e-12 relative and p-value to 1e-12 absolute / 1e-9 relative;
* Wasserstein to 1e-12 relative;
* quantile edges, bin counts, chi-square and JS bit for bit (JS: scipy's NaN on a negative
  rounding residue is the one documented difference, reported as 0);
* ``from_counts`` on a shuffled, split table equals ``from_sorted`` on the raw data.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import scipy.stats
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from scipy.spatial.distance import jensenshannon

from governance.drift import stats as ds

# The autouse environment fixture in tests/conftest.py is function scoped; it is harmless to
# share between examples. database=None keeps .hypothesis/ out of the working tree.
PROPERTY = settings(
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

finite = st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False)
arbitrary = st.lists(finite, min_size=1, max_size=60)
small_ints = st.lists(st.integers(-4, 4).map(float), min_size=1, max_size=150)
pool = st.lists(finite, min_size=1, max_size=6, unique=True)


@st.composite
def sample_pair(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Two raw samples: independent, small-integer ties, or drawn from one shared pool."""
    kind = draw(st.sampled_from(["arbitrary", "ints", "pool", "mixed"]))
    if kind == "arbitrary":
        a, b = draw(arbitrary), draw(arbitrary)
    elif kind == "ints":
        a, b = draw(small_ints), draw(small_ints)
    elif kind == "pool":
        values = draw(pool)
        a = draw(st.lists(st.sampled_from(values), min_size=1, max_size=80))
        b = draw(st.lists(st.sampled_from(values), min_size=1, max_size=80))
    else:
        values = draw(pool)
        a = draw(st.lists(st.sampled_from(values), min_size=1, max_size=40)) + draw(arbitrary)
        b = draw(small_ints)
    return np.array(a, dtype=np.float64), np.array(b, dtype=np.float64)


@st.composite
def large_pair(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    """Seeded numpy samples with max(n) > 10_000: scipy's asymptotic KS path."""
    seed = draw(st.integers(0, 2**32 - 1))
    n_a = draw(st.integers(10_001, 30_000))
    n_b = draw(st.one_of(st.integers(1, 50), st.integers(500, 30_000)))
    shift = draw(st.sampled_from([0.0, 0.01, 0.03, 0.05, 0.1, 0.5]))
    shape = draw(st.sampled_from(["normal", "rounded", "cauchy", "lognormal", "poisson"]))
    rng = np.random.default_rng(seed)

    def sample(n: int, s: float) -> np.ndarray:
        if shape == "normal":
            return rng.normal(s, 1.0, n)
        if shape == "rounded":
            return np.round(rng.normal(s, 1.0, n), 1)
        if shape == "cauchy":
            return rng.standard_cauchy(n) + s
        if shape == "lognormal":
            return rng.lognormal(s, 4.0, n)
        return rng.poisson(2.0 + s, n).astype(np.float64)

    a, b = sample(n_a, 0.0), sample(n_b, shift)
    return (a, b) if draw(st.booleans()) else (b, a)


def steps_of(a: np.ndarray, b: np.ndarray) -> ds.Steps:
    return ds.Steps.from_sorted(np.sort(a), np.sort(b))


def check_ks_and_wasserstein(a: np.ndarray, b: np.ndarray) -> None:
    steps = steps_of(a, b)
    got = ds.ks_2samp(steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's exact->asymp fallback notice
        ref = scipy.stats.ks_2samp(a, b)
    assert math.isclose(got.statistic, float(ref.statistic), rel_tol=1e-12, abs_tol=0.0)
    assert math.isclose(got.p_value, float(ref.pvalue), rel_tol=1e-9, abs_tol=1e-12)
    assert 0.0 <= got.p_value <= 1.0
    w = ds.wasserstein(steps)
    assert math.isfinite(w)
    assert math.isclose(w, float(scipy.stats.wasserstein_distance(a, b)), rel_tol=1e-12)


@PROPERTY
@given(sample_pair())
def test_ks_and_wasserstein_equal_scipy(pair: tuple[np.ndarray, np.ndarray]) -> None:
    check_ks_and_wasserstein(*pair)


@PROPERTY
@given(large_pair())
def test_ks_and_wasserstein_equal_scipy_on_the_asymptotic_path(
        pair: tuple[np.ndarray, np.ndarray]) -> None:
    check_ks_and_wasserstein(*pair)


@PROPERTY
@given(sample_pair(), st.integers(0, 2**32 - 1))
def test_from_counts_of_shuffled_tables_equals_from_sorted(
        pair: tuple[np.ndarray, np.ndarray], seed: int) -> None:
    a, b = pair
    ref = steps_of(a, b)
    rng = np.random.default_rng(seed)
    tables = []
    for sample in (a, b):
        values, counts = np.unique(sample, return_counts=True)
        # Split every row in two partial rows (as from two files), then shuffle.
        first = rng.integers(0, counts + 1)
        values = np.concatenate((values, values))
        counts = np.concatenate((first, counts - first))
        order = rng.permutation(values.size)
        tables += [values[order], counts[order]]
    got = ds.Steps.from_counts(*tables)
    np.testing.assert_array_equal(got.values, ref.values)
    np.testing.assert_array_equal(got.count_a, ref.count_a)
    np.testing.assert_array_equal(got.count_b, ref.count_b)


@PROPERTY
@given(sample_pair(), st.integers(1, 25))
def test_quantile_edges_equal_np_quantile(pair: tuple[np.ndarray, np.ndarray],
                                          n_bins: int) -> None:
    sample = pair[0]
    values, counts = np.unique(sample, return_counts=True)
    expected = np.unique(np.quantile(sample, np.arange(1, n_bins) / n_bins))
    np.testing.assert_array_equal(ds.quantile_edges(values, counts, n_bins), expected)


@PROPERTY
@given(sample_pair(), st.lists(finite, max_size=12, unique=True), st.booleans())
def test_bin_counts_equal_searchsorted_convention(pair: tuple[np.ndarray, np.ndarray],
                                                  extra_edges: list[float],
                                                  shuffle: bool) -> None:
    sample, other = pair
    # Edges made partly of sample values, so values exactly on an edge are common.
    edges = np.unique(np.concatenate((np.array(extra_edges), other[:5])))
    expected = np.bincount(np.searchsorted(edges, sample, side="left"),
                           minlength=edges.size + 1)
    values, counts = np.unique(sample, return_counts=True)
    if shuffle:
        order = np.random.default_rng(values.size).permutation(values.size)
        values, counts = values[order], counts[order]
    got = ds.bin_counts(values, counts, edges)
    np.testing.assert_array_equal(got, expected)
    assert got.size == edges.size + 1


counts_vectors = st.integers(1, 8).flatmap(
    lambda k: st.tuples(st.lists(st.integers(0, 60), min_size=k, max_size=k),
                        st.lists(st.integers(0, 60), min_size=k, max_size=k)))


@PROPERTY
@given(counts_vectors)
def test_chi2_equals_scipy_on_non_empty_columns(pair: tuple[list[int], list[int]]) -> None:
    baseline, current = np.array(pair[0]), np.array(pair[1])
    assume(baseline.sum() > 0 and current.sum() > 0)
    got = ds.chi2(baseline, current)
    keep = (baseline + current) > 0
    if keep.sum() < 2:
        assert got == ds.TestResult(0.0, 1.0)
        return
    ref = scipy.stats.chi2_contingency(np.array([baseline[keep], current[keep]]),
                                       correction=False)
    assert got.statistic == float(ref.statistic)
    assert got.p_value == float(ref.pvalue)


@PROPERTY
@given(counts_vectors)
def test_js_and_psi_on_count_vectors(pair: tuple[list[int], list[int]]) -> None:
    baseline, current = np.array(pair[0]), np.array(pair[1])
    assume(baseline.sum() > 0 and current.sum() > 0)
    got = ds.js_distance(baseline, current)
    with np.errstate(invalid="ignore"):
        ref = float(jensenshannon(baseline, current, base=2))
    assert 0.0 <= got <= 1.0
    if math.isnan(ref):
        assert got == 0.0
    else:
        assert got == min(ref, 1.0)
    terms = ds.psi_contributions(baseline, current)
    assert np.isfinite(terms).all()
    assert (terms >= 0.0).all()
    assert float(np.sum(terms)) == ds.psi(baseline, current)


@PROPERTY
@given(st.lists(st.floats(0.0, 1.0), max_size=40))
def test_benjamini_hochberg_equals_scipy(p_values: list[float]) -> None:
    got = ds.benjamini_hochberg(p_values)
    if not p_values:
        assert got.size == 0
        return
    ref = scipy.stats.false_discovery_control(np.array(p_values), method="bh")
    np.testing.assert_array_equal(got, ref)
