"""Every query file parses as Databricks SQL, transpiles to DuckDB and runs on the seeded store.

Queries that write run inside a unit of work that is rolled back, so the shared demo workspace
is left as it was. Queries whose header declares ``returns:`` must return exactly those columns.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

import pytest
import sqlglot

from governance import envguard, sql
from governance.settings import Settings
from governance.warehouse import open_warehouse

NOW = datetime(2026, 11, 1, 12, 0, 0)
LOG = "prod.inference.demand_forecast"
INCIDENT = "INC-demand_forecast-20261005"
WINDOW = {"start": date(2026, 10, 5), "end": date(2026, 10, 11)}
LINEAGE = {
    "entity_type": "JOB", "entity_id": "job-1", "entity_run_id": "run-1",
    "source": "prod.retail.sales", "source_catalog": "prod", "source_schema": "retail",
    "source_name": "sales", "target": "prod.features.x", "target_catalog": "prod",
    "target_schema": "features", "target_name": "x", "created_by": "system:test",
    "event_time": NOW, "record_id": "r-1",
}
EXAMPLE_PARAMS: dict[str, dict[str, Any]] = {
    "schema/record_version": {"version": 99, "applied_at": NOW, "description": "test"},
    "ledger/append": {
        "seq": 10_000, "event_time": NOW, "actor": "system:test", "environment": "global",
        "event_type": "test", "subject": "s", "payload": "{}", "hash": "0" * 64,
    },
    "ledger/entries": {"event_type": "", "since": datetime(2020, 1, 1), "max_rows": 10},
    "ledger/latest_by_type": {"event_type": "model_promoted"},
    "ledger/by_seq": {"seq": 1},
    "approvals/sign": {"approval_id": "APR-x", "signer": "user:a@x", "decision": "approve",
                       "comment": None, "claims": "{}", "signed_at": NOW, "ledger_seq": 1},
    "approvals/signatures": {"approval_id": "APR-demand_forecast-20261005"},
    "approvals/decide": {"approval_id": "APR-x", "state": "approved", "decided_by": "user:a@x",
                         "decided_at": NOW, "comment": None},
    "approvals/set_state": {"approval_id": "APR-x", "state": "promoting", "detail": "{}",
                            "updated_at": NOW},
    "approvals/touch": {"approval_id": "APR-x", "updated_at": NOW},
    "lineage/insert_table_edge": LINEAGE,
    "lineage/insert_column_edge": {**LINEAGE, "source_column": "price", "target_column": "price"},
    "models/register": {
        "model_name": "demand_forecast", "task": "regression", "algorithm": "xgboost",
        "description": "d", "owner": "o", "features": "[]", "categorical": "[]", "target": "t",
        "primary_metric": "rmse", "training_table": "uat.training.x",
        "inference_table": "prod.inference.x", "registered_at": NOW,
    },
    "inference/latest_window": {"log_table": "prod.inference.demand_forecast"},
    "drift/explore_scores": {"model_name": "demand_forecast"},
    "drift/explore_window": {"model_name": "demand_forecast", "model_version": "1",
                             "window_start": date(2026, 10, 5)},
    **{f"drift/{q}": {"tbl": LOG, "col": "price"} for q in
       ("numeric_health", "numeric_values", "numeric_steps")},
    **{f"drift/{q}_window": {"tbl": LOG, "col": "price", **WINDOW} for q in
       ("numeric_health", "numeric_values", "numeric_steps")},
    "drift/category_counts": {"tbl": LOG, "col": "region"},
    "drift/category_counts_window": {"tbl": LOG, "col": "region", **WINDOW},
    "drift/row_count": {"tbl": LOG},
    "drift/row_count_window": {"tbl": LOG, **WINDOW},
    "drift/log_date_range": {"tbl": LOG},
    "drift/window_done": {"model_name": "demand_forecast", "model_version": "1",
                          "window_start": date(2026, 10, 5)},
    "drift/insert_result": {
        "model_name": "m", "model_version": "1", "feature": "f",
        "window_start": date(2026, 10, 5), "window_end": date(2026, 10, 11),
        "feature_type": "numeric", "status": "ok", "score": 0.1, "n_baseline": 1,
        "n_current": 1, "null_rate_baseline": 0.0, "null_rate_current": 0.0, "tests": "{}",
        "computed_at": NOW,
    },
    "drift/results_for_model": {"model_name": "demand_forecast"},
    "drift/windows_for_model": {"model_name": "demand_forecast"},
    "drift/peek": {"tbl": LOG},
    "drift/insert_window": {
        "model_name": "m", "model_version": "1", "window_start": date(2026, 10, 5),
        "window_end": date(2026, 10, 11), "verdict": "ok", "score": 0.1, "share": 0.0,
        "drifted_features": "[]", "schema_problems": "[]", "policy": "built-in",
        "computed_at": NOW,
    },
    "incidents/latest_for_model": {"model_name": "demand_forecast"},
    "incidents/count_ids": {"incident_id": "INC-x", "pattern": "INC-x-%"},
    "incidents/insert": {
        "incident_id": "INC-x", "model_name": "m", "model_version": "1", "status": "open",
        "opened_at": NOW, "first_window": date(2026, 10, 5), "last_window": date(2026, 10, 11),
        "score": 1.0, "drifted_features": "[]", "detail": "{}",
    },
    "incidents/update_window": {"incident_id": "INC-x", "updated_at": NOW,
                                "last_window": date(2026, 10, 11), "score": 1.0,
                                "drifted_features": "[]"},
    "incidents/get": {"incident_id": INCIDENT},
    "incidents/set_status": {"incident_id": INCIDENT, "status": "open", "updated_at": NOW},
    "lineage/upstream": {"target": "uat.training.demand_forecast_v1"},
    "lineage/column_edges": {"target": "uat.training.demand_forecast_v1"},
    "response/get": {"incident_id": INCIDENT},
    "response/start": {"incident_id": "INC-x", "model_name": "m", "champion_version": "1",
                       "requested_by": "system:test", "lease_owner": "o", "lease_until": NOW,
                       "now": NOW},
    "response/claim": {"incident_id": INCIDENT, "lease_owner": "o", "lease_until": NOW,
                       "now": NOW},
    "response/release": {"incident_id": INCIDENT, "lease_owner": "o"},
    "response/record_step": {
        "incident_id": INCIDENT, "step": "refresh_staged", "failed_step": None,
        "problems": "[]", "cutoff": date(2026, 10, 18), "dataset_table": None,
        "dataset_digest": None, "dataset_rows": None, "holdout_table": None,
        "holdout_digest": None, "candidate_version": None, "candidate_run_id": None,
        "approval_id": None, "now": NOW,
    },
    "response/dataset_count": {"model_name": "demand_forecast"},
    "response/source_rows": {"tbl": LOG, "start": date(2026, 10, 5), "cutoff": date(2026, 10, 11)},
    "response/last_label_day": {"tbl": LOG, "until": date(2026, 11, 1)},
    "response/read_table": {"tbl": "uat.training.demand_forecast_v1"},
    "evaluations/insert": {
        "incident_id": INCIDENT, "model_name": "m", "role": "champion", "environment": "prod",
        "model_version": "1", "harness": "m-harness", "harness_version": "1",
        "holdout_table": "uat.evaluation.x", "holdout_digest": "d", "n_rows": 1,
        "metrics": "{}", "mlflow_run_id": "r", "evaluated_at": NOW,
    },
    "evaluations/for_incident": {"incident_id": INCIDENT},
    "approvals/get": {"approval_id": "APR-demand_forecast-20261005"},
    "approvals/insert": {
        "approval_id": "APR-x", "model_name": "m", "candidate_version": "2",
        "champion_version": "1", "incident_id": "INC-x", "state": "pending",
        "requested_by": "system:test", "requested_at": NOW, "detail": "{}",
    },
    "audit/model_versions": {
        "model_name": "", "actor": "", "search": "", "since": datetime(2000, 1, 1),
        "until": datetime(2100, 1, 1), "sort": "live_from", "descending": True,
        "max_rows": 10, "skip_rows": 0,
    },
    "audit/events": {
        "model_name": "demand_forecast", "environment": "", "event_type": "", "actor": "",
        "search": "", "since": datetime(2000, 1, 1), "until": datetime(2100, 1, 1),
        "descending": True, "max_rows": 10, "skip_rows": 0,
    },
    "audit/event_counts": {
        "model_name": "", "environment": "prod", "event_type": "", "actor": "", "search": "",
        "since": datetime(2000, 1, 1), "until": datetime(2100, 1, 1),
    },
    "audit/trail": {"incident_id": INCIDENT, "approval_id": "", "trained_subject": "",
                    "model_name": "demand_forecast"},
    "audit/promotions_of": {"model_name": "demand_forecast"},
    "audit/as_of": {"as_of": datetime(2100, 1, 1)},
    "audit/ledger_fingerprint": {"after": 2, "upto": 10},
    "audit/ledger_after": {"after_seq": 3, "max_rows": 5},
    "mlflow/forget_runs": {"workspace_id": "uat"},
    "mlflow/insert_run": {
        "update_time": NOW, "workspace_id": "uat", "experiment_id": "1", "run_id": "r-x",
        "run_name": "n", "created_by": "system:test", "start_time": NOW, "end_time": NOW,
        "status": "FINISHED", "params": '{"a": "1"}', "tags": '{"t": "v"}',
        "metrics": '[{"metric_name": "auc", "latest_time": null, "latest_step": 0, '
                   '"latest_value": 0.5, "min_value": 0.5, "max_value": 0.5}]',
    },
    "baselines/for_version": {"model_name": "demand_forecast", "model_version": "1"},
    "baselines/insert": {
        "model_name": "m", "model_version": "1", "run_id": "r", "feature": "f",
        "feature_type": "numeric", "importance": 0.1, "n_rows": 1, "null_rate": 0.0,
        "profile": "{}", "created_at": NOW,
    },
    "evidence/chain_from": {"first_seq": 1},
    "evidence/approvals": {"approval_id": "", "incident_id": INCIDENT},
    **{f"evidence/drift_{q}": {"model_name": "demand_forecast", "model_version": "1",
                               "first_window": date(2026, 10, 5),
                               "last_window": date(2026, 11, 1)}
       for q in ("windows", "results")},
    "evidence/table_lineage_into": {"target": "uat.training.demand_forecast_v1"},
    "evidence/column_lineage_into": {"target": "uat.training.demand_forecast_v1"},
    "evidence/run": {"run_id": "r-x"},
}


class _Rollback(Exception):
    """Raised to roll back a unit of work on purpose."""


def _returns(name: str) -> list[str] | None:
    """Columns named after ``returns:`` in the header (continuation lines included)."""
    lines = sql.load_query(name).doc.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("returns:")]
    if not starts:
        return None
    text = [lines[starts[0]].removeprefix("returns:")]
    for line in lines[starts[0] + 1:]:
        if re.match(r"^\w+:", line):
            break
        text.append(line)
    return [c.strip() for c in " ".join(text).split(",") if c.strip()]


@pytest.mark.parametrize("name", sql.query_names())
def test_query_parses_transpiles_and_runs(name: str, demo_settings: Settings) -> None:
    """The query parses, renders for both engines and runs on the seeded demo store."""
    query = sql.load_query(name)
    params = EXAMPLE_PARAMS.get(name, {})
    assert query.params == frozenset(params), f"add example parameters for {name}"
    catalogs = {"gov": "governance", "uat": "uat", "prod": "prod"}
    tables = {k: str(params[k]) for k in query.identifiers | query.columns}
    for statement in sql.render(name, "databricks", catalogs, tables):
        sqlglot.parse_one(statement, read="databricks")
    with pytest.raises(_Rollback):
        _run_and_roll_back(demo_settings, name, params)


def _run_and_roll_back(settings: Settings, name: str, params: dict[str, Any]) -> None:
    expected = _returns(name)
    warehouse = open_warehouse(settings)
    with envguard.prod_writes("governance.demo.seed", "query smoke test"), \
            warehouse.session() as session:
        if expected is not None:
            frame = session.fetch_df(name, params)
            assert expected == list(frame.columns)
        else:
            session.execute(name, params)
        raise _Rollback


def test_every_example_names_a_real_query() -> None:
    """No stale example parameters for deleted queries."""
    assert set(EXAMPLE_PARAMS) <= set(sql.query_names())


def test_seeded_store_answers_the_dashboard_queries(demo_settings: Settings) -> None:
    """The seeded store has an inference window per model and a promotion per champion."""
    warehouse = open_warehouse(demo_settings)
    with warehouse.session() as session:
        models = session.fetch_rows("models/list")
        assert ["basket_propensity", "demand_forecast", "price_elasticity"] == [
            m["model_name"] for m in models]
        for model in models:
            (window,) = session.fetch_rows("inference/latest_window",
                                           {"log_table": model["inference_table"]})
            assert window["n_rows"] > 0
            assert isinstance(window["window_date"], date)
        promoted = session.fetch_rows("ledger/latest_by_type", {"event_type": "model_promoted"})
        assert 3 == len(promoted)
