"""The drift engine: per-feature tests on counts computed by the warehouse.

For each feature the warehouse returns small count tables (category counts; for numeric
features the finite values one column at a time, or their ECDF steps on Databricks) and
:mod:`governance.drift.stats` (count tables) or :mod:`governance.drift.buckets` (large unsorted
columns) turns them into exact statistics. Verdicts need an effect size over
its threshold (see :mod:`governance.drift.policy`); degenerate inputs get a named status, never
NaN.
"""

from __future__ import annotations

import dataclasses
import math
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

import numpy as np

from governance.drift import buckets, stats
from governance.drift.policy import Policy, Thresholds
from governance.warehouse import Session

Kind = Literal["numeric", "categorical", "boolean"]
OTHER, UNSEEN = "__other__", "__unseen__"
TESTED = ("drift", "warn", "ok", "constant")
SCHEMA = ("schema_missing", "schema_type_changed")


@dataclass(frozen=True)
class Source:
    """A table, optionally restricted to ``event_date`` between two days (inclusive)."""

    table: str
    window: tuple[date, date] | None = None

    def query(self, base: str, column: str | None = None) -> tuple[str, dict[str, Any]]:
        """The query name and parameters reading ``column`` (or the table) from this source."""
        params: dict[str, Any] = {"tbl": self.table}
        if column is not None:
            params["col"] = column
        if self.window is None:
            return base, params
        params.update(start=self.window[0], end=self.window[1])
        return f"{base}_window", params


@dataclass(frozen=True)
class FeatureSpec:
    """A feature to test: its name, kind and (for models) importance."""

    name: str
    kind: Kind
    importance: float | None = None


@dataclass(frozen=True)
class Numeric:
    """One side of a numeric feature: row counts and the distinct finite values with counts."""

    n_rows: int
    n_null: int
    n_inf: int
    values: np.ndarray
    counts: np.ndarray

    @property
    def n_valid(self) -> int:
        """Rows with a finite value."""
        return int(self.counts.sum())


@dataclass(frozen=True, eq=False)
class Sample:
    """One side of a numeric feature as fetched: row counts and the finite values, unsorted.

    The embedded engine hands over whole columns; large ones are tested straight from the
    unsorted values (:mod:`governance.drift.buckets`), small ones via :meth:`table`.
    """

    n_rows: int
    n_null: int
    n_inf: int
    raw: np.ndarray

    @property
    def n_valid(self) -> int:
        """Rows with a finite value."""
        return int(self.raw.size)

    def table(self) -> Numeric:
        """The (value, count) table of this side (sorts a copy)."""
        values, counts = _run_lengths(self.raw.copy())
        return Numeric(self.n_rows, self.n_null, self.n_inf, values, counts)

    def only_value(self) -> float | None:
        """The value when every finite value is the same one, else None."""
        if self.raw.size == 0:
            return None
        low, high = float(self.raw.min()), float(self.raw.max())
        return low if low == high else None


@dataclass(frozen=True)
class Categorical:
    """One side of a categorical feature: row count, nulls and counts per category."""

    n_rows: int
    n_null: int
    counts: Mapping[str, int]

    @property
    def n_valid(self) -> int:
        """Rows with a category."""
        return self.n_rows - self.n_null


@dataclass(frozen=True)
class FeatureResult:
    """The verdict and evidence for one feature in one comparison."""

    feature: str
    type: str
    status: str
    score: float | None
    n_baseline: int
    n_current: int
    null_rate_baseline: float | None
    null_rate_current: float | None
    tests: Mapping[str, Any]
    reason: str = ""
    importance: float | None = None
    chart: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The ``drift compare`` JSON shape (charts left out)."""
        return {
            "feature": self.feature, "type": self.type, "n_baseline": self.n_baseline,
            "n_current": self.n_current, "null_rate_baseline": self.null_rate_baseline,
            "null_rate_current": self.null_rate_current, "status": self.status,
            "score": self.score, "tests": dict(self.tests), "reason": self.reason,
        }


@dataclass(frozen=True)
class DatasetResult:
    """All features of one comparison and the dataset-level verdict."""

    features: tuple[FeatureResult, ...]
    drifted_features: tuple[str, ...]
    share: float
    verdict: str
    score: float
    schema_problems: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The ``drift compare`` JSON document."""
        return {
            "features": [f.to_json() for f in self.features],
            "dataset": {"drifted_features": list(self.drifted_features), "share": self.share,
                        "verdict": self.verdict, "score": self.score,
                        "schema_problems": list(self.schema_problems)},
        }


class Reader:
    """Fetches count tables for features, caching the baseline side across windows.

    On the embedded engine features are computed on worker threads, each reading through
    its own sibling connection, so both cores fetch and test at once.
    """

    def __init__(self, session: Session | None = None, workers: int = 2, *,
                 keep_baseline: bool = False) -> None:
        self._session = session
        self._keep_baseline = keep_baseline
        # Baseline sides (and row counts, keyed by an empty column name) kept across windows.
        self._cache: dict[tuple[Source, str], Numeric | Sample | Categorical | int] = {}
        self._locks: dict[tuple[Source, str], threading.Lock] = {}
        self._guard = threading.Lock()
        self._forks: list[Session] = []
        self._local = threading.local()
        self.workers = workers
        self.pool = ThreadPoolExecutor(max_workers=workers)

    @property
    def session(self) -> Session:
        """The unit of work queries go through (rebound per window by the monitor)."""
        if self._session is None:
            raise RuntimeError("Reader used before a session was bound")
        return self._session

    @session.setter
    def session(self, value: Session) -> None:
        self._close_forks()
        self._session = value

    @property
    def parallel(self) -> bool:
        """True when numeric features can be computed on worker threads."""
        return hasattr(self.session, "fork")

    def close(self) -> None:
        """Stop the worker threads and close their connections."""
        self.pool.shutdown(wait=True)
        self._close_forks()

    def _close_forks(self) -> None:
        with self._guard:
            for fork in self._forks:
                fork.close()  # type: ignore[attr-defined]
            self._forks.clear()
            self._local = threading.local()

    def _here(self) -> Session:
        """The session for the calling thread: the main one, or a sibling on a worker."""
        if not getattr(self._local, "worker", False) or not self.parallel:
            return self.session
        session: Session | None = getattr(self._local, "session", None)
        if session is None:
            session = self.session.fork()  # type: ignore[attr-defined]
            assert isinstance(session, Session)
            self._local.session = session
            with self._guard:
                self._forks.append(session)
        return session

    def mark_worker(self) -> None:
        """Mark the calling thread as a worker: it reads through a sibling connection."""
        self._local.worker = True

    def _cached(self, key: tuple[Source, str], load: Any) -> Any:
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:  # two windows may want the same baseline column at once: load it once
            if key not in self._cache:
                self._cache[key] = load()
            return self._cache[key]

    def numeric(self, source: Source, column: str, *, cache: bool = False) -> Numeric | Sample:
        """One numeric column: its finite values (embedded engine) or their count table."""
        if cache and self._keep_baseline:
            found = self._cached((source, column), lambda: self._numeric(source, column))
            assert isinstance(found, Numeric | Sample)
            return found
        return self._numeric(source, column)

    def _numeric(self, source: Source, column: str) -> Numeric | Sample:
        session = self._here()
        if session.local_columns:
            # Embedded engine: one scan per column and side, values kept unsorted (the tests
            # sort only what they need); NaN (a null) and infinities are counted here, and
            # the table is never held whole.
            name, params = source.query("drift/numeric_values", column)
            raw = session.fetch_column(name, params)
            finite = np.isfinite(raw)
            n_nan = n_inf = 0
            if not finite.all():
                n_nan = int(np.isnan(raw).sum())
                n_inf = int(raw.size - finite.sum()) - n_nan
                raw = raw[finite]
            del finite
            n_rows = self.rows(source)
            return Sample(n_rows, n_rows - int(raw.size) - n_inf, n_inf, raw)
        health = _health(session, source, column)
        # Warehouse path: only the ECDF step table (value, count) leaves the engine.
        name, params = source.query("drift/numeric_steps", column)
        rows = session.fetch_rows(name, params)
        raw_values = np.array([r["v"] for r in rows], dtype=np.float64)
        raw_counts = np.array([r["n"] for r in rows], dtype=np.int64)
        order = np.argsort(raw_values)
        return Numeric(*health, raw_values[order], raw_counts[order])

    def rows(self, source: Source) -> int:
        """Rows of a source, counted once per reader (keyed by an empty column name)."""
        session = self._here()
        return int(self._cached((source, ""), lambda: _count_rows(session, source)))

    def categorical(self, source: Source, column: str, *, cache: bool = False) -> Categorical:
        """Counts of each category of one column (NULL counted apart)."""
        if cache and self._keep_baseline:
            found = self._cached((source, column), lambda: self._categorical(source, column))
            assert isinstance(found, Categorical)
            return found
        return self._categorical(source, column)

    def _categorical(self, source: Source, column: str) -> Categorical:
        name, params = source.query("drift/category_counts", column)
        counts: dict[str, int] = {}
        n_null = n_rows = 0
        for row in self._here().fetch_rows(name, params):
            n_rows += int(row["n"])
            if row["category"] is None:
                n_null += int(row["n"])
            else:
                name = _INTEGRAL.sub(r"\1", str(row["category"]))
                counts[name] = counts.get(name, 0) + int(row["n"])
        return Categorical(n_rows, n_null, counts)


_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
                  "UINTEGER", "UBIGINT", "UHUGEINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL",
                  "NUMBER", "LONG", "SHORT", "BYTE")
_TEMPORAL_TYPES = ("DATE", "TIME", "TIMESTAMP", "INTERVAL")


def type_family(type_name: str) -> str:
    """``numeric``, ``boolean``, ``temporal`` or ``text`` for a DuckDB or Databricks type name.

    A feature whose family changes between baseline and current (numbers arriving as strings)
    is ``schema_type_changed`` rather than silently cast.
    """
    upper = type_name.upper().strip('"')
    if upper == "NULL":  # a column of only nulls (Arrow's null type) fits any family
        return "null"
    if upper.startswith(_TEMPORAL_TYPES):  # before numeric: INTERVAL starts with INT
        return "temporal"
    if upper.startswith(_NUMERIC_TYPES):
        return "numeric"
    if upper in ("BOOLEAN", "BOOL"):
        return "boolean"
    return "text"


def schema_issues(specs: Sequence[FeatureSpec], columns: Mapping[str, str]
                  ) -> dict[str, tuple[str, str]]:
    """Features missing from ``columns`` (name -> type name) or whose family no longer fits."""
    expected = {"numeric": ("numeric",), "boolean": ("boolean",),
                "categorical": ("text", "numeric", "boolean")}
    issues = {}
    for spec in specs:
        if spec.name not in columns:
            issues[spec.name] = ("schema_missing",
                                 f"column {spec.name!r} is missing from the current data")
        elif type_family(columns[spec.name]) not in (*expected[spec.kind], "null"):
            issues[spec.name] = ("schema_type_changed",
                                 f"column {spec.name!r} is {columns[spec.name]} now; the "
                                 f"baseline treats it as {spec.kind}")
    return issues


# An integer category column that gained a null arrives as float ("1.0"): same category as "1".
_INTEGRAL = re.compile(r"^(-?\d+)\.0+$")


def _health(session: Session, source: Source, column: str) -> tuple[int, int, int]:
    name, params = source.query("drift/numeric_health", column)
    row = session.fetch_rows(name, params)[0]
    return int(row["n_rows"]), int(row["n_null"]), int(row["n_inf"])


def _run_lengths(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and counts of a freshly fetched column (sorted in place: it is ours)."""
    if not raw.flags.writeable:
        raw = raw.copy()
    raw.sort()
    n = raw.size
    if n == 0:
        return raw, np.zeros(0, dtype=np.int64)
    is_new = np.empty(n, dtype=bool)
    is_new[0] = True
    np.not_equal(raw[1:], raw[:-1], out=is_new[1:])
    if is_new.all():  # continuous data: no ties, no second copy
        return raw, np.ones(n, dtype=np.int64)
    starts = np.flatnonzero(is_new)
    return raw[starts], np.diff(starts, append=n).astype(np.int64)


def _rate(part: int, total: int) -> float | None:
    return part / total if total else None


def _null_delta(base_rate: float | None, cur_rate: float | None) -> float:
    if base_rate is None or cur_rate is None:
        return 0.0
    return abs(cur_rate - base_rate)


def numeric_tests(base: Numeric | Sample, cur: Numeric | Sample, edges: np.ndarray | None
                  ) -> dict[str, Any]:
    """KS, normalised Wasserstein and PSI on the frozen (or baseline-derived) bins."""
    if isinstance(base, Sample) and isinstance(cur, Sample) \
            and max(base.n_valid, cur.n_valid) > stats.KS_MAX_EXACT_N:
        return sample_tests(base, cur, edges)
    if isinstance(base, Sample):
        base = base.table()
    if isinstance(cur, Sample):
        cur = cur.table()
    steps = stats.merge_sorted(base.values, base.counts, cur.values, cur.counts)
    ks = stats.ks_2samp(steps)
    distance = stats.wasserstein(steps)
    mean, std = weighted_mean_std(base.values, base.counts)
    # A constant baseline has std 0: scale by the magnitude of its value instead (documented),
    # so a moved constant still scores and nothing divides by zero.
    scale = std if std > 0 else (abs(mean) if mean != 0 else 1.0)
    cut = stats.quantile_edges(base.values, base.counts) if edges is None else edges
    expected = stats.bin_counts(base.values, base.counts, cut)
    actual = stats.bin_counts(cur.values, cur.counts, cut)
    terms = stats.psi_contributions(expected, actual)
    # Chart data: both ECDFs on a grid of ~100 quantiles, and where the KS distance is.
    grid = np.unique(np.concatenate([_quantiles(base, _PROBS), _quantiles(cur, _PROBS)]))
    gap = steps.ecdf_a - steps.ecdf_b
    np.abs(gap, out=gap)
    at = int(np.argmax(gap)) if gap.size else 0
    return {
        "ks": {"statistic": ks.statistic, "p_value": ks.p_value},
        "wasserstein_norm": distance / scale,
        "psi": float(terms.sum()),
        "_chart": {
            "edges": cut.tolist(), "baseline": expected.tolist(), "current": actual.tolist(),
            "psi_terms": terms.tolist(),
            "ecdf_x": grid.tolist(),
            "ecdf_baseline": _ecdf_at(base, grid).tolist(),
            "ecdf_current": _ecdf_at(cur, grid).tolist(),
            "ks_x": float(steps.values[at]) if gap.size else None,
            "ks_baseline": float(steps.ecdf_a[at]) if gap.size else None,
            "ks_current": float(steps.ecdf_b[at]) if gap.size else None,
            "baseline_mean": mean, "baseline_std": std,
        },
    }


_PROBS = np.linspace(0.0, 1.0, 51)


def sample_tests(base: Sample, cur: Sample, edges: np.ndarray | None) -> dict[str, Any]:
    """:func:`numeric_tests` on unsorted values, sorting only what each statistic needs.

    Same results as the table path: KS statistic and p-value, PSI, quantile edges and chart
    points bit for bit; Wasserstein and the baseline std to ~1e-15 relative (sums in another
    order). Used when scipy's KS is asymptotic (a side over 10k values).
    """
    pair = buckets.Pair.of(base.raw, cur.raw)
    grid, a, b = pair.grid, pair.a, pair.b
    # Every bucket any statistic needs sorted is known from the counts up front (KS and
    # Wasserstein refinement, the order statistics of the quantile edges and chart points,
    # the frozen edges), so each side is sorted in one subset: _quantiles on a table picks
    # order statistic floor(p (N - 1)).
    chart_a, chart_b = (np.floor(_PROBS * (side.size - 1)).astype(np.int64) for side in (a, b))
    if edges is None:
        lower, upper, gamma = stats.quantile_ranks(a.size)
        ranks_a = np.concatenate((chart_a, lower, upper))
    else:
        ranks_a = chart_a
    home_a, home_b = a.bucket_of_rank(ranks_a), b.bucket_of_rank(chart_b)
    chosen = pair.needs()
    chosen[home_a] = True
    chosen[home_b] = True
    if edges is None:
        for low, high in zip(home_a[chart_a.size:chart_a.size + lower.size],
                             home_a[chart_a.size + lower.size:], strict=True):
            chosen[low:high + 1] = True  # an interpolated edge lies between its two ranks
    else:
        chosen[grid.of(np.asarray(edges, dtype=np.float64))] = True
    subsets = (a.subset(chosen), b.subset(chosen))
    sub_a, sub_b = subsets
    extremes = pair.ks(subsets)
    ks = stats.ks_asymptotic(stats.ks_distance(extremes.max_diff, extremes.min_diff),
                             a.size, b.size)
    distance = pair.wasserstein(subsets)
    if not math.isfinite(distance):
        # Values spanning more than the float64 range: the table path rescales (rare).
        return numeric_tests(base.table(), cur.table(), edges)
    mean, std = sample_mean_std(base.raw)
    scale = std if std > 0 else (abs(mean) if mean != 0 else 1.0)
    picked = sub_a.order_stats(ranks_a, home_a)
    if edges is None:
        cut = stats.quantile_lerp(picked[chart_a.size:chart_a.size + lower.size],
                                  picked[chart_a.size + lower.size:], gamma)
    else:
        cut = np.asarray(edges, dtype=np.float64)
    points = np.unique(np.concatenate((picked[:chart_a.size],
                                       sub_b.order_stats(chart_b, home_b))))
    asked = np.concatenate((cut, points))
    below_a, below_b = (sub.count_le(asked, grid) if sub.covers(grid.of(asked))
                        else side.count_le(asked, grid)  # defensive: never expected
                        for sub, side in ((sub_a, a), (sub_b, b)))
    expected = np.diff(np.concatenate(([0], below_a[:cut.size], [a.size])))
    actual = np.diff(np.concatenate(([0], below_b[:cut.size], [b.size])))
    terms = stats.psi_contributions(expected, actual)
    return {
        "ks": {"statistic": ks.statistic, "p_value": ks.p_value},
        "wasserstein_norm": distance / scale,
        "psi": float(terms.sum()),
        "_chart": {
            "edges": cut.tolist(), "baseline": expected.tolist(), "current": actual.tolist(),
            "psi_terms": terms.tolist(),
            "ecdf_x": points.tolist(),
            "ecdf_baseline": (below_a[cut.size:] / a.size).tolist(),
            "ecdf_current": (below_b[cut.size:] / b.size).tolist(),
            "ks_x": extremes.at, "ks_baseline": extremes.ecdf_a,
            "ks_current": extremes.ecdf_b,
            "baseline_mean": mean, "baseline_std": std,
        },
    }


def sample_mean_std(raw: np.ndarray) -> tuple[float, float]:
    """:func:`weighted_mean_std` of unsorted values (each counted once)."""
    scale = max(abs(float(raw.min())), abs(float(raw.max()))) if raw.size else 0.0
    if scale == 0.0:
        return 0.0, 0.0
    # In cache-sized chunks: no column-sized temporaries (80 MB each at 10M rows).
    mean = buckets.chunked_sum(raw, scale) / raw.size
    std = math.sqrt(buckets.chunked_sum(raw, scale, mean, square=True) / raw.size)
    return mean * scale, std * scale


def weighted_mean_std(values: np.ndarray, counts: np.ndarray) -> tuple[float, float]:
    """Mean and population std of a (value, count) table, safe near the float64 limits."""
    scale = float(np.max(np.abs(values))) if values.size else 0.0
    if scale == 0.0:
        return 0.0, 0.0
    scaled = values / scale  # squares of 1e154 overflow; of values in [-1, 1] they cannot
    mean = float(np.average(scaled, weights=counts))
    std = float(np.sqrt(np.average((scaled - mean) ** 2, weights=counts)))
    return mean * scale, std * scale


def _ecdf_at(side: Numeric, grid: np.ndarray) -> np.ndarray:
    cum = np.cumsum(side.counts)
    idx = np.searchsorted(side.values, grid, side="right")
    out: np.ndarray = np.where(idx > 0, cum[np.maximum(idx - 1, 0)], 0) / cum[-1]
    return out


def _quantiles(side: Numeric, probs: np.ndarray) -> np.ndarray:
    cum = np.cumsum(side.counts)
    idx = np.searchsorted(cum, probs * (cum[-1] - 1), side="right")
    picked: np.ndarray = side.values[np.clip(idx, 0, len(side.values) - 1)]
    return picked


def categorical_tests(base: Categorical, cur: Categorical, max_categories: int) -> dict[str, Any]:
    """Chi-square, PSI and JS over baseline categories + ``other`` + ``unseen``; unseen share."""
    ranked = sorted(base.counts.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = [name for name, _ in ranked[:max_categories]]
    kept_set = set(kept)
    other_b = sum(n for name, n in ranked[max_categories:])
    b_vec = [base.counts[name] for name in kept] + [other_b, 0]
    other_c = sum(n for name, n in cur.counts.items()
                  if name not in kept_set and name in base.counts)
    unseen = {name: n for name, n in cur.counts.items() if name not in base.counts}
    c_vec = [cur.counts.get(name, 0) for name in kept] + [other_c, sum(unseen.values())]
    expected, actual = np.array(b_vec, dtype=np.int64), np.array(c_vec, dtype=np.int64)
    chi2 = stats.chi2(expected, actual)
    terms = stats.psi_contributions(expected, actual)
    top_unseen = sorted(unseen.items(), key=lambda kv: (-kv[1], kv[0]))[:10]
    return {
        "chi2": {"statistic": chi2.statistic, "p_value": chi2.p_value},
        "psi": float(terms.sum()),
        "js": stats.js_distance(expected, actual),
        "unseen_share": sum(unseen.values()) / cur.n_valid if cur.n_valid else 0.0,
        "_chart": {
            "categories": [*kept, OTHER, UNSEEN], "baseline": b_vec, "current": c_vec,
            "psi_terms": terms.tolist(), "unseen_examples": [n for n, _ in top_unseen],
        },
    }


def _decide(kind: Kind, tests: Mapping[str, Any], null_delta: float, t: Thresholds,
            p_value: float) -> tuple[str, float, str]:
    if kind == "numeric":
        effects = {"psi": (tests["psi"], t.psi_warn, t.psi_drift),
                   "wasserstein_norm": (tests["wasserstein_norm"], t.wasserstein_warn,
                                        t.wasserstein_drift)}
    else:
        effects = {"psi": (tests["psi"], t.psi_warn, t.psi_drift),
                   "js": (tests["js"], t.js_warn, t.js_drift)}
    side = {"null_rate_change": (null_delta, t.null_warn, t.null_drift)}
    if kind != "numeric":
        side["unseen_share"] = (tests["unseen_share"], t.unseen_warn, t.unseen_drift)
    all_effects = {**effects, **side}
    score = max(value / drift for value, _, drift in all_effects.values() if drift > 0)
    significant = p_value < t.alpha
    drifting = [k for k, (v, _, d) in effects.items() if v >= d]
    side_drift = [k for k, (v, _, d) in side.items() if v >= d]
    if side_drift or (drifting and significant):
        return "drift", score, ", ".join(side_drift + (drifting if significant else []))
    warns = [k for k, (v, w, _) in all_effects.items() if v >= w]
    if warns:
        reason = ", ".join(warns)
        if drifting and not significant:
            reason += f" (drift-sized but p={p_value:.3g} >= alpha={t.alpha})"
        return "warn", score, reason
    return "ok", score, ""


def compare_feature(
    reader: Reader, spec: FeatureSpec, baseline: Source, current: Source, t: Thresholds,
    *, max_categories: int, edges: np.ndarray | None = None,
) -> tuple[FeatureResult, float | None]:
    """Test one feature; returns the result and its p-value (for Benjamini-Hochberg)."""
    base: Numeric | Sample | Categorical
    cur: Numeric | Sample | Categorical
    if spec.kind == "numeric":
        base = reader.numeric(baseline, spec.name, cache=True)
        cur = reader.numeric(current, spec.name)
    else:
        base = reader.categorical(baseline, spec.name, cache=True)
        cur = reader.categorical(current, spec.name)
    rate_b, rate_c = _rate(base.n_null, base.n_rows), _rate(cur.n_null, cur.n_rows)

    def result(status: str, score: float | None, tests: Mapping[str, Any],
               reason: str = "") -> FeatureResult:
        chart = dict(tests.get("_chart", {}))
        public = {k: v for k, v in tests.items() if k != "_chart"}
        if not isinstance(base, Categorical) and not isinstance(cur, Categorical):
            public.setdefault("non_finite", {"baseline": base.n_inf, "current": cur.n_inf})
        return FeatureResult(spec.name, spec.kind, status, score, base.n_rows, cur.n_rows,
                             rate_b, rate_c, public, reason, spec.importance, chart)

    if base.n_rows == 0 or cur.n_rows == 0:
        return result("insufficient_data", None, {}, "a window has no rows"), None
    if base.n_valid == 0 or cur.n_valid == 0:
        side = "baseline" if base.n_valid == 0 else "current"
        return result("all_null", None, {}, f"every {side} value is null"), None
    if min(base.n_valid, cur.n_valid) < t.min_rows:
        return result("insufficient_data", None, {},
                      f"fewer than {t.min_rows} non-null rows "
                      f"(baseline {base.n_valid}, current {cur.n_valid})"), None
    null_delta = _null_delta(rate_b, rate_c)
    if not isinstance(base, Categorical) and not isinstance(cur, Categorical):
        only = _only_value(base)
        if only is not None and only == _only_value(cur) and null_delta < t.null_warn:
            return result("constant", 0.0, {}, f"always {only:g}"), None
        tests = numeric_tests(base, cur, edges)
        p_value = tests["ks"]["p_value"]
    else:
        assert isinstance(base, Categorical)
        assert isinstance(cur, Categorical)
        if len(base.counts) == 1 and set(cur.counts) == set(base.counts) \
                and null_delta < t.null_warn:
            return result("constant", 0.0, {}, f"always {next(iter(base.counts))!r}"), None
        tests = categorical_tests(base, cur, max_categories)
        p_value = tests["chi2"]["p_value"]
    status, score, reason = _decide(spec.kind, tests, null_delta, t, p_value)
    return result(status, score, tests, reason), p_value


def _only_value(side: Numeric | Sample) -> float | None:
    if isinstance(side, Sample):
        return side.only_value()
    return float(side.values[0]) if len(side.values) == 1 else None


BIG_ROWS = 6_000_000


def _count_rows(session: Session, source: Source) -> int:
    name, params = source.query("drift/row_count")
    return int(session.fetch_scalar(name, params) or 0)


def _gated(gate: threading.Semaphore, reader: Reader, *args: Any, **kwargs: Any
           ) -> tuple[FeatureResult, float | None]:
    reader.mark_worker()
    with gate:
        return compare_feature(reader, *args, **kwargs)


def schema_result(spec: FeatureSpec, status: str, reason: str) -> FeatureResult:
    """A feature that could not be tested because the current data's schema changed."""
    return FeatureResult(spec.name, spec.kind, status, None, 0, 0, None, None, {}, reason,
                         spec.importance)


def summarise(results: Sequence[FeatureResult], policy: Policy) -> DatasetResult:
    """The dataset verdict: share of drifted features, important drifted features, schema."""
    tested = [r for r in results if r.status in TESTED]
    drifted = tuple(r.feature for r in results if r.status == "drift")
    problems = tuple(r.feature for r in results if r.status in SCHEMA)
    share = len(drifted) / len(tested) if tested else 0.0
    rule = policy.dataset
    important = any((r.importance or 0) >= rule.importance for r in results
                    if r.status == "drift")
    if problems or (tested and (share >= rule.drift_share or important)):
        verdict = "drift"
    elif any(r.status in ("drift", "warn") for r in results):
        verdict = "warn"
    elif not tested:
        verdict = "insufficient_data"
    else:
        verdict = "ok"
    weights = np.array([r.importance if r.importance is not None else 1.0 for r in tested])
    scores = np.array([min(r.score or 0.0, 3.0) for r in tested])
    score = float(np.average(scores, weights=weights)) if tested and weights.sum() > 0 else 0.0
    return DatasetResult(tuple(results), drifted, share, verdict, score, problems)


def compare(
    session: Session, baseline: Source, current: Source, specs: Sequence[FeatureSpec],
    policy: Policy, *, model: str | None = None,
    edges: Mapping[str, np.ndarray] | None = None,
    schema_issues: Mapping[str, tuple[str, str]] | None = None,
    reader: Reader | None = None,
    progress: Callable[[FeatureResult, int, int], None] | None = None,
) -> DatasetResult:
    """Compare every feature of ``current`` with ``baseline``.

    Args:
        session: Open unit of work on the warehouse holding both sources.
        baseline: The training-time (reference) data.
        current: The data to check.
        specs: Features to test.
        policy: Thresholds.
        model: Model name, for per-model overrides.
        edges: Frozen PSI bin edges per numeric feature (from the baseline profile).
        schema_issues: Features already known to be missing or retyped: ``(status, reason)``.
        reader: Reuse a reader (and its baseline cache) across windows.
        progress: Called as ``progress(result, done, total)`` after each feature, always on
            the thread that called :func:`compare`.

    Returns:
        Per-feature results and the dataset verdict.
    """
    own = reader is None
    reader = reader or Reader(session)
    jobs: dict[str, Future[tuple[FeatureResult, float | None]]] = {}
    try:
        raw: list[tuple[FeatureResult, float | None]] = []
        # A numeric feature needs ~50 bytes a row (both sides' values and bucket indices, and
        # DuckDB's copy while fetching): past BIG_ROWS rows one feature at a time keeps peak
        # memory bounded (10M rows: 1.0 GiB; 5M rows two at a time: measured in benchmarks.md).
        single = max(reader.rows(baseline), reader.rows(current)) > BIG_ROWS
        gate = threading.Semaphore(1 if single else reader.workers)
        issues = schema_issues or {}

        def args(spec: FeatureSpec) -> tuple[tuple[Any, ...], dict[str, Any]]:
            return ((spec, baseline, current, policy.thresholds(model, spec.name)),
                    {"max_categories": policy.dataset.max_categories,
                     "edges": (edges or {}).get(spec.name)})

        # Every feature runs on the worker threads (fetch, test); at most `workers` columns are
        # in memory at once. Numeric features (long, uneven) go first and categorical ones
        # (short) last, so the short ones fill the end instead of one worker idling while the
        # other finishes a long feature.
        pooled = [s for s in specs if s.name not in issues] if reader.parallel else []
        for spec in sorted(pooled, key=lambda s: s.kind != "numeric"):
            positional, named = args(spec)
            jobs[spec.name] = reader.pool.submit(_gated, gate, reader, *positional, **named)
        for spec in specs:
            if spec.name in issues:
                raw.append((schema_result(spec, *issues[spec.name]), None))
                continue
            if spec.name in jobs:
                continue
            positional, named = args(spec)
            raw.append(compare_feature(reader, *positional, **named))
            if progress:
                progress(raw[-1][0], len(raw), len(specs))
        done = {}
        for name, job in jobs.items():
            done[name] = job.result()
            if progress:
                progress(done[name][0], len(raw) + len(done), len(specs))
        order = {spec.name: i for i, spec in enumerate(specs)}
        raw = sorted([*raw, *done.values()], key=lambda pair: order[pair[0].feature])
    except BaseException:
        # Let running workers finish before the caller closes the connection they read
        # through; otherwise DuckDB's "connection in use" error would mask the real one.
        for job in jobs.values():
            job.cancel()
        wait(list(jobs.values()))
        raise
    finally:
        if own:
            reader.close()
    results = [r for r, _ in raw]
    if policy.dataset.bh:
        results = _apply_bh(raw, policy, model)
    return summarise(results, policy)


def _apply_bh(raw: Sequence[tuple[FeatureResult, float | None]], policy: Policy,
              model: str | None) -> list[FeatureResult]:
    tested = [(i, p) for i, (_, p) in enumerate(raw) if p is not None]
    adjusted = stats.benjamini_hochberg([p for _, p in tested]).tolist() if tested else []
    out = [r for r, _ in raw]
    for (i, _), p_adj in zip(tested, adjusted, strict=True):
        r = out[i]
        t = policy.thresholds(model, r.feature)
        null_delta = _null_delta(r.null_rate_baseline, r.null_rate_current)
        kind: Kind = r.type  # type: ignore[assignment]  # FeatureResult keeps it as text
        status, score, reason = _decide(kind, r.tests, null_delta, t, float(p_adj))
        out[i] = dataclasses.replace(r, status=status, score=score, reason=reason,
                                     tests={**r.tests, "p_value_bh": float(p_adj)})
    return out
