"""Drift statistics computed from small count tables, matching scipy on the raw samples.

The warehouse never ships raw columns to Python. It returns *count tables*: distinct values
with their multiplicities (``GROUP BY x``), counts per frozen baseline bin, counts per
category. Every function here turns such tables into a statistic that is equal to what scipy
or numpy returns on the raw samples those counts describe:

==========================  =====================================================  ==========
function                    reference on the raw samples                           agreement
==========================  =====================================================  ==========
:func:`ks_2samp`            ``scipy.stats.ks_2samp(a, b)`` (two-sided, auto)        see below
:func:`wasserstein`         ``scipy.stats.wasserstein_distance(a, b)``              ~1e-15 rel
:func:`quantile_edges`      ``np.quantile(a, probs)`` (method ``"linear"``)         bit-exact
:func:`bin_counts`          ``np.searchsorted(edges, a, side="left")`` + bincount   exact
:func:`chi2`                ``scipy.stats.chi2_contingency(t, correction=False)``   bit-exact
:func:`js_distance`         ``scipy.spatial.distance.jensenshannon(p, q, base=2)``  bit-exact
:func:`benjamini_hochberg`  ``scipy.stats.false_discovery_control(p, method="bh")``  bit-exact
==========================  =====================================================  ==========

KS p-value paths (scipy 1.17 ``ks_2samp`` with ``method="auto"``):

* ``max(n_a, n_b) <= 10_000``: scipy's *exact* path. Its p-value depends only on
  ``(n_a, n_b, D)`` but the code is a private compiled helper, so we rebuild the raw samples
  from the counts (lossless, at most 20k floats) and call the public ``scipy.stats.ks_2samp``.
  Statistic and p-value are therefore bit-identical, including scipy's rounding of ``D`` to
  ``h / lcm(n_a, n_b)`` and its silent-here fallback to the asymptotic path.
* otherwise: scipy's *asymp* path, ``kstwo.sf(D, round(n_a n_b / (n_a + n_b)))``. ``D`` is
  computed from the counts bit-identically. ``kstwo.sf`` is called directly except in one
  branch: for ``10_000 <= n <= 1_000_000`` and ``2.2 <= n D**2 < 370`` scipy evaluates
  ``2 * smirnov(n, D)``, an O(n) double-double loop that costs ~1 s at n = 5e5 (exactly the
  moderate-drift regime a monitor sees every day). There we sum the same Birnbaum-Tingey series
  vectorised (:func:`_smirnov_sf`), ~20x faster and within ~1e-12 relative of scipy.

Inputs are validated: invalid ones raise :class:`~governance.errors.DataError`, never a numpy
error or warning. Outputs are finite floats (never NaN). Callers map empty windows to an
``insufficient_data`` status *before* calling; an empty side here is a caller bug reported as
``DataError``.
"""

from __future__ import annotations

import math
import operator
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from governance.drift import kolmogorov
from governance.drift.special import special
from governance.errors import DataError

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: scipy's ``MAX_AUTO_N`` in ``ks_2samp``: "auto" is exact iff both sizes are at most this.
KS_MAX_EXACT_N = 10_000

#: Default PSI floor for bin proportions. A floor is needed because a bin empty on one side
#: makes ``ln(a / e)`` infinite. Such a bin scores about ``a * ln(a / eps)``, so the penalty grows
#: with ``ln(1 / eps)``. Some bins are empty *by construction* (the baseline's "unseen" bucket,
#: a rare "other" bucket): with 1e-4 (Evidently's value too) a 1% unseen share scores 0.046,
#: with 1e-6 it scores 0.092, which alone nearly reaches the usual 0.1 drift threshold; a
#: tiny floor makes PSI explode on those bins and flag drift that the separate unseen-share
#: metric already reports. A bin empty on both sides scores 0 whatever the floor.
DEFAULT_PSI_EPS = 1e-4

# Branch of scipy's kstwo.sf (scipy/stats/_ksstats.py::_kolmogn, sf side, n > 140) that calls
# special.smirnov: nxsquared in [2.2, 370). smirnov is only computed exactly up to
# SMIRNOV_MAX_COMPUTE_N (xsf/cephes/kolmogorov.h); above that scipy itself approximates in O(1),
# so we defer to it. Below _SMIRNOV_FAST_MIN_N scipy is fast enough (< ~15 ms) to call as is.
_SMIRNOV_NX2_MIN = 2.2
_SMIRNOV_NX2_MAX = 370.0
_SMIRNOV_MAX_COMPUTE_N = 1_000_000
_SMIRNOV_FAST_MIN_N = 10_000

# Stirling-series coefficients 1/12, 1/360, 1/1260, 1/1680, 1/1188 and ln(2 pi) / 2.
_ST0, _ST1, _ST2, _ST3, _ST4 = 1 / 12, 1 / 360, 1 / 1260, 1 / 1680, 1 / 1188
_HALF_LN_2PI = 0.5 * math.log(2.0 * math.pi)


# --------------------------------------------------------------------------------------------
# Input coercion
# --------------------------------------------------------------------------------------------


def _as_values(name: str, x: Any) -> FloatArray:
    """Return ``x`` as a 1-D finite float64 array or raise DataError naming ``name``."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise DataError(f"{name}: expected a 1-D array, got shape {arr.shape}")
    if arr.dtype.kind not in "iuf":
        raise DataError(f"{name}: expected real numbers, got dtype {arr.dtype}")
    out = arr.astype(np.float64, copy=False)
    if out.size and not np.isfinite(out).all():
        bad = int(out.size - np.count_nonzero(np.isfinite(out)))
        raise DataError(f"{name}: {bad} non-finite value(s) (NaN/inf); drop or count them "
                        "separately before computing statistics")
    return out


def _as_counts(name: str, x: Any) -> IntArray:
    """Return ``x`` as a 1-D non-negative int64 array (integral floats accepted)."""
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise DataError(f"{name}: expected a 1-D array of counts, got shape {arr.shape}")
    if arr.dtype.kind == "f":
        # Counts arriving as DOUBLE (e.g. SUM over a pre-aggregate) are fine if integral.
        if arr.size and not (np.isfinite(arr).all() and (arr == np.floor(arr)).all()):
            raise DataError(f"{name}: counts must be whole numbers")
        if arr.size and float(np.abs(arr).max()) >= 2.0**62:
            raise DataError(f"{name}: count too large for int64")
        out = arr.astype(np.int64)
    elif arr.dtype.kind in "iu":
        if arr.dtype.kind == "u" and arr.size and int(arr.max()) > np.iinfo(np.int64).max:
            raise DataError(f"{name}: count too large for int64")
        out = arr.astype(np.int64, copy=False)
    elif arr.dtype.kind == "b" or arr.size == 0:
        out = arr.astype(np.int64)
    else:
        raise DataError(f"{name}: expected integer counts, got dtype {arr.dtype}")
    if out.size and int(out.min()) < 0:
        raise DataError(f"{name}: counts must be >= 0")
    return out


def _check_same_length(a_name: str, a: npt.NDArray[Any], b_name: str,
                       b: npt.NDArray[Any]) -> None:
    if a.shape != b.shape:
        raise DataError(f"{a_name} and {b_name} differ in length ({a.size} vs {b.size})")


def _is_nondecreasing(x: FloatArray) -> bool:
    return bool(x.size < 2 or (x[1:] >= x[:-1]).all())


def _run_length(sorted_values: FloatArray) -> tuple[FloatArray, IntArray]:
    """Distinct values and multiplicities of an ascending array, in O(n)."""
    n = sorted_values.size
    if n == 0:
        return np.empty(0, np.float64), np.empty(0, np.int64)
    starts = np.flatnonzero(np.concatenate(([True], sorted_values[1:] != sorted_values[:-1])))
    counts = np.diff(np.append(starts, n)).astype(np.int64, copy=False)
    return sorted_values[starts], counts


def _merge_tables(va: FloatArray, ca: IntArray, vb: FloatArray, cb: IntArray) -> Steps:
    """Merge two strictly increasing (value, count) tables into one :class:`Steps`."""
    ka = va.size
    both = np.concatenate((va, vb))
    if both.size == 0:
        return Steps(both, np.empty(0, np.int64), np.empty(0, np.int64))
    # A stable argsort of two concatenated ascending runs is a linear-time merge (timsort finds
    # the two runs), a few times cheaper than searchsorted-ing each table into the other.
    order = np.argsort(both, kind="stable")
    merged = both[order]
    del both  # at 10M rows a side each temporary is ~160 MB: free them as soon as possible
    is_new = np.empty(merged.size, dtype=bool)
    is_new[0] = True
    np.not_equal(merged[1:], merged[:-1], out=is_new[1:])
    starts = np.flatnonzero(is_new)
    del is_new
    in_b = order >= ka
    counts = np.concatenate((ca, cb))[order]
    del order
    count_a = np.where(in_b, 0, counts)
    count_b = np.where(in_b, counts, 0)
    del counts, in_b
    if starts.size != merged.size:
        # A value present in both tables occupies two adjacent slots (each table is distinct):
        # fold them. reduceat is a sequential pass, no scatter.
        count_a = np.add.reduceat(count_a, starts)
        count_b = np.add.reduceat(count_b, starts)
        merged = merged[starts]
    return Steps(merged, count_a, count_b)


def merge_sorted(va: Any, ca: Any, vb: Any, cb: Any) -> Steps:
    """Merge two (value, count) tables whose values are already distinct and ascending.

    The engine's sides come out of a sort, so re-sorting them (as :meth:`Steps.from_counts`
    must for SQL output in any order) would be wasted work.
    """
    return _merge_tables(_as_values("values_a", va), _as_counts("counts_a", ca),
                         _as_values("values_b", vb), _as_counts("counts_b", cb))


def _aggregate_table(name: str, values: Any, counts: Any) -> tuple[FloatArray, IntArray]:
    """Sort a (value, count) table and sum the counts of equal values."""
    v = _as_values(f"{name} values", values)
    c = _as_counts(f"{name} counts", counts)
    _check_same_length(f"{name} values", v, f"{name} counts", c)
    if v.size == 0:
        return v, c
    order = np.argsort(v, kind="stable")
    v_sorted = v[order]
    c_sorted = c[order]
    starts = np.flatnonzero(np.concatenate(([True], v_sorted[1:] != v_sorted[:-1])))
    return v_sorted[starts], np.add.reduceat(c_sorted, starts).astype(np.int64, copy=False)


# --------------------------------------------------------------------------------------------
# Data types
# --------------------------------------------------------------------------------------------


# eq=False: ndarray fields make the generated __eq__/__hash__ meaningless (ambiguous truth
# value / unhashable); identity semantics are what a cache key or a set needs anyway.
@dataclass(frozen=True, eq=False)
class Steps:
    """ECDF steps of two samples over their merged distinct finite values.

    Attributes:
        values: float64, strictly increasing, finite: every distinct value of either sample.
        count_a: int64 count of each value in sample a (the baseline); zeros allowed.
        count_b: int64 count of each value in sample b (the current window); zeros allowed.

    Either sample may be empty here (so a caller can build a ``Steps`` and inspect ``n_a``);
    the statistics raise :class:`DataError` on an empty side.

    Raises:
        DataError: on construction, if the arrays are not 1-D, differ in length, the values are
            not finite and strictly increasing, or a count is negative or not whole.
    """

    values: FloatArray
    count_a: IntArray
    count_b: IntArray

    def __post_init__(self) -> None:
        values = _as_values("Steps.values", self.values)
        count_a = _as_counts("Steps.count_a", self.count_a)
        count_b = _as_counts("Steps.count_b", self.count_b)
        _check_same_length("Steps.values", values, "Steps.count_a", count_a)
        _check_same_length("Steps.values", values, "Steps.count_b", count_b)
        if values.size > 1 and not (values[1:] > values[:-1]).all():
            raise DataError("Steps.values must be strictly increasing (distinct, ascending)")
        # Frozen dataclass: store the normalised arrays through object.__setattr__.
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "count_a", count_a)
        object.__setattr__(self, "count_b", count_b)

    @property
    def n_a(self) -> int:
        """Size of sample a."""
        return int(self.count_a.sum())

    @property
    def n_b(self) -> int:
        """Size of sample b."""
        return int(self.count_b.sum())

    @cached_property
    def ecdf_a(self) -> FloatArray:
        """ECDF of sample a at each of :attr:`values` (``#{a <= v} / n_a``); for plots too."""
        return _ecdf(self.count_a)

    @cached_property
    def ecdf_b(self) -> FloatArray:
        """ECDF of sample b at each of :attr:`values` (``#{b <= v} / n_b``)."""
        return _ecdf(self.count_b)

    @classmethod
    def from_sorted(cls, a_sorted: Any, b_sorted: Any) -> Steps:
        """Build steps from two ascending raw samples in O(n) (no re-sort of the raw data).

        Args:
            a_sorted: Sample a, ascending, finite.
            b_sorted: Sample b, ascending, finite.

        Returns:
            The merged steps. ``-0.0`` and ``0.0`` count as one value, as in scipy.

        Raises:
            DataError: if a sample is not 1-D, not finite or not ascending.
        """
        a = _as_values("a_sorted", a_sorted)
        b = _as_values("b_sorted", b_sorted)
        for name, arr in (("a_sorted", a), ("b_sorted", b)):
            if not _is_nondecreasing(arr):
                raise DataError(f"{name} is not sorted ascending")
        va, ca = _run_length(a)
        vb, cb = _run_length(b)
        return _merge_tables(va, ca, vb, cb)

    @classmethod
    def from_counts(cls, values_a: Any, counts_a: Any, values_b: Any, counts_b: Any) -> Steps:
        """Merge two (value, count) tables, in any order, as a SQL ``GROUP BY`` returns them.

        Repeated values within one table are summed (e.g. partial aggregates from several
        files); zero counts are kept and are harmless.

        Raises:
            DataError: if a table is malformed (lengths differ, non-finite values, negative or
                fractional counts).
        """
        va, ca = _aggregate_table("baseline", values_a, counts_a)
        vb, cb = _aggregate_table("current", values_b, counts_b)
        return _merge_tables(va, ca, vb, cb)


def _ecdf(counts: IntArray) -> FloatArray:
    total = int(counts.sum())
    if total == 0:
        return np.zeros(counts.size, np.float64)
    # int64 cumsum / int -> float64, the same operation scipy performs on searchsorted
    # indices, so the ECDF values (and hence D) are bit-identical to scipy's.
    out: FloatArray = np.cumsum(counts) / total
    return out


@dataclass(frozen=True)
class TestResult:
    """Result of a hypothesis test.

    Attributes:
        statistic: The test statistic.
        p_value: The p-value, in [0, 1].
    """

    # Not a pytest test class despite the name; stops pytest trying to collect it.
    __test__ = False

    statistic: float
    p_value: float


def _require_both(steps: Steps, what: str) -> tuple[int, int]:
    n_a, n_b = steps.n_a, steps.n_b
    if n_a == 0 or n_b == 0:
        side = "baseline (a)" if n_a == 0 else "current (b)"
        raise DataError(f"{what}: the {side} sample is empty; report insufficient_data instead")
    return n_a, n_b


# --------------------------------------------------------------------------------------------
# Numeric features
# --------------------------------------------------------------------------------------------


def ks_statistic(steps: Steps) -> float:
    """Two-sided KS distance ``max |F_a - F_b|`` computed exactly as scipy does it.

    This is the raw statistic; :func:`ks_2samp` returns scipy's reported statistic, which in
    the exact regime is rounded to the nearest multiple of ``1 / lcm(n_a, n_b)``.

    Raises:
        DataError: if either sample is empty.
    """
    _require_both(steps, "ks_statistic")
    diff = steps.ecdf_a - steps.ecdf_b
    return ks_distance(float(diff.max()), float(diff.min()))


def ks_distance(max_diff: float, min_diff: float) -> float:
    """scipy's two-sided KS statistic from ``max`` and ``min`` of ``F_a - F_b``."""
    # scipy: minS = clip(-min(cddiffs), 0, 1); maxS = max(cddiffs); D = minS if minS > maxS.
    min_s = min(max(-min_diff, 0.0), 1.0)
    return min_s if min_s > max_diff else max_diff


def ks_2samp(steps: Steps) -> TestResult:
    """Two-sided two-sample Kolmogorov-Smirnov test, equal to ``scipy.stats.ks_2samp(a, b)``.

    Args:
        steps: The merged ECDF steps of baseline (a) and current (b).

    Returns:
        Statistic and p-value. Small samples (both <= 10k) use scipy's exact path and are
        bit-identical; larger ones use the asymptotic ``kstwo`` path (see module docstring).

    Raises:
        DataError: if either sample is empty.
    """
    n_a, n_b = _require_both(steps, "ks_2samp")
    if max(n_a, n_b) <= KS_MAX_EXACT_N:
        return _ks_exact_via_scipy(steps)
    return ks_asymptotic(ks_statistic(steps), n_a, n_b)


def ks_asymptotic(d: float, n_a: int, n_b: int) -> TestResult:
    """scipy's ``ks_2samp`` result for statistic ``d`` when either sample exceeds 10k values.

    Raises:
        DataError: if both samples are small enough for scipy's exact path.
    """
    if max(n_a, n_b) <= KS_MAX_EXACT_N:
        raise DataError("ks_asymptotic: both samples are small; scipy uses its exact path")
    # Same arithmetic as scipy's asymp branch: floats, larger first, rounded effective n.
    m, n = sorted((float(n_a), float(n_b)), reverse=True)
    en = float(np.round(m * n / (m + n)))
    p = _kstwo_sf(d, en)
    return TestResult(d, min(max(p, 0.0), 1.0))


_WARNINGS_LOCK = threading.Lock()


def _ks_exact_via_scipy(steps: Steps) -> TestResult:
    """scipy's exact-mode KS on the raw samples rebuilt from the counts (n <= 10k each).

    The exact p-value is a function of (n_a, n_b, D) only, but scipy computes it in a private
    compiled helper (``_stats_pythran._compute_outer_prob_inside_method``). Rebuilding the
    samples costs little at this size (the exact p-value itself dominates) and lets us use the
    public API, so any change in scipy's exact algorithm is inherited rather than silently
    diverging.
    """
    a = np.repeat(steps.values, steps.count_a)
    b = np.repeat(steps.values, steps.count_b)
    # The drift engine tests numeric features on two threads: catch_warnings swaps the
    # process-wide filter list, so two overlapping blocks could restore each other's state.
    with _WARNINGS_LOCK, warnings.catch_warnings():
        # If the exact computation fails numerically scipy falls back to the asymptotic
        # p-value with a RuntimeWarning. The fallback value is what we want; the warning is
        # noise for our callers (and an error under pytest -W error). The window is one scipy
        # call and the filter is narrow.
        warnings.filterwarnings("ignore", message="ks_2samp: Exact calculation unsuccessful",
                                category=RuntimeWarning)
        res = _scipy_stats().ks_2samp(a, b, alternative="two-sided", method="auto")
    return TestResult(float(res.statistic), float(res.pvalue))


def _kstwo_sf(d: float, n: float) -> float:
    """``scipy.stats.kstwo.sf(d, n)``, with scipy's slow O(n) branch vectorised.

    Mirrors the branch order of ``scipy.stats._ksstats._kolmogn(n, x, cdf=False)``: the
    smirnov branch is taken for n > 140, 1 < n x < n - 1, x < 0.5 and 2.2 <= n x^2 < 370.
    """
    t = n * d
    nxsquared = t * d
    if (_SMIRNOV_FAST_MIN_N <= n <= _SMIRNOV_MAX_COMPUTE_N and 0.0 < d < 0.5
            and 1.0 < t < n - 1 and _SMIRNOV_NX2_MIN <= nxsquared < _SMIRNOV_NX2_MAX):
        return min(max(2.0 * _smirnov_sf(int(n), d), 0.0), 1.0)
    return kolmogorov.kstwo_sf(d, n)


def _stirlerr(k: FloatArray) -> FloatArray:
    """Stirling-series error ``ln k! - ((k + 1/2) ln k - k + ln(2 pi) / 2)`` for k >= 1.

    Catherine Loader's formulation (as in R's dbinom): the 5-term asymptotic series is accurate
    to double precision for k > 15; below that the direct ``gammaln`` formula loses only
    ~1e-15 in absolute terms, which is all a log-space term needs.
    """
    k2 = k * k
    out: FloatArray = (_ST0 - (_ST1 - (_ST2 - (_ST3 - _ST4 / k2) / k2) / k2) / k2) / k
    small = k <= 15.0
    if small.any():
        ks = k[small]
        out[small] = special().gammaln(ks + 1.0) - (ks + 0.5) * np.log(ks) + ks - _HALF_LN_2PI
    return out


def _smirnov_sf(n: int, x: float) -> float:
    """One-sided ``P(D_n^+ >= x)`` by the Birnbaum-Tingey sum, vectorised.

    ``x * sum_{v=0}^{floor(n(1-x))} C(n, v) (x + v/n)^(v-1) (1 - x - v/n)^(n-v)`` is the series
    scipy's ``special.smirnov`` sums term by term in double-double (~1.3 us per term). Each
    term is ``binom_pmf(v; n, e) / e`` with ``e = x + v/n``; we evaluate it in log space with
    Loader's saddle-point form (``stirlerr`` plus deviance terms written with ``log1p``), which
    avoids the catastrophic cancellation of a plain ``gammaln`` formula (~1e-9 relative at
    n = 1e6). All terms are positive, so the sum agrees with scipy to ~1e-12 relative (tested
    on a grid of n in [1e4, 1e6] and n x^2 in [2.2, 370)), in ~35 ms at n = 5e5.

    Requires 1 < n x < n - 1 (the caller's branch guarantees it).
    """
    t = n * x
    v = np.arange(1, math.floor(n * (1.0 - x)) + 1, dtype=np.float64)
    w = n - v
    m1 = v + t          # n e
    m2 = w - t          # n (1 - e); decreasing in v, so its positive part is a prefix
    k = int(np.count_nonzero(m2 > 0.0))
    v, w, m1, m2 = v[:k], w[:k], m1[:k], m2[:k]
    # ln term_v = stirlerr(n) - stirlerr(v) - stirlerr(w) - bd0(v, m1) - bd0(w, m2)
    #             + ln(n / (2 pi v w)) / 2 - ln(m1 / n), with bd0(a, m) = a ln(a/m) + m - a;
    # the "+ m - a" parts of the two deviances cancel exactly (t - t).
    log_term = np.log1p(-t / m1)
    log_term *= -v
    log_term -= w * np.log1p(t / m2)
    log_term -= 0.5 * np.log(v * w)
    log_term -= np.log(m1)
    log_term -= _stirlerr(v)
    log_term -= _stirlerr(w)
    log_term += (float(_stirlerr(np.array([float(n)]))[0]) - _HALF_LN_2PI
                 + 1.5 * math.log(n))
    total = float(np.sum(np.exp(log_term)))
    # v = 0: C(n, 0) x^-1 (1 - x)^n.
    total += math.exp(n * math.log1p(-x)) / x
    return x * total


def wasserstein(steps: Steps) -> float:
    """First Wasserstein distance, equal to ``scipy.stats.wasserstein_distance(a, b)``.

    ``sum_i |F_a(v_i) - F_b(v_i)| (v_{i+1} - v_i)`` over the distinct values: scipy's own
    formula with the zero-width gaps between duplicates dropped (same terms, agreement ~1e-15
    relative). Not normalised; the engine divides by the baseline standard deviation.

    Raises:
        DataError: if either sample is empty, or the distance exceeds the float64 range.
    """
    _require_both(steps, "wasserstein")
    if steps.values.size < 2:
        return 0.0
    gap = steps.ecdf_a - steps.ecdf_b
    np.abs(gap, out=gap)  # in place: at 10M rows a side every temporary here is ~160 MB
    gap = gap[:-1]
    with np.errstate(over="ignore", invalid="ignore"):
        w = float(np.dot(gap, np.diff(steps.values)))
        if not math.isfinite(w):
            # Values spanning more than the float64 range (|x| ~ 1e308 on both sides) overflow
            # np.diff; halving is exact, so retry on the halved axis and scale back.
            w = 2.0 * float(np.dot(gap, np.diff(steps.values * 0.5)))
    if not math.isfinite(w):
        raise DataError("wasserstein: the distance exceeds the float64 range")
    return w


def quantile_edges(values: Any, counts: Any, n_bins: int = 10) -> FloatArray:
    """Interior quantile cut points of a counted sample, de-duplicated.

    The cut points are at probabilities ``np.arange(1, n_bins) / n_bins`` and equal
    ``np.quantile(sample, probs)`` (default ``method="linear"``) on the expanded sample,
    reproduced bit for bit from the counts: virtual index ``(N - 1) * q``, then numpy's
    two-sided lerp. Equal cut points (heavy ties, e.g. a value holding 30% of the rows) are
    collapsed, so the result may have fewer than ``n_bins - 1`` edges; with the
    ``(e_{i-1}, e_i]`` bin convention such a tied value then sits at the top of its bin.

    Args:
        values: Values, finite, normally ascending (a table in any other order is sorted
            first; repeated values are fine).
        counts: Count of each value (zeros allowed); at least one positive.
        n_bins: Number of quantile bins before de-duplication (>= 1).

    Returns:
        Strictly increasing float64 interior edges: a single edge for a constant sample,
        none for ``n_bins == 1``.

    Raises:
        DataError: on malformed input or an empty sample.
    """
    if isinstance(n_bins, bool) or not isinstance(n_bins, int | np.integer) or n_bins < 1:
        raise DataError(f"quantile_edges: n_bins must be an integer >= 1, got {n_bins!r}")
    v = _as_values("quantile_edges values", values)
    c = _as_counts("quantile_edges counts", counts)
    _check_same_length("quantile_edges values", v, "quantile_edges counts", c)
    if not _is_nondecreasing(v):
        # The contract is ascending, but a GROUP BY without ORDER BY is an easy slip; sorting
        # a count table is cheap and the answer does not depend on the row order.
        order = np.argsort(v, kind="stable")
        v, c = v[order], c[order]
    total = int(c.sum())
    if total == 0:
        raise DataError("quantile_edges: the sample is empty")
    prev_idx, next_idx, gamma = quantile_ranks(total, n_bins)
    # k-th order statistic (0-based) of the expanded sample = first value whose running
    # count exceeds k; side="right" also skips zero-count values.
    cum = np.cumsum(c)
    lo = v[np.searchsorted(cum, prev_idx, side="right")]
    hi = v[np.searchsorted(cum, next_idx, side="right")]
    return quantile_lerp(lo, hi, gamma)


def quantile_ranks(total: int, n_bins: int = 10) -> tuple[IntArray, IntArray, FloatArray]:
    """Order statistics (0-based ranks) and weights behind :func:`quantile_edges`.

    Returns:
        The rank below and above each interior quantile and the interpolation weight.
    """
    probs = np.arange(1, int(n_bins), dtype=np.float64) / int(n_bins)
    # numpy's "linear" method: virtual index (n - 1) * q, previous = floor, gamma = fraction;
    # at or above the last index both neighbours are the last element.
    virtual = (total - 1) * probs
    previous = np.floor(virtual)
    gamma = virtual - previous
    prev_idx = previous.astype(np.int64)
    next_idx = prev_idx + 1
    above = virtual >= total - 1
    prev_idx[above] = total - 1
    next_idx[above] = total - 1
    return prev_idx, next_idx, gamma


def quantile_lerp(lo: FloatArray, hi: FloatArray, gamma: FloatArray) -> FloatArray:
    """numpy's quantile interpolation between order statistics, de-duplicated (ascending)."""
    if lo.size == 0:
        return np.empty(0, np.float64)
    with np.errstate(over="ignore", invalid="ignore"):
        # numpy's _lerp: a + (b - a) t, or b - (b - a)(1 - t) where t >= 0.5 (monotone).
        diff = hi - lo
        edges = lo + diff * gamma
        upper = gamma >= 0.5
        edges[upper] = hi[upper] - diff[upper] * (1.0 - gamma[upper])
        bad = ~np.isfinite(edges)
        if bad.any():
            # hi - lo overflowed (values near +-1.8e308 on both sides): numpy would return
            # inf/NaN here; use the overflow-free convex combination instead.
            g = gamma[bad]
            edges[bad] = lo[bad] * (1.0 - g) + hi[bad] * g
    out: FloatArray = np.unique(edges)
    return out


def bin_counts(values: Any, counts: Any, edges: Any) -> IntArray:
    """Counts per bin ``(-inf, e1], (e1, e2], ..., (ek, +inf)`` of a counted sample.

    The convention of ``np.searchsorted(edges, x, side="left")`` and DuckDB's
    ``histogram(x, edges)``: a value exactly on an edge falls in the lower bin.

    Args:
        values: Values (any order), finite.
        counts: Count of each value.
        edges: Strictly increasing finite edges (may be empty: one bin).

    Returns:
        int64 array of length ``len(edges) + 1``.

    Raises:
        DataError: on malformed input.
    """
    v = _as_values("bin_counts values", values)
    c = _as_counts("bin_counts counts", counts)
    _check_same_length("bin_counts values", v, "bin_counts counts", c)
    e = _as_values("bin_counts edges", edges)
    if e.size > 1 and not (e[1:] > e[:-1]).all():
        raise DataError("bin_counts: edges must be strictly increasing")
    if _is_nondecreasing(v):
        # Sorted tables (Steps.values, ORDER BY x): rows <= e_i is a running count looked up
        # at searchsorted(values, e_i, "right"); O(k log n) instead of a pass over all rows.
        running = np.concatenate(([0], np.cumsum(c)))
        at_edges = running[np.searchsorted(v, e, side="right")]
        out: IntArray = np.diff(np.concatenate(([0], at_edges, running[-1:])))
        return out.astype(np.int64, copy=False)
    out = np.zeros(e.size + 1, np.int64)
    # add.at accumulates in int64, so counts stay exact at any size (bincount would go via
    # float64 weights).
    np.add.at(out, np.searchsorted(e, v, side="left"), c)
    return out


def _proportions(name: str, counts: Any) -> tuple[IntArray, int]:
    c = _as_counts(name, counts)
    if c.size == 0:
        raise DataError(f"{name}: no bins/categories")
    total = int(c.sum())
    if total == 0:
        raise DataError(f"{name}: all counts are zero (empty sample); report "
                        "insufficient_data instead")
    return c, total


def psi_contributions(expected_counts: Any, actual_counts: Any,
                      eps: float = DEFAULT_PSI_EPS) -> FloatArray:
    """Per-bin Population Stability Index terms ``(a - e) ln(a / e)``; they sum to :func:`psi`.

    ``e`` and ``a`` are the bin proportions of the expected (baseline) and actual (current)
    counts, each clipped below at ``eps`` so an empty bin gives a large but finite term. The
    clipped proportions no longer sum exactly to 1; that is the usual PSI convention. Every
    term is >= 0.

    Args:
        expected_counts: Baseline counts per bin/category.
        actual_counts: Current counts per bin/category, same order and length.
        eps: Proportion floor, default :data:`DEFAULT_PSI_EPS` (1e-4; see there for why).

    Raises:
        DataError: on different lengths, an empty side or an eps outside (0, 1).
    """
    if not (isinstance(eps, float | int) and 0.0 < float(eps) < 1.0):
        raise DataError(f"psi: eps must be in (0, 1), got {eps!r}")
    ec, e_total = _proportions("psi expected_counts", expected_counts)
    ac, a_total = _proportions("psi actual_counts", actual_counts)
    _check_same_length("psi expected_counts", ec, "psi actual_counts", ac)
    e = np.maximum(ec / e_total, float(eps))
    a = np.maximum(ac / a_total, float(eps))
    out: FloatArray = (a - e) * np.log(a / e)
    return out


def psi(expected_counts: Any, actual_counts: Any, eps: float = DEFAULT_PSI_EPS) -> float:
    """Population Stability Index ``sum((a - e) ln(a / e))`` over bins/categories.

    See :func:`psi_contributions` for the arguments and the ``eps`` floor.
    """
    return float(np.sum(psi_contributions(expected_counts, actual_counts, eps)))


# --------------------------------------------------------------------------------------------
# Categorical features
# --------------------------------------------------------------------------------------------


def chi2(baseline_counts: Any, current_counts: Any) -> TestResult:
    """Chi-square test of homogeneity on the 2 x k table ``[baseline; current]``.

    Columns whose total is 0 are dropped (a category in neither window carries no
    information, and scipy refuses zero expected frequencies); the rest equals
    ``scipy.stats.chi2_contingency(table, correction=False)``, whose arithmetic we repeat. With
    fewer than two non-empty columns there is nothing to compare: statistic 0.0, p-value 1.0.

    The caller passes the baseline categories plus its "other" and "unseen" buckets, so a new
    category shows up as current mass in a column the baseline left at zero.

    Raises:
        DataError: on different lengths or an empty side.
    """
    b, _ = _proportions("chi2 baseline_counts", baseline_counts)
    c, _ = _proportions("chi2 current_counts", current_counts)
    _check_same_length("chi2 baseline_counts", b, "chi2 current_counts", c)
    keep = (b + c) > 0
    if int(np.count_nonzero(keep)) < 2:
        return TestResult(0.0, 1.0)
    observed = np.vstack((b[keep], c[keep])).astype(np.float64)
    # scipy's chi2_contingency(correction=False) step by step (expected_freq, then
    # power_divergence with lambda 1 over the raveled table, p = chdtrc(dof, stat)): the same
    # operations, so the same bits, without importing scipy.stats (~0.4 s per CLI run).
    expected = (observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True)
                ) / observed.sum() ** 1
    dof = expected.size - sum(expected.shape) + expected.ndim - 1
    terms = (observed.ravel() - expected.ravel()) ** 2 / expected.ravel()
    stat = float(np.sum(terms))
    p_value = float(special().chdtrc(float(dof), stat))
    return TestResult(stat, min(max(p_value, 0.0), 1.0))


def _scipy_stats() -> Any:
    """``scipy.stats``, imported on first use: the exact small-sample KS path and BH need it,
    a drift check on large data does not (the import alone is ~0.4 s)."""
    import scipy.stats

    return scipy.stats


def js_distance(baseline_counts: Any, current_counts: Any) -> float:
    """Jensen-Shannon distance, base 2, in [0, 1], from two count vectors.

    The same arithmetic as ``scipy.spatial.distance.jensenshannon(p, q, base=2)`` (normalise,
    ``rel_entr`` against the midpoint, sum, divide by ln 2, square root of half), so results
    are bit-identical. One guard: should rounding ever make the divergence of two (nearly)
    equal distributions negative, scipy would return NaN (square root of a negative); we clamp
    the result to [0, 1] instead.

    Raises:
        DataError: on different lengths or an empty side.
    """
    b, b_total = _proportions("js baseline_counts", baseline_counts)
    c, c_total = _proportions("js current_counts", current_counts)
    _check_same_length("js baseline_counts", b, "js current_counts", c)
    p = b / b_total
    q = c / c_total
    m = (p + q) / 2.0
    js = float(np.sum(special().rel_entr(p, m)) + np.sum(special().rel_entr(q, m)))
    js /= float(np.log(2.0))
    return min(max(math.sqrt(max(js / 2.0, 0.0)), 0.0), 1.0)


# --------------------------------------------------------------------------------------------
# Every feature / dataset level
# --------------------------------------------------------------------------------------------


def null_rate(null_count: int, total: int) -> float:
    """Share of nulls among ``total`` rows.

    ``total == 0`` returns 0.0 rather than NaN or an error: an empty window has no nulls, and
    the caller already reports it as ``insufficient_data`` on its row count, so a number that
    serialises to JSON and plots as a flat line is the useful answer.

    Raises:
        DataError: if a count is negative, not an integer, or ``null_count > total``.
    """
    try:
        nulls = operator.index(null_count)
        rows = operator.index(total)
    except TypeError:
        raise DataError(f"null_rate: counts must be integers, got {null_count!r}, "
                        f"{total!r}") from None
    if nulls < 0 or rows < 0:
        raise DataError(f"null_rate: counts must be >= 0, got {nulls} of {rows}")
    if nulls > rows:
        raise DataError(f"null_rate: null count {nulls} exceeds row count {rows}")
    return 0.0 if rows == 0 else nulls / rows


def benjamini_hochberg(p_values: Sequence[float] | npt.ArrayLike) -> FloatArray:
    """Benjamini-Hochberg adjusted p-values, equal to ``false_discovery_control(p, "bh")``.

    Args:
        p_values: Raw p-values in [0, 1], any order; the result keeps that order.

    Returns:
        float64 array of adjusted p-values (empty for empty input).

    Raises:
        DataError: if a p-value is NaN or outside [0, 1], or the input is not 1-D.
    """
    try:
        p = np.asarray(p_values, dtype=np.float64)
    except (TypeError, ValueError):
        raise DataError("benjamini_hochberg: p-values must be numbers in [0, 1]") from None
    if p.ndim != 1:
        raise DataError(f"benjamini_hochberg: expected a 1-D sequence, got shape {p.shape}")
    if p.size == 0:
        return np.empty(0, np.float64)
    if not (np.isfinite(p).all() and (p >= 0.0).all() and (p <= 1.0).all()):
        raise DataError("benjamini_hochberg: p-values must be numbers in [0, 1]")
    out: FloatArray = np.asarray(_scipy_stats().false_discovery_control(p, method="bh"),
                                 dtype=np.float64)
    return out
