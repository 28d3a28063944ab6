"""The large demo: years of synthetic governance history under the three real demo models.

``python -m governance demo --scale large`` builds the normal demo on top of this: about 200
retail models registered over three years before the demo's inference logs start, each with
weekly drift windows and per-feature results, incidents, drift responses, harness evaluations,
approval requests signed by named approvers (never the requester or the candidate's author),
promotions with increasing prod versions, lineage (a few models deliberately without), MLflow
run rows, and a ledger of about a million entries that forms one hash chain ahead of the demo's
own entries. Everything is a function of the seed; the audit page is benchmarked on it.

The ledger is dominated by ``drift_detected``: the scheduled monitor (``monitor watch``)
re-checks a drifting week every few minutes until the next week is due, and each check is an
entry with the same payload as the first (the embedded monitor skips stored windows instead;
the re-checks stand in for a deployment's ledger volume, and point at stored windows).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd

from governance.demo import large_catalog, large_history, large_write
from governance.demo.world import INFERENCE_START
from governance.errors import GovernanceError
from governance.ledger import canonical_json
from governance.warehouse import Session

#: The history ends the day before the demo's inference logs start.
HISTORY_END = datetime.combine(INFERENCE_START - timedelta(days=1), datetime.min.time())
REAL_MODELS = frozenset({"demand_forecast", "price_elasticity", "basket_propensity"})
TABLES = ("governance.models", "governance.model_baselines", "governance.drift_windows",
          "governance.drift_results", "governance.drift_incidents", "governance.responses",
          "governance.evaluations", "governance.approvals", "governance.approval_signatures",
          "lineage.table_lineage", "lineage.column_lineage", "mlflow.runs_latest")


@dataclass(frozen=True)
class LargeSpec:
    """How big the synthetic history is.

    Attributes:
        models: Synthetic models (the demo adds its three real ones).
        ledger_entries: Ledger entries the history aims for (re-checks fill up to it).
        drift_results: Per-feature drift results the weekly windows aim for.
        years: How far back the oldest model was registered.
        without_lineage: Models that never recorded lineage (for the completeness report).
    """

    models: int = 197
    ledger_entries: int = 1_000_000
    drift_results: int = 100_000
    years: int = 3
    without_lineage: int = 8


@dataclass(frozen=True)
class History:
    """The generated history, ready to write: ledger entries and rows per table."""

    events: large_write.Events
    tables: dict[str, list[dict[str, Any]]]
    models: tuple[large_catalog.SyntheticModel, ...]
    empty_tables: dict[str, pd.DataFrame] = field(default_factory=dict)


def generate(seed: int, spec: LargeSpec = LargeSpec()) -> History:
    """Generate the synthetic history (no I/O); the same seed gives the same history."""
    rng = np.random.default_rng([seed, 6])
    models = large_catalog.catalog(rng, spec.models, spec.without_lineage, REAL_MODELS)
    start = HISTORY_END - timedelta(days=365 * spec.years)
    weeks = _monitored_weeks(rng, models, spec.drift_results, (HISTORY_END - start).days // 7)
    sim = large_history.Simulation(rng, HISTORY_END)
    for model, n_weeks in zip(models, weeks, strict=True):
        first_monday = _monday_after(HISTORY_END.date() - timedelta(weeks=n_weeks + 1))
        registered = datetime.combine(first_monday - timedelta(days=int(rng.integers(1, 6))),
                                      datetime.min.time()) + timedelta(
            hours=int(rng.integers(9, 17)), minutes=int(rng.integers(60)))
        sim.run_model(model, registered, first_monday)
    _fill_rechecks(rng, sim, spec.ledger_entries)
    return History(sim.events, sim.tables, tuple(models), _empty_tables(models, sim))


def write(session: Session, history: History, *,
          progress: Callable[[str], None] | None = None) -> dict[str, int]:
    """Write ``history`` into an empty workspace (schema created, ledger still empty).

    Prod tables are created too (the synthetic models' empty inference logs), so the caller
    must hold the demo's prod write grant.

    Returns:
        Rows written per table.
    """
    say = progress or (lambda _line: None)
    if session.fetch_scalar("ledger/count"):
        raise GovernanceError(
            "the large demo history must come first in the ledger, which already has entries",
            hint="rebuild with `python -m governance demo --scale large --reset`")
    say(f"  ledger: chaining {len(history.events):,} entries")
    chain = large_write.write_chain(session, history.events, progress=say)
    written = {"governance.ledger": len(history.events)}
    for name in TABLES:
        rows = history.tables[name]
        if name in ("governance.approvals", "governance.approval_signatures"):
            rows = [_resolved(row, chain) for row in rows]
        schema = large_write.RUNS_SCHEMA if name == "mlflow.runs_latest" else None
        written[name] = large_write.append(session, name, rows, schema)
    for table, frame in history.empty_tables.items():
        session.load_table(table, frame)
    say(f"  history: {len(history.models)} models, " + ", ".join(
        f"{n.split('.')[-1]} {c:,}" for n, c in written.items()))
    return written


def _resolved(row: dict[str, Any], chain: large_write.Chain) -> dict[str, Any]:
    out = large_write.resolve_refs(row, chain)
    if isinstance(out.get("detail"), dict):
        out["detail"] = canonical_json(out["detail"])
    return out  # type: ignore[no-any-return]


def _monitored_weeks(rng: np.random.Generator, models: list[large_catalog.SyntheticModel],
                     target: int, max_weeks: int) -> list[int]:
    """Weeks of monitoring per model so that all weekly results together make ``target``.

    Models joined at different times: a share are as old as the history, the rest spread over
    it. The spread is scaled (by bisection) until features x weeks adds up to the target.
    """
    share = rng.uniform(0.08, 1.0, len(models)) ** 0.7
    founders = rng.random(len(models)) < 0.1
    founders[0] = True  # the history reaches back its full length
    features = np.array([len(m.features) for m in models])

    def weeks(scale: float) -> np.ndarray:
        out = np.clip(np.round(share * scale), 6, max_weeks).astype(int)
        out[founders] = max_weeks
        return out

    low, high = 1.0, float(max_weeks) * 4
    for _ in range(50):
        mid = (low + high) / 2
        low, high = (mid, high) if int((weeks(mid) * features).sum()) < target else (low, mid)
    return [int(w) for w in weeks(high)]


def _monday_after(day: date) -> date:
    return day + timedelta(days=(7 - day.weekday()) % 7)


def _fill_rechecks(rng: np.random.Generator, sim: large_history.Simulation,
                   target: int) -> None:
    """Re-checks of drifting weeks (same payload as the first check) up to ``target``."""
    missing = target - len(sim.events)
    checks = sim.drift_checks
    if missing <= 0 or not checks:
        return
    per = missing // len(checks)
    extra = set(rng.choice(len(checks), size=missing % len(checks), replace=False).tolist())
    end = large_write.micros(sim.end)
    events = sim.events
    for i, (at, subject, payload) in enumerate(checks):
        n = per + (i in extra)
        if not n:
            continue
        span = min(7 * 86_400_000_000, end - at - 1)
        step = max(1, span // (n + 1))
        for j in range(1, n + 1):
            events.add(at + j * step, large_history.MONITOR, "prod", "drift_detected",
                       subject, payload)


def _empty_tables(models: list[large_catalog.SyntheticModel],
                  sim: large_history.Simulation) -> dict[str, pd.DataFrame]:
    """Each model's inference log and current champion's training set, with no rows.

    The monitor and the overview read both for every production model; the history's windows
    are already stored, so there is nothing left for the monitor to check in them.
    """
    out = {}
    for model in models:
        columns: dict[str, pd.Series] = {}
        for f in model.features:
            dtype = {"numeric": "float64", "categorical": "object", "boolean": "bool"}
            columns[f] = pd.Series([], dtype=dtype[model.kind(f)])
        day = cast(Any, pd.Series([], dtype="datetime64[us]")).dt.date
        out[f"prod.inference.{model.name}"] = pd.DataFrame(
            {"request_id": pd.Series([], dtype="object"), "event_date": day, **columns,
             "label": pd.Series([], dtype="float64"),
             "prediction": pd.Series([], dtype="float64")})
        out[sim.champion_table[model.name]] = pd.DataFrame(
            {"row_id": pd.Series([], dtype="object"), "event_date": day, **columns,
             model.target: pd.Series([], dtype="float64")})
    return out
