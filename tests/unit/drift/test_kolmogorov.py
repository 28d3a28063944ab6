"""``kstwo_sf`` (no scipy.stats import) is bit-identical to ``scipy.stats.kstwo.sf``.

A dense grid of effective sample sizes (both sides of n = 140, 100k and 1M) and statistics
(below and at the support edge 1/(2n), around 1/n, nD^2 around 2.2, 18 and 370, D around
0.5 and near 1) covers every branch of scipy's ``_kolmogn`` survival function.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats

from governance.drift import stats
from governance.drift.kolmogorov import kstwo_sf

SIZES = [1, 2, 7, 100, 140, 141, 500, 5_000, 9_999, 10_000, 100_000,
         100_001, 500_000, 1_000_001, 5_000_000]


def _statistics(n: int) -> np.ndarray:
    special = [0.5 / n, np.nextafter(0.5 / n, 1), 1.0 / n, 2.0 / n, (n - 1) / n, 0.5,
               np.nextafter(0.5, 0), 0.999999, 1.0, 0.0]
    for nx2 in (0.5, 0.754693, 1.0, 2.2, 4.0, 18.0, 369.9, 370.0):
        special.append(np.sqrt(nx2 / n))
    for edge in (1.4,):  # n x^1.5 = 1.4: Durbin vs Pelz-Good
        special.append((edge / n) ** (2 / 3))
    grid = np.concatenate((np.geomspace(1e-7, 1.0, 40), special))
    return np.unique(np.clip(np.concatenate((grid, np.nextafter(grid, 0), np.nextafter(grid, 2))),
                             0.0, 1.0))


@pytest.mark.parametrize("n", SIZES)
def test_kstwo_sf_is_scipys(n: int) -> None:
    """Every statistic on the grid: the same float as scipy."""
    for d in _statistics(n):
        if 2.2 <= n * d * d < 370 and 10_000 <= n <= 1_000_000 and d < 0.5:
            continue  # scipy's O(n) smirnov branch: the same call on both sides, and slow
        assert kstwo_sf(float(d), float(n)) == float(scipy.stats.kstwo.sf(d, float(n))), d


@pytest.mark.parametrize(("n_a", "n_b"), [(10_001, 10_001), (10_001, 3), (200_000, 150_000),
                                          (1_000_000, 999_999), (25_000, 140)])
def test_ks_asymptotic_is_scipys(n_a: int, n_b: int) -> None:
    """ks_2samp's asymptotic p-value for D on the lattice of attainable values."""
    rng = np.random.default_rng(n_a + n_b)
    a = np.arange(n_a) / n_a
    for shift in np.concatenate(([0.0], rng.uniform(-0.02, 0.02, 3), [0.3, -0.9])):
        b = np.arange(n_b) / n_b + shift
        want = scipy.stats.ks_2samp(a, b)
        steps = stats.Steps.from_sorted(a, np.sort(b))
        got = stats.ks_2samp(steps)
        assert got.statistic == want.statistic
        assert got.p_value == pytest.approx(want.pvalue, rel=1e-12, abs=0.0)
