"""Statistics on unsorted samples (buckets) equal the sorted-table path and scipy.

Tiny grids (a few values a bucket, extreme values, huge offsets) force the refinement code
paths that a realistic grid rarely takes. KS extremes, the point where ``|F_a - F_b|`` peaks,
order statistics and ``#{x <= p}`` must match bit for bit; Wasserstein to 1e-12 relative.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.drift import buckets, engine
from governance.drift import stats as ds

PROPERTY = settings(derandomize=True, max_examples=150, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])

finite = st.floats(min_value=-1e300, max_value=1e300, allow_nan=False, allow_infinity=False)
values = st.one_of(
    st.lists(finite, min_size=1, max_size=60),
    st.lists(st.integers(-4, 4).map(float), min_size=1, max_size=150),
    st.lists(st.floats(-1e9, 1e9, allow_nan=False), min_size=1, max_size=80),
)


def _check(a: np.ndarray, b: np.ndarray, per_bucket: int) -> None:
    pair = buckets.Pair.of(a, b, per_bucket)
    steps = ds.Steps.from_sorted(np.sort(a), np.sort(b))
    diff = steps.ecdf_a - steps.ecdf_b
    ks = pair.ks()
    assert (ks.max_diff, ks.min_diff) == (float(diff.max()), float(diff.min()))
    at = int(np.argmax(np.abs(diff)))
    assert (ks.at, ks.ecdf_a, ks.ecdf_b) == (steps.values[at], steps.ecdf_a[at],
                                             steps.ecdf_b[at])
    with np.errstate(over="ignore", invalid="ignore"):
        expected = float(scipy.stats.wasserstein_distance(a, b))
    if np.isfinite(expected):
        assert pair.wasserstein() == pytest.approx(expected, rel=1e-12, abs=1e-300)
    ranks = np.unique(np.array([0, a.size // 3, a.size // 2, a.size - 1]))
    assert (pair.a.order_stats(ranks, pair.grid) == np.sort(a)[ranks]).all()
    points = np.concatenate((b[:7], a[-3:], [a.min(), b.max()]))
    assert (pair.a.count_le(points, pair.grid)
            == np.searchsorted(np.sort(a), points, side="right")).all()


@PROPERTY
@given(values, values, st.integers(1, 8))
def test_bucketed_statistics_equal_the_sorted_path(a: list[float], b: list[float],
                                                   per_bucket: int) -> None:
    """Any data, any grid: KS extremes, peak, order statistics exact; Wasserstein ~1e-12."""
    _check(np.array(a), np.array(b), per_bucket)


@PROPERTY
@given(values, st.lists(st.booleans(), min_size=1, max_size=40), st.integers(1, 8),
       st.integers(0, 3))
def test_subsets_are_the_sorted_values_of_their_buckets(
        monkeypatch: pytest.MonkeyPatch, a: list[float], pick: list[bool], per_bucket: int,
        tied: int) -> None:
    """Sorted or assembled from single-valued buckets (tied data), a subset is exact."""
    monkeypatch.setattr(buckets, "_TIED", tied)  # 0: every subset takes the tied-data path
    raw = np.array(a)
    side = buckets.Pair.of(raw, raw[::-1].copy(), per_bucket).a
    chosen = np.resize(np.array(pick), side.below.size - 1)
    sub = side.subset(chosen)
    expected = np.sort(raw[chosen[side.bucket]])
    assert sub.values.tolist() == expected.tolist()
    assert sub.distinct.tolist() == np.unique(expected).tolist()


@pytest.mark.parametrize("shape", ["normal", "ties", "lognormal", "offset", "outlier"])
def test_large_samples_on_realistic_grids(shape: str) -> None:
    """Seeded samples big enough for the default grid, including heavy tails and outliers."""
    rng = np.random.default_rng(7)
    n, m = 30_000, 21_000
    if shape == "normal":
        a, b = rng.normal(0, 1, n), rng.normal(0.01, 1, m)
    elif shape == "ties":
        a, b = np.round(rng.normal(0, 1, n), 1), np.round(rng.normal(0, 1, m), 1)
    elif shape == "lognormal":
        a, b = rng.lognormal(3, 1.5, n), rng.lognormal(3, 1.5, m)
    elif shape == "offset":
        a, b = 1e9 + rng.normal(0, 1, n), 1e9 + rng.normal(0, 1, m)
    else:
        a, b = rng.normal(0, 1, n), np.append(rng.normal(0, 1, m - 1), 1e300)
    for per_bucket in (buckets.PER_BUCKET, 2):
        _check(a, b, per_bucket)


def _sample(raw: np.ndarray) -> engine.Sample:
    return engine.Sample(raw.size, 0, 0, raw)


@pytest.mark.parametrize("frozen", [False, True])
def test_sample_tests_equal_table_tests(frozen: bool) -> None:
    """The engine's unsorted path reports what the table path reports (W to 1e-12)."""
    rng = np.random.default_rng(3)
    a = np.concatenate((rng.normal(0, 1, 15_000), np.round(rng.normal(0, 1, 5_000), 1)))
    b = np.concatenate((rng.normal(0.1, 1.2, 12_000), np.round(rng.normal(0, 1, 4_000), 1)))
    edges = np.array([-1.5, -0.2, 0.0, 0.3, 2.5]) if frozen else None
    got = engine.numeric_tests(_sample(a), _sample(b), edges)
    want = engine.numeric_tests(_sample(a).table(), _sample(b).table(), edges)
    assert got["ks"] == want["ks"]
    assert got["psi"] == want["psi"]
    assert got["wasserstein_norm"] == pytest.approx(want["wasserstein_norm"], rel=1e-12)
    chart, expected = got["_chart"], want["_chart"]
    for key in ("baseline_mean", "baseline_std"):
        assert chart[key] == pytest.approx(expected[key], rel=1e-12)
    for key in expected.keys() - {"baseline_mean", "baseline_std"}:
        assert chart[key] == expected[key], key
    ks = scipy.stats.ks_2samp(a, b)
    assert (got["ks"]["statistic"], got["ks"]["p_value"]) == pytest.approx(
        (ks.statistic, ks.pvalue), rel=1e-12)
