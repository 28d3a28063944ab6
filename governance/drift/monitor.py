"""The monitor: checks each production model's inference log window by window.

For every model with a prod champion (from the ledger's ``model_promoted`` entries) it compares
each complete weekly window (Monday to Sunday) of the inference log with the frozen training
set of that version. Each window is one unit of work: the per-feature results, the incident
change and the ``drift_detected`` ledger entry commit together, and a window that already has
results is skipped, so running twice stores nothing new.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

from governance import ledger
from governance.drift import engine, profile
from governance.drift.policy import Policy
from governance.errors import DataError
from governance.ledger import canonical_json
from governance.warehouse import Session, Warehouse

log = logging.getLogger(__name__)
ACTOR = "system:drift-monitor"
WINDOW_DAYS = 7
CLOSED = ("closed", "resolved", "promoted", "rejected")


@dataclass(frozen=True)
class Target:
    """A production model version to monitor."""

    model: str
    version: str
    baseline_table: str
    inference_table: str
    specs: tuple[engine.FeatureSpec, ...]
    edges: dict[str, np.ndarray]
    trained_until: date | None = None


@dataclass(frozen=True)
class WindowOutcome:
    """What one window check did."""

    model: str
    window: tuple[date, date]
    checked: bool
    verdict: str = ""
    drifted: tuple[str, ...] = ()
    incident_id: str | None = None
    incident_action: str = ""
    skipped: str = ""


def targets(session: Session, model: str | None = None) -> list[Target]:
    """Production champions with their frozen baselines, optionally one model.

    Raises:
        DataError: ``model`` is not a governed production model, or a champion has no frozen
            baseline profile.
    """
    promoted = ledger.latest_by_type(session, "model_promoted")
    trained = ledger.latest_by_type(session, "model_trained")
    candidates = _candidate_tables(session)  # read once: one pass per model is N x M
    out = []
    for row in session.fetch_rows("models/list"):
        name = row["model_name"]
        if (model and name != model) or name not in promoted:
            continue
        payload = promoted[name].payload
        version, uat_version = str(payload["prod_version"]), str(payload["uat_version"])
        frozen = profile.load(session, name, uat_version)
        if not frozen:
            raise DataError(f"{name} v{uat_version} has no frozen baseline profile",
                            hint="rebuild the demo (`python -m governance demo --reset`)")
        table = training_table_of(session, name, uat_version, trained,
                                  default=row["training_table"], candidates=candidates)
        specs = tuple(engine.FeatureSpec(f, frozen[f].kind, frozen[f].importance)  # type: ignore[arg-type]
                      for f in json.loads(row["features"]) if f in frozen)
        edges = {f: np.array(p.edges) for f, p in frozen.items() if p.kind == "numeric"}
        span = session.fetch_rows("drift/log_date_range", {"tbl": table})[0]
        until = _day(span["last_day"]) if span["last_day"] is not None else None
        out.append(Target(name, version, table, row["inference_table"], specs, edges, until))
    if model and not out:
        raise DataError(f"no production model named {model!r}",
                        hint="see `python -m governance ledger show --type model_promoted`")
    return out


def _candidate_tables(session: Session) -> dict[tuple[str, str], str]:
    """``(model, uat version) -> training table`` of every ``candidate_trained`` entry (the
    first entry wins, as a scan in ledger order would find it)."""
    found: dict[tuple[str, str], str] = {}
    for e in ledger.entries(session, event_type="candidate_trained"):
        found.setdefault((str(e.payload.get("model")), str(e.payload["uat_version"])),
                         str(e.payload["training_table"]))
    return found


def training_table_of(session: Session, model: str, uat_version: str,
                      trained: dict[str, ledger.LedgerEntry] | None = None, *,
                      default: str,
                      candidates: dict[tuple[str, str], str] | None = None) -> str:
    """The table a model version was trained on, from the ledger: the demo's ``model_trained``
    entry for v1, or the drift response's ``candidate_trained`` entry for a candidate.

    ``trained`` and ``candidates`` are the ledger reads, when the caller already has them.
    """
    first = (trained if trained is not None
             else ledger.latest_by_type(session, "model_trained")).get(f"{model}/{uat_version}")
    if first is not None:
        return str(first.payload["training_table"])
    found = (candidates if candidates is not None else _candidate_tables(session))
    return found.get((model, uat_version), default)


def complete_windows(first: date, last: date, since: date | None = None) -> list[tuple[date, date]]:
    """Monday-to-Sunday windows fully inside ``[first, last]`` (and starting on/after since)."""
    start = first + timedelta(days=(7 - first.weekday()) % 7)
    out = []
    while start + timedelta(days=WINDOW_DAYS - 1) <= last:
        if since is None or start >= since - timedelta(days=WINDOW_DAYS - 1):
            out.append((start, start + timedelta(days=WINDOW_DAYS - 1)))
        start += timedelta(days=WINDOW_DAYS)
    return out


def windows_of(session: Session, target: Target) -> list[tuple[date, date]]:
    """Every complete weekly window of a target's inference log that starts after the last day
    of its training data, oldest first: earlier windows are rows the version learnt from."""
    span = session.fetch_rows("drift/log_date_range", {"tbl": target.inference_table})[0]
    if span["first_day"] is None:
        return []
    windows = complete_windows(_day(span["first_day"]), _day(span["last_day"]))
    if target.trained_until is None:
        return windows
    return [w for w in windows if w[0] > target.trained_until]


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def check_window(warehouse: Warehouse, target: Target, window: tuple[date, date],
                 policy: Policy, reader: engine.Reader | None = None) -> WindowOutcome:
    """Check one window of one model in one unit of work (skipped if already stored)."""
    with warehouse.session() as session:
        key = {"model_name": target.model, "model_version": target.version,
               "window_start": window[0]}
        if session.fetch_scalar("drift/window_done", key):
            return WindowOutcome(target.model, window, False)
        if reader is not None:
            reader.session = session
        columns = dict(session.describe("drift/peek", {"tbl": target.inference_table}))
        result = engine.compare(
            session, engine.Source(target.baseline_table),
            engine.Source(target.inference_table, window), target.specs, policy,
            model=target.model, edges=target.edges, reader=reader,
            schema_issues=engine.schema_issues(target.specs, columns))
        now = ledger.utc_now()
        for f in result.features:
            session.execute("drift/insert_result", {
                **key, "feature": f.feature, "window_end": window[1], "feature_type": f.type,
                "status": f.status, "score": f.score, "n_baseline": f.n_baseline,
                "n_current": f.n_current, "null_rate_baseline": f.null_rate_baseline,
                "null_rate_current": f.null_rate_current,
                "tests": canonical_json({**f.tests, "reason": f.reason, "chart": f.chart}),
                "computed_at": now,
            })
        session.execute("drift/insert_window", {
            **key, "window_end": window[1], "verdict": result.verdict,
            "score": result.score, "share": result.share,
            "drifted_features": canonical_json(list(result.drifted_features)),
            "schema_problems": canonical_json(list(result.schema_problems)),
            "policy": policy.source, "computed_at": now,
        })
        if result.verdict != "drift":
            return WindowOutcome(target.model, window, True, result.verdict)
        incident, action = _incident(session, target, window, result, policy, now)
        ledger.append(session, actor=ACTOR, environment="prod", event_type="drift_detected",
                      subject=f"{target.model}/{target.version}", payload={
                          "window": [window[0].isoformat(), window[1].isoformat()],
                          "verdict": result.verdict, "score": round(result.score, 6),
                          "share": round(result.share, 6),
                          "drifted_features": list(result.drifted_features),
                          "schema_problems": list(result.schema_problems),
                          "incident_id": incident, "incident_action": action,
                          "policy": policy.source,
                      })
        return WindowOutcome(target.model, window, True, result.verdict,
                             result.drifted_features, incident, action)


def _incident(session: Session, target: Target, window: tuple[date, date],
              result: engine.DatasetResult, policy: Policy, now: datetime
              ) -> tuple[str | None, str]:
    latest = session.fetch_rows("incidents/latest_for_model", {"model_name": target.model})
    drifted = canonical_json(list(result.drifted_features))
    if latest and latest[0]["status"] not in CLOSED:
        session.execute("incidents/update_window", {
            "incident_id": latest[0]["incident_id"], "updated_at": now,
            "last_window": window[1], "score": result.score, "drifted_features": drifted})
        return latest[0]["incident_id"], "updated"
    if latest:
        # Counted from when the incident was closed (its last update): a backfill over old
        # windows right after a close therefore stays quiet too, which is the intent.
        quiet_until = _day(latest[0]["updated_at"]) + timedelta(
            days=policy.dataset.cooldown_days)
        if window[1] < quiet_until:
            return None, f"cool-down until {quiet_until.isoformat()}"
    # The window alone is not unique: a closed incident's first window can drift again.
    incident_id = f"INC-{target.model}-{window[0]:%Y%m%d}"
    taken = session.fetch_scalar("incidents/count_ids", {"incident_id": incident_id,
                                                         "pattern": f"{incident_id}-%"})
    if taken:
        incident_id = f"{incident_id}-{int(taken) + 1}"
    session.execute("incidents/insert", {
        "incident_id": incident_id, "model_name": target.model,
        "model_version": target.version, "status": "open", "opened_at": now,
        "first_window": window[0], "last_window": window[1], "score": result.score,
        "drifted_features": drifted,
        "detail": canonical_json({"opened_by": ACTOR, "policy": policy.source}),
    })
    return incident_id, "opened"


def run(warehouse: Warehouse, policy: Policy, *, model: str | None = None,
        window: date | None = None, since: date | None = None,
        progress: Callable[[WindowOutcome], None] | None = None) -> list[WindowOutcome]:
    """Check windows: the latest complete one (default), the one containing ``window``, or all
    complete windows from ``since`` (backfill).

    Raises:
        DataError: ``window`` is not inside a complete window of the log.
    """
    with warehouse.session() as session:
        plan = [(t, _choose(windows_of(session, t), window, since))
                for t in targets(session, model)]
    # Refuse a bad --window before checking anything, not after some models committed. A
    # champion trained on data up to (or past) that day is skipped when others can check it.
    if window is not None and not any(chosen for _, chosen in plan):
        raise DataError(f"{window.isoformat()} is not in a complete window of "
                        + ", ".join(t.inference_table for t, _ in plan)
                        + " after the champions' training data")
    outcomes = []
    for target, chosen in plan:
        if window is not None and not chosen and progress:
            progress(WindowOutcome(target.model, (window, window), False,
                                   skipped=f"v{target.version} was trained on data up to "
                                   f"{target.trained_until}"))
    for target, chosen in plan:
        reader = engine.Reader(keep_baseline=True)
        try:
            for w in chosen:
                outcome = check_window(warehouse, target, w, policy, reader)
                outcomes.append(outcome)
                if progress:
                    progress(outcome)
        finally:
            reader.close()
    return outcomes


def _choose(windows: Sequence[tuple[date, date]], window: date | None,
            since: date | None) -> list[tuple[date, date]]:
    if window is not None:
        return [w for w in windows if w[0] <= window <= w[1]]
    if since is not None:
        return [w for w in windows if w[1] >= since]
    return list(windows[-1:])


def watch(warehouse: Warehouse, policy: Policy, every: timedelta, *,
          max_runs: int | None = None) -> Iterator[list[WindowOutcome]]:
    """Run the monitor every ``every`` (the latest window each time); stops after max_runs."""
    runs = 0
    while max_runs is None or runs < max_runs:
        yield run(warehouse, policy)
        runs += 1
        if max_runs is None or runs < max_runs:
            time.sleep(every.total_seconds())
