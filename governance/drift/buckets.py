"""Exact two-sample statistics on unsorted columns, without sorting them.

Sorting both sides of a 1M-row column costs ~110 ms; most of that order is never looked at.
Here both samples go into the same uniform buckets over the pooled range (one monotone map, one
``bincount``, O(n)). Cumulative bucket counts give both ECDFs exactly at every bucket end, and
inside a bucket ``F_a - F_b`` can only move by that bucket's own masses. So a statistic needs the
sorted values of just the buckets where the answer could still be (a few per cent of the data at
most, usually far less); everything else comes from the counts:

* KS: ``max`` and ``min`` of ``F_a - F_b`` over the distinct values (scipy's ``cddiffs``) with
  the same float operations as scipy (``count / n`` per side, then the difference), hence
  bit-identical. Only buckets whose bound reaches the best value found at bucket ends are sorted.
* Wasserstein ``= integral |F_a - F_b|``: where ``F_a - F_b`` keeps one sign over a bucket the
  absolute value of its integral is enough, and that integral needs only the bucket's counts and
  value sums; buckets where the sign may change are integrated exactly from their sorted values.
  Same terms as scipy, grouped differently: agreement ~1e-15 relative (not bit-identical).
* Order statistics and ``#{x <= e}`` (quantile edges, PSI bins, chart grids): the cumulative
  count up to the bucket, plus the sorted values of that one bucket. Exact.

The map ``floor((x / 2 - lo / 2) * scale)`` is a composition of correctly rounded, monotone
operations, so ``x <= y`` implies ``bucket(x) <= bucket(y)``: a bucket's values are all below
the next bucket's, which is all the exactness argument needs (halving keeps ``x - lo`` finite
for values near the float64 limits).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
IndexArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

#: Values per bucket on average. Smaller buckets mean less to sort and more bucket-level work.
PER_BUCKET = 16


@dataclass(frozen=True, eq=False)
class Grid:
    """A monotone map of values to ``n`` buckets: coarse equal-width cells, each split evenly.

    ``coarse`` cells span ``[lo, hi]`` (values outside share the first or last cell, so a few
    outliers cannot stretch them); cell ``c`` is split into ``split[c]`` fine buckets, more
    where the data is dense, so every bucket holds a few values even under a heavy tail.
    ``first`` and ``last`` are the pooled minimum and maximum (the integration range).
    Monotone because every step is: ``t = (x - lo) * scale`` clipped to ``[0, coarse)``, then
    ``base[floor(t)] + floor((t - floor(t)) * split[floor(t)])``.
    """

    lo: float
    hi: float
    first: float
    last: float
    split: IntArray

    @property
    def coarse(self) -> int:
        """Number of coarse cells."""
        return int(self.split.size)

    @cached_property
    def n(self) -> int:
        """Number of fine buckets."""
        return int(self.split.sum())

    @cached_property
    def _base(self) -> IntArray:
        out = np.zeros(self.coarse, np.int64)
        np.cumsum(self.split[:-1], out=out[1:])
        return out

    @cached_property
    def _scale(self) -> float:
        width = self.hi - self.lo
        return self.coarse / width if width > 0 else 0.0

    def cell(self, x: FloatArray) -> FloatArray:
        """Position in coarse cells, in ``[0, coarse)``."""
        t = x - self.lo
        t *= self._scale
        np.clip(t, 0.0, np.nextafter(float(self.coarse), 0.0), out=t)  # one pass, not two
        return t

    def of(self, x: FloatArray) -> IndexArray:
        """Bucket of each value."""
        t = self.cell(x)
        return self.fine(t, t.astype(np.intp))

    def fine(self, t: FloatArray, c: IndexArray) -> IndexArray:
        """Buckets from cell positions ``t`` and their cells ``c = floor(t)``; ``t`` is reused."""
        # Two buffers per call instead of five: at 1M values each fresh one costs ~1 ms.
        t -= c  # exact: the fractional part
        scratch = np.take(self.split, c)
        t *= scratch
        fine = t.astype(np.intp)
        scratch -= 1
        np.minimum(fine, scratch, out=fine)
        np.take(self._base, c, out=scratch)
        fine += scratch
        return fine

    @cached_property
    def starts(self) -> FloatArray:
        """Approximate lower end of each bucket, then ``last``: integration breakpoints.

        Any non-decreasing points from ``first`` to ``last`` keep the Wasserstein sums exact up
        to rounding (the per-bucket integrals telescope); these track the buckets closely so
        that the per-bucket sign test is meaningful.
        """
        position = np.arange(self.coarse, dtype=np.float64)  # cell + fraction, in cells
        if self.n != self.coarse:  # split cells (an unsplit one starts at fraction 0.0)
            position = np.repeat(position, self.split)
            within = np.arange(self.n, dtype=np.float64) - np.repeat(self._base, self.split)
            position += within / np.repeat(self.split, self.split)
        out = np.empty(self.n + 1, np.float64)
        width = (self.hi - self.lo) / self.coarse if self.coarse else 0.0
        out[:-1] = self.lo + position * width
        np.clip(out, self.first, self.last, out=out)
        out[0], out[-1] = self.first, self.last
        return np.maximum.accumulate(out)

    @classmethod
    def spanning(cls, a: FloatArray, b: FloatArray, per_bucket: int) -> Grid:
        """A grid for two non-empty finite samples, about ``per_bucket`` values a bucket.

        The coarse range is the 0.1% to 99.9% points of a strided subsample (deterministic,
        no RNG); every cell is one bucket until :meth:`refined` splits it by its share of both
        samples. Any grid gives exact results; a good one keeps the buckets to sort small.
        """
        first = min(float(a.min()), float(b.min()))
        last = max(float(a.max()), float(b.max()))
        probe = np.concatenate((a[:: max(1, a.size // _PROBE)], b[:: max(1, b.size // _PROBE)]))
        probe.sort()
        cut = probe.size // 1000
        lo, hi = float(probe[cut]), float(probe[probe.size - 1 - cut])
        if not (lo < hi and math.isfinite(hi - lo)):
            lo, hi = first, last
        if not math.isfinite(hi - lo):  # spans more than the float64 range: one cell
            return cls(first, first, first, last, np.ones(1, np.int64))
        total = a.size + b.size
        coarse = max(1, total // per_bucket)
        return cls(lo, hi, first, last, np.ones(coarse, np.int64))

    def refined(self, counts: IntArray, per_bucket: int) -> Grid:
        """This grid's cells split by their ``counts`` into about ``per_bucket`` values each."""
        split = np.where(counts > _DENSE * per_bucket, -(-counts // per_bucket), 1)
        return Grid(self.lo, self.hi, self.first, self.last, split.astype(np.int64))


_PROBE = 8192

#: A cell holding more than this many times ``per_bucket`` values gets split. Splitting means
#: a second pass over both columns; sorting a chosen cell of up to 512 values is cheaper, so
#: only steep densities (heavy tails, ties) are split: at 1M rows 8 split 7 of the bench's 20
#: numeric features and cost ~0.1 CPU-s more than 32, which splits 2.
_DENSE = 32


@dataclass(frozen=True, eq=False)
class Side:
    """One sample in the buckets of a :class:`Grid`.

    Attributes:
        values: The finite values, unsorted (not modified).
        bucket: The bucket of each value.
        below: ``below[k]`` values lie in buckets before ``k`` (length ``grid.n + 1``).
    """

    values: FloatArray
    bucket: IndexArray
    below: IntArray

    @classmethod
    def of(cls, values: FloatArray, grid: Grid) -> Side:
        """Bucket ``values`` on ``grid``."""
        return cls.bucketed(values, grid.of(values), grid)

    @classmethod
    def bucketed(cls, values: FloatArray, bucket: IndexArray, grid: Grid,
                 counts: IntArray | None = None) -> Side:
        """A side whose buckets (and maybe their counts) are already known."""
        below = np.zeros(grid.n + 1, np.int64)
        if counts is None:
            counts = np.bincount(bucket, minlength=grid.n)
        np.cumsum(counts, out=below[1:])
        return cls(values, bucket, below)

    @property
    def size(self) -> int:
        """Number of values."""
        return int(self.values.size)

    def bucket_of_rank(self, ranks: IntArray) -> IndexArray:
        """The bucket holding each order statistic (0-based rank), from the counts alone."""
        out: IndexArray = np.searchsorted(self.below, ranks, side="right") - 1
        return out

    def subset(self, chosen: BoolArray) -> Subset:
        """The values of the chosen buckets, sorted (one pass over the side)."""
        sizes = np.where(chosen, np.diff(self.below), 0)
        inside = np.zeros(self.below.size, np.int64)
        np.cumsum(sizes, out=inside[1:])
        if int(inside[-1]) > _TIED * int(np.count_nonzero(sizes)):
            return self._tied_subset(chosen, sizes, self.below - inside)
        values = self.values[chosen[self.bucket]]
        values.sort()  # in place: the selection is already a copy
        return Subset(chosen, values, self.below - inside)

    def _tied_subset(self, chosen: BoolArray, sizes: IntArray, outside: IntArray) -> Subset:
        """:meth:`subset` sorting only the chosen buckets that hold more than one value.

        Equal values share a bucket and buckets are ordered, so the sorted selection is each
        single-valued bucket's value repeated, in bucket order, with the sorted values of the
        other buckets in their places (which, sorted together, are in bucket order too). A
        tied column's million values then cost a few chunked passes instead of a sort
        (~25 ms), and no column-sized temporaries.
        """
        some = np.zeros(sizes.size, np.float64)
        for values, bucket in self._chosen_chunks(chosen):
            some[bucket] = values  # any one value of each chosen bucket
        mixed = np.zeros(sizes.size, bool)
        for values, bucket in self._chosen_chunks(chosen):
            mixed[bucket[values != some[bucket]]] = True
        filled = sizes > 0
        out = np.repeat(some[filled], sizes[filled])
        if mixed.any():
            out[np.repeat(mixed[filled], sizes[filled])] = np.sort(self.values[mixed[self.bucket]])
            return Subset(chosen, out, outside)
        return Subset(chosen, out, outside, some[filled])  # one value a bucket: all distinct

    def _chosen_chunks(self, chosen: BoolArray) -> Iterator[tuple[FloatArray, IndexArray]]:
        """The values of the chosen buckets and their buckets, a chunk at a time."""
        for i in range(0, self.size, CHUNK):
            bucket = self.bucket[i:i + CHUNK]
            picked = chosen[bucket]
            yield self.values[i:i + CHUNK][picked], bucket[picked]

    def count_le(self, points: FloatArray, grid: Grid) -> IntArray:
        """``#{x <= p}`` for each point, sorting only the points' own buckets."""
        chosen = np.zeros(grid.n, bool)
        chosen[grid.of(points)] = True
        return self.subset(chosen).count_le(points, grid)

    def order_stats(self, ranks: IntArray, grid: Grid) -> FloatArray:
        """The ``ranks``-th smallest values (0-based), sorting only the buckets holding them."""
        chosen = np.zeros(grid.n, bool)
        chosen[self.bucket_of_rank(ranks)] = True
        return self.subset(chosen).order_stats(ranks, self.bucket_of_rank(ranks))


#: Chosen buckets holding more values than this on average may hold runs of one value (tied
#: data: rounded or discrete values) that need no sorting.
_TIED = 64


@dataclass(frozen=True, eq=False)
class Subset:
    """The sorted values of some buckets of one side: exact ranks and counts inside them.

    Attributes:
        chosen: Which buckets are included.
        values: Their values, ascending.
        outside: ``outside[k]``: values of unchosen buckets before bucket ``k``.
        known_distinct: The distinct values, when the caller already has them.
    """

    chosen: BoolArray
    values: FloatArray
    outside: IntArray
    known_distinct: FloatArray | None = None

    @cached_property
    def distinct(self) -> FloatArray:
        """The distinct values, ascending: few for tied data, so merging both sides is cheap."""
        if self.known_distinct is not None:
            return self.known_distinct
        if self.values.size < 2:
            return self.values
        new = np.empty(self.values.size, bool)
        new[0] = True
        np.not_equal(self.values[1:], self.values[:-1], out=new[1:])
        out: FloatArray = self.values[new]
        return out

    def covers(self, buckets: IndexArray) -> bool:
        """True when every given bucket is included."""
        return bool(self.chosen[buckets].all())

    def count_le(self, points: FloatArray, grid: Grid) -> IntArray:
        """``#{x <= p}`` for points in chosen buckets."""
        # Values of unchosen buckets before the point's bucket, plus the subset's values <= p
        # (values of later buckets are all > p, the map being monotone).
        out: IntArray = (np.searchsorted(self.values, points, side="right")
                         + self.outside[grid.of(points)])
        return out

    def order_stats(self, ranks: IntArray, buckets: IndexArray) -> FloatArray:
        """The ``ranks``-th smallest values, given the (chosen) buckets holding them."""
        out: FloatArray = self.values[ranks - self.outside[buckets]]
        return out


def _union(x: FloatArray, y: FloatArray) -> FloatArray:
    """``np.union1d`` of two ascending arrays of distinct values, by merging them.

    ``np.union1d`` sorts the concatenation from scratch (~4 ms for 2 x 37k values); a stable
    sort (timsort) of two ascending runs is one merge (~0.5 ms).
    """
    both = np.concatenate((x, y))
    both.sort(kind="stable")
    new = np.empty(both.size, bool)
    new[:1] = True
    np.not_equal(both[1:], both[:-1], out=new[1:])
    out: FloatArray = both[new]
    return out


#: Values handled per step in whole-column passes: the temporaries stay in cache and are
#: reused, instead of several column-sized arrays per pass (80 MB each at 10M rows).
CHUNK = 1 << 18


def _map(grid: Grid, values: FloatArray, out: IndexArray, *, cells: bool) -> IntArray:
    """Write each value's cell (``cells``) or bucket into ``out``; return counts per slot."""
    size = grid.coarse if cells else grid.n
    counts = np.zeros(size, np.int64)
    for i in range(0, values.size, CHUNK):
        t = grid.cell(values[i:i + CHUNK])
        c = out[i:i + CHUNK]
        c[...] = t  # truncates like astype(np.intp), straight into place (t is in [0, coarse))
        if not cells:
            c[...] = grid.fine(t, c)
        counts += np.bincount(c, minlength=size)
    return counts


def chunked_sum(values: FloatArray, scale: float, shift: float = 0.0,
                square: bool = False) -> float:
    """``sum(((values / scale) - shift) ** p)`` (p = 2 if ``square``) in cache-sized chunks."""
    total = 0.0
    for i in range(0, values.size, CHUNK):
        part = values[i:i + CHUNK] / scale
        if shift:
            part -= shift
        if square:
            np.square(part, out=part)
        # Never np.dot here: it calls OpenBLAS, whose threads then spin on the other core
        # (~1 CPU-s per 1M-row check, measured).
        total += float(part.sum())
    return total


@dataclass(frozen=True)
class KS:
    """Extremes of ``F_a - F_b`` over the distinct values, and where ``|F_a - F_b|`` peaks.

    Attributes:
        max_diff: ``max(F_a - F_b)`` (scipy's ``maxS``).
        min_diff: ``min(F_a - F_b)``.
        at: The smallest value where ``|F_a - F_b|`` is largest.
        ecdf_a: ``F_a`` there.
        ecdf_b: ``F_b`` there.
    """

    max_diff: float
    min_diff: float
    at: float
    ecdf_a: float
    ecdf_b: float


@dataclass(frozen=True, eq=False)
class Pair:
    """Both samples of a feature on one grid; statistics of the pair."""

    grid: Grid
    a: Side
    b: Side

    @classmethod
    def of(cls, a: FloatArray, b: FloatArray, per_bucket: int = PER_BUCKET) -> Pair:
        """Bucket two non-empty finite samples over their pooled range.

        Args:
            a: Baseline values (any order, finite).
            b: Current values (any order, finite).
            per_bucket: Values per bucket to aim for (tests use small grids).
        """
        coarse = Grid.spanning(a, b, per_bucket)
        cells = [np.empty(side.size, np.intp) for side in (a, b)]
        each = [_map(coarse, side, out, cells=True) for side, out in zip((a, b), cells,
                                                                       strict=True)]
        counts = each[0] + each[1]
        # The end cells also hold the values beyond the robust range, which no split can
        # separate (they all sit at the cell's edge): only inner cells count as dense.
        if counts.size < 3 or int(counts[1:-1].max()) <= _DENSE * per_bucket:
            # Evenly spread data (the usual case): the cells are the buckets; no second pass.
            sides = [Side.bucketed(values, c, coarse, n)
                     for values, c, n in zip((a, b), cells, each, strict=True)]
            return cls(coarse, sides[0], sides[1])
        grid = coarse.refined(counts, per_bucket)
        sides = [Side.bucketed(values, out, grid, _map(grid, values, out, cells=False))
                 for values, out in zip((a, b), cells, strict=True)]
        return cls(grid, sides[0], sides[1])

    @cached_property
    def _cdf(self) -> tuple[FloatArray, FloatArray]:
        # Both ECDFs at every bucket boundary, as scipy computes them: int64 count / n.
        return self.a.below / self.a.size, self.b.below / self.b.size

    def _states(self, chosen: BoolArray, subsets: tuple[Subset, Subset] | None
                ) -> tuple[FloatArray, IntArray, IntArray, IndexArray]:
        """Every distinct value of the chosen buckets with ``#{a <= v}``, ``#{b <= v}``.

        ``subsets`` (each covering at least the chosen buckets) saves sorting again.
        """
        if subsets is None:
            subsets = (self.a.subset(chosen), self.b.subset(chosen))
        merged = _union(*(sub.distinct for sub in subsets))
        k = self.grid.of(merged)
        keep = chosen[k]
        if not keep.all():
            merged, k = merged[keep], k[keep]
        ia, ib = (np.searchsorted(sub.values, merged, side="right") + sub.outside[k]
                  for sub in subsets)
        return merged, ia, ib, k

    def needs(self) -> BoolArray:
        """The buckets :meth:`ks` and :meth:`wasserstein` sort (to share one subset)."""
        return self._ks_buckets | self._unsteady

    @cached_property
    def _ks_buckets(self) -> BoolArray:
        fa, fb = self._cdf
        ends = fa[1:] - fb[1:]
        # Inside bucket k, F_a - F_b stays within [fa[k] - fb[k+1], fa[k+1] - fb[k]]; rounding
        # is monotone, so these float bounds hold for the float differences too.
        upper = fa[1:] - fb[:-1]
        lower = fa[:-1] - fb[1:]
        best_max, best_min = float(ends.max()), float(ends.min())
        best_abs = max(best_max, -best_min)
        # ">=": a bucket that only ties the best value found may hold its first occurrence.
        out: BoolArray = self._filled & ((upper >= best_max) | (lower <= best_min)
                                         | (upper >= best_abs) | (-lower >= best_abs))
        return out

    @cached_property
    def _steady(self) -> BoolArray:
        fa, fb = self._cdf
        out: BoolArray = (fa[:-1] - fb[1:] >= 0) | (fa[1:] - fb[:-1] <= 0)  # one sign throughout
        return out

    @cached_property
    def _unsteady(self) -> BoolArray:
        out: BoolArray = ~self._steady & self._filled
        return out

    def ks(self, subsets: tuple[Subset, Subset] | None = None) -> KS:
        """The KS extremes, exactly as scipy's ``ks_2samp`` finds them."""
        values, ia, ib, _ = self._states(self._ks_buckets, subsets)
        diff = ia / self.a.size - ib / self.b.size
        gap = np.abs(diff)
        at = int(np.argmax(gap))
        return KS(float(diff.max()), float(diff.min()), float(values[at]),
                  float(ia[at] / self.a.size), float(ib[at] / self.b.size))

    def wasserstein(self, subsets: tuple[Subset, Subset] | None = None) -> float:
        """``integral |F_a - F_b|``, equal to scipy's ``wasserstein_distance`` to ~1e-15."""
        fa, fb = self._cdf
        starts = self.grid.starts
        width = np.diff(starts)
        steady = self._steady
        total = 0.0
        if steady.any():
            parts = []
            for side in (self.a, self.b):
                counts = np.diff(side.below).astype(np.float64)
                # sum over the bucket of (start_{k+1} - x), as count * width - sum(x - start_k):
                # offsets from the bucket start keep the sums small and accurate.
                sums = np.zeros(self.grid.n, np.float64)
                for i in range(0, side.size, CHUNK):
                    bucket = side.bucket[i:i + CHUNK]
                    sums += np.bincount(bucket, weights=side.values[i:i + CHUNK] - starts[bucket],
                                        minlength=self.grid.n)
                parts.append((counts * width - sums) / side.size)
            # integral over bucket k of F_a - F_b: the difference entering it times the width,
            # plus the mass each side gains inside it.
            inside = (fa[:-1] - fb[:-1]) * width + (parts[0] - parts[1])
            total += float(np.abs(inside[steady]).sum())
        if self._unsteady.any():
            total += self._integrate(self._unsteady, subsets)
        return total

    @cached_property
    def _filled(self) -> BoolArray:
        out: BoolArray = (np.diff(self.a.below) + np.diff(self.b.below)) > 0
        return out

    def _integrate(self, chosen: BoolArray, subsets: tuple[Subset, Subset] | None) -> float:
        """``integral |F_a - F_b|`` over the chosen buckets, from their sorted values."""
        fa, fb = self._cdf
        starts = self.grid.starts
        values, ia, ib, k = self._states(chosen, subsets)
        diff = np.abs(ia / self.a.size - ib / self.b.size)
        # Each value's state holds up to the next value of its bucket, or the bucket's end.
        following = np.empty_like(values)
        following[:-1] = values[1:]
        last = np.ones(values.size, bool)
        last[:-1] = k[1:] != k[:-1]
        following[last] = starts[k[last] + 1]
        following -= values
        following *= diff
        total = float(following.sum())  # not np.dot: see chunked_sum
        # Before a bucket's first value the state is the one entering the bucket.
        first = np.ones(values.size, bool)
        first[1:] = k[1:] != k[:-1]
        kf = k[first]
        total += float((np.abs(fa[kf] - fb[kf]) * (values[first] - starts[kf])).sum())
        return total
