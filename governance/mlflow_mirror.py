"""Mirror the local MLflow stores into the stand-in of ``system.mlflow.runs_latest``.

On Databricks the platform keeps ``system.mlflow.runs_latest`` up to date, and the audit query
joins it in SQL. The embedded default has two MLflow sqlite stores instead, which SQL cannot
join; :func:`sync` copies every run of both into a table with the system table's columns
(``workspace_id`` holds the environment), so the one audit query runs unchanged in both places.
The mirror is a cache of MLflow, not a record: it is rebuilt per environment in one unit of
work, and the ledger, not the mirror, is the evidence.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from governance.ledger import utc_now
from governance.registry import Registry
from governance.warehouse import Warehouse

if TYPE_CHECKING:
    from mlflow.entities import Run

log = logging.getLogger(__name__)


def _time(millis: int | None) -> datetime | None:
    if millis is None:
        return None
    return datetime.fromtimestamp(millis / 1000, UTC).replace(tzinfo=None)


def run_row(environment: str, run: Run, now: datetime) -> dict[str, object]:
    """The ``mlflow/insert_run`` parameters for one MLflow run."""
    info, data = run.info, run.data
    metrics = [
        {"metric_name": k, "latest_time": None, "latest_step": 0, "latest_value": float(v),
         "min_value": float(v), "max_value": float(v)}
        for k, v in sorted(data.metrics.items())
    ]
    return {
        "update_time": now,
        "workspace_id": environment,
        "experiment_id": str(info.experiment_id),
        "run_id": str(info.run_id),
        "run_name": info.run_name,
        "created_by": data.tags.get("mlflow.user") or info.user_id or None,
        "start_time": _time(info.start_time),
        "end_time": _time(info.end_time),
        "status": info.status,
        "params": json.dumps(dict(data.params), sort_keys=True),
        "tags": json.dumps(dict(data.tags), sort_keys=True),
        "metrics": json.dumps(metrics),
    }


def sync(warehouse: Warehouse, registries: Mapping[str, Registry]) -> dict[str, int]:
    """Rebuild the mirrored runs of each local environment; returns runs mirrored per env.

    Remote (Databricks) environments are skipped: their system table is the platform's.
    """
    mirrored: dict[str, int] = {}
    now = utc_now()
    for environment, registry in registries.items():
        if not registry.env.is_local:
            continue
        rows = [run_row(environment, run, now) for run in registry.all_runs()]
        with warehouse.session() as session:
            session.execute("mlflow/forget_runs", {"workspace_id": environment})
            for row in rows:
                session.execute("mlflow/insert_run", row)
        mirrored[environment] = len(rows)
    return mirrored


def refresh_after(warehouse: Warehouse, registries: Mapping[str, Registry], action: str) -> None:
    """Re-mirror after ``action`` created runs; a failure is logged, never raised.

    The action itself (a response step, a promotion) has already committed with its ledger
    entries; a stale mirror only delays what the audit view shows, so it must not turn a
    completed action into an error. The audit page keys its reused reads by the mirror's
    newest update, so it shows the new runs once they land.
    """
    try:
        sync(warehouse, registries)
    except Exception as exc:  # the mirror is a cache: report, do not fail the action
        log.warning("MLflow runs mirror not refreshed after %s: %s: %s", action,
                    type(exc).__name__, exc)
