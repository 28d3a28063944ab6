"""The drift explorer's data: stored verdicts per model, window and feature, and ad-hoc checks.

Everything here reads what the monitor stored in ``governance.drift_results`` (one row per
model version, feature and window, whose ``tests`` column holds the test values, the reason and
the chart payload). :func:`check_now` is the one exception: it runs the engine on a window as a
*preview* and stores nothing, because the monitor alone stores results (once per window, with
the incident and ledger entry in the same unit of work).

A window's dataset verdict is not stored as such; it is re-derived from the stored feature
verdicts with :func:`governance.drift.engine.summarise` (the monitor's own rule) under the
policy given, weighted by the champion's frozen feature importances.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar

from governance.drift import engine, monitor
from governance.drift.policy import Policy, Thresholds
from governance.errors import DataError
from governance.warehouse import Session, Warehouse

T = TypeVar("T")

#: A feature's score is its largest effect over that effect's drift threshold: 1.0 is drift-sized.
SCORE_THRESHOLD = 1.0

# Ties in score (and the scoreless statuses at the bottom) are ordered by how much they need a
# look: schema problems make a dataset drift, so they come before data that was merely thin.
_SEVERITY = {"drift": 0, "schema_missing": 1, "schema_type_changed": 1, "warn": 2,
             "all_null": 3, "insufficient_data": 4, "ok": 5, "constant": 6}


@dataclass(frozen=True)
class WindowSummary:
    """One checked window of one model version.

    Attributes:
        start: First day (a Monday).
        end: Last day (inclusive).
        model_version: The production version that was checked.
        n_features: Features with a stored result.
        n_drift: Features whose verdict is ``drift``.
        n_warn: Features whose verdict is ``warn``.
        max_score: Highest feature score (``None`` if no feature could be scored).
        verdict: The dataset verdict re-derived from the stored feature verdicts.
        drifted: Names of the drifted features.
        computed_at: When the monitor stored the results (UTC).
    """

    start: date
    end: date
    model_version: str
    n_features: int
    n_drift: int
    n_warn: int
    max_score: float | None
    verdict: str
    drifted: tuple[str, ...]
    computed_at: datetime

    @property
    def window(self) -> tuple[date, date]:
        """``(start, end)``, the shape the engine and monitor use."""
        return self.start, self.end


@dataclass(frozen=True)
class StoredResult:
    """One stored feature result, parsed back into the engine's :class:`FeatureResult`."""

    window: tuple[date, date]
    model_version: str
    computed_at: datetime
    result: engine.FeatureResult


@dataclass(frozen=True)
class Heatmap:
    """Score per feature (rows, worst first) per window (columns, oldest first).

    ``scores[i][j]`` and ``statuses[i][j]`` belong to ``features[i]`` in window ``windows[j]``;
    ``None`` where the feature has no result in that window or could not be scored.
    """

    features: tuple[str, ...]
    windows: tuple[date, ...]
    scores: tuple[tuple[float | None, ...], ...]
    statuses: tuple[tuple[str | None, ...], ...]


@dataclass(frozen=True)
class HistoryPoint:
    """One feature in one window: verdict, score and the headline test values."""

    window: tuple[date, date]
    status: str
    score: float | None
    psi: float | None
    js: float | None
    wasserstein_norm: float | None
    unseen_share: float | None
    null_rate_baseline: float | None
    null_rate_current: float | None


@dataclass(frozen=True)
class FeatureHistory:
    """A feature's stored results over time, oldest window first, with its thresholds."""

    feature: str
    type: str
    thresholds: Thresholds
    points: tuple[HistoryPoint, ...]

    def threshold(self, metric: str) -> float:
        """The drift threshold of ``score``, ``psi``, ``js``, ``wasserstein_norm``,
        ``unseen_share`` or ``null_rate`` (an absolute change) for this feature."""
        if metric == "score":
            return SCORE_THRESHOLD
        name = {"wasserstein_norm": "wasserstein_drift", "null_rate": "null_drift"}.get(
            metric, f"{metric.removesuffix('_share')}_drift")
        return float(getattr(self.thresholds, name))


def read(warehouse: Warehouse, load: Callable[[Session], T]) -> T:
    """Run ``load`` in its own short unit of work (the app opens one per read)."""
    with warehouse.session() as session:
        return load(session)


def monitored_models(session: Session) -> list[str]:
    """Names of the production models the monitor checks, alphabetically.

    Raises:
        DataError: A champion has no frozen baseline profile.
    """
    return [t.model for t in monitor.targets(session)]


def ranked(results: Iterable[engine.FeatureResult]) -> list[engine.FeatureResult]:
    """Results by score, highest first; unscored ones last, the more serious first."""
    return sorted(results, key=_rank)


def _rank(r: engine.FeatureResult) -> tuple[bool, float, int, str]:
    return r.score is None, -(r.score or 0.0), _SEVERITY.get(r.status, 9), r.feature


def windows(session: Session, model: str, policy: Policy | None = None) -> list[WindowSummary]:
    """Every checked window of ``model``, newest first (newest model version first on ties)."""
    importance = _importance(session, model)
    groups: dict[tuple[date, str], list[dict[str, Any]]] = {}
    for row in session.fetch_rows("drift/explore_scores", {"model_name": model}):
        groups.setdefault((row["window_start"], row["model_version"]), []).append(row)
    out = []
    for (start, version), rows in groups.items():
        results = [_scored(r, importance.get(r["feature"])) for r in rows]
        summary = engine.summarise(results, policy or Policy())
        scores = [r.score for r in results if r.score is not None]
        out.append(WindowSummary(
            start, rows[0]["window_end"], version, len(results),
            sum(r.status == "drift" for r in results), sum(r.status == "warn" for r in results),
            max(scores) if scores else None, summary.verdict, summary.drifted_features,
            max(r["computed_at"] for r in rows)))
    return sorted(out, key=lambda w: (w.start, w.computed_at), reverse=True)


def unchecked_windows(session: Session, model: str) -> list[tuple[date, date]]:
    """Complete weekly windows of the model's inference log with no stored results, newest
    first (what :func:`check_now` can preview before the monitor gets to them)."""
    (target,) = monitor.targets(session, model)
    complete = monitor.windows_of(session, target)
    if not complete:
        return []
    done = {row["window_start"] for row in
            session.fetch_rows("drift/explore_scores", {"model_name": model})
            if row["model_version"] == target.version}
    return [w for w in reversed(complete) if w[0] not in done]


def feature_results(session: Session, model: str, window_start: date,
                    model_version: str | None = None) -> list[StoredResult]:
    """The stored results of one window, ranked (see :func:`ranked`).

    Args:
        session: Open unit of work.
        model: Model name.
        window_start: First day of the window.
        model_version: Version whose results to read; default the newest one checked there.
    """
    if model_version is None:
        checked = [w for w in windows(session, model) if w.start == window_start]
        if not checked:
            return []
        model_version = checked[0].model_version
    importance = _importance(session, model)
    stored = []
    for row in session.fetch_rows("drift/explore_window", {
            "model_name": model, "model_version": model_version, "window_start": window_start}):
        tests = json.loads(row["tests"])
        chart, reason = tests.pop("chart", {}), tests.pop("reason", "")
        result = engine.FeatureResult(
            row["feature"], row["feature_type"], row["status"], row["score"],
            int(row["n_baseline"] or 0), int(row["n_current"] or 0),
            row["null_rate_baseline"], row["null_rate_current"], tests, reason,
            importance.get(row["feature"]), chart)
        stored.append(StoredResult((row["window_start"], row["window_end"]), model_version,
                                   row["computed_at"], result))
    return sorted(stored, key=lambda s: _rank(s.result))


def heatmap(session: Session, model: str) -> Heatmap:
    """Score per feature per window; where versions overlap, the newest computation wins."""
    latest: dict[tuple[str, date], dict[str, Any]] = {}
    for row in session.fetch_rows("drift/explore_scores", {"model_name": model}):
        key = (row["feature"], row["window_start"])
        if key not in latest or row["computed_at"] >= latest[key]["computed_at"]:
            latest[key] = row
    starts = sorted({w for _, w in latest})
    worst: dict[str, float] = {}
    for (feature, _), row in latest.items():
        worst[feature] = max(worst.get(feature, -1.0), row["score"] if row["score"] is not None
                             else -1.0)
    features = sorted(worst, key=lambda f: (-worst[f], f))
    cells = [[latest.get((f, w)) for w in starts] for f in features]
    return Heatmap(
        tuple(features), tuple(starts),
        tuple(tuple(c["score"] if c else None for c in row) for row in cells),
        tuple(tuple(c["status"] if c else None for c in row) for row in cells))


def history(session: Session, model: str, feature: str,
            policy: Policy | None = None) -> FeatureHistory:
    """One feature's stored results over time, oldest first, with its resolved thresholds.

    Raises:
        DataError: The model has no stored result for ``feature``.
    """
    latest: dict[date, dict[str, Any]] = {}
    for row in session.fetch_rows("drift/explore_scores", {"model_name": model}):
        if row["feature"] == feature:
            latest[row["window_start"]] = row  # rows come oldest computation first
    if not latest:
        raise DataError(f"no stored drift results for {model}.{feature}",
                        hint="run `python -m governance monitor run --model " f"{model}`")
    points = tuple(HistoryPoint(
        (r["window_start"], r["window_end"]), r["status"], r["score"], r["psi"], r["js"],
        r["wasserstein_norm"], r["unseen_share"], r["null_rate_baseline"],
        r["null_rate_current"]) for _, r in sorted(latest.items()))
    kind = latest[max(latest)]["feature_type"]
    return FeatureHistory(feature, kind, (policy or Policy()).thresholds(model, feature), points)


def check_now(warehouse: Warehouse, model: str, window: tuple[date, date],
              policy: Policy | None = None,
              progress: Callable[[engine.FeatureResult, int, int], None] | None = None,
              ) -> engine.DatasetResult:
    """Preview one window of ``model`` against its champion's frozen baseline; stores nothing.

    The result is what the monitor would store for that window now (same engine, baseline and
    frozen bins); the monitor stays the only writer of results, incidents and ledger entries.

    Args:
        warehouse: The warehouse holding the baseline and the inference log.
        model: Production model name.
        window: First and last day (inclusive) of the window.
        policy: Thresholds; default the built-in ones.
        progress: Called as ``progress(result, done, total)`` after each feature, on the
            calling thread (so a UI can update as features finish).

    Raises:
        DataError: ``model`` is not a monitored production model.
    """
    with warehouse.session() as session:
        (target,) = monitor.targets(session, model)
        return engine.compare(
            session, engine.Source(target.baseline_table),
            engine.Source(target.inference_table, window), target.specs, policy or Policy(),
            model=model, edges=target.edges, progress=progress)


def _importance(session: Session, model: str) -> Mapping[str, float | None]:
    """The champion's frozen importances; empty (equal weights) for a retired model."""
    try:
        (target,) = monitor.targets(session, model)
    except DataError:
        return {}
    return {s.name: s.importance for s in target.specs}


def _scored(row: Mapping[str, Any], importance: float | None) -> engine.FeatureResult:
    """Enough of a FeatureResult for :func:`engine.summarise` (status, score, importance)."""
    return engine.FeatureResult(row["feature"], row["feature_type"], row["status"],
                                row["score"], 0, 0, row["null_rate_baseline"],
                                row["null_rate_current"], {}, importance=importance)


def window_of(summaries: Sequence[WindowSummary], start: date) -> WindowSummary | None:
    """The newest summary of the window starting on ``start``, if it was checked."""
    return next((w for w in summaries if w.start == start), None)
