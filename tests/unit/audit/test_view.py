"""The single dashboard query and the events query against the seeded demo.

The demo holds four production versions: the bootstrap v1 of each of the three models and
basket_propensity v2, promoted through INC-basket_propensity-20261005 and approved by alice.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import pytest

from governance.audit import view
from governance.audit.view import AuditFilter
from governance.errors import DataError
from governance.settings import Settings, load_settings
from governance.warehouse import Session, open_warehouse

BASKET_V2 = ("basket_propensity", "2")
ALL = {("basket_propensity", "1"), BASKET_V2, ("demand_forecast", "1"),
       ("price_elasticity", "1")}


def keys(page: view.Page[view.VersionRow]) -> list[tuple[str, str]]:
    return [(r.model_name, r.prod_version) for r in page.rows]


def test_one_row_per_production_version(demo: Session) -> None:
    page = view.model_versions(demo, AuditFilter())
    assert set(keys(page)) == ALL
    assert page.total == 4
    assert page.pages == 1


def test_promoted_version_joins_incident_approval_runs_data_and_evaluation(demo: Session) -> None:
    row = next(r for r in view.model_versions(demo, AuditFilter()).rows
               if (r.model_name, r.prod_version) == BASKET_V2)
    assert row.is_champion
    assert row.live_until is None
    assert row.reason == "approved"
    assert row.approval_id == "APR-basket_propensity-20261005"
    assert row.get("approval_state") == "promoted"
    assert row.get("decided_by") == "user:alice@retail.example"
    assert row.get("requested_by") == "system:drift-response"
    assert row.get("signatures") == 1
    assert row.get("incident_id") == "INC-basket_propensity-20261005"
    assert row.get("first_window") == date(2026, 10, 5)
    assert set(row.drifted_features) >= {"days_since_last_visit"}
    assert row.get("training_table") == "uat.training.basket_propensity_v2_inc20261005"
    assert len(row.get("dataset_digest")) == 64
    assert row.get("candidate_run_status") == "FINISHED"
    assert row.get("prod_run_status") == "FINISHED"
    assert row.get("upstream_tables") == 2  # feature table + inference log
    assert row.get("primary_metric") == "auc"
    assert 0.5 < row.get("candidate_metric") < 1
    assert 0.5 < row.get("champion_metric") < 1
    assert len(row.get("code_version")) == 40
    assert row.gaps == ()


def test_candidate_metric_is_the_harness_evaluation(demo: Session) -> None:
    row = next(r for r in view.model_versions(demo, AuditFilter(model="basket_propensity")).rows
               if r.prod_version == "2")
    stored = {r["role"]: json.loads(r["metrics"]) for r in demo.fetch_rows(
        "evaluations/for_incident", {"incident_id": "INC-basket_propensity-20261005"})}
    assert row.get("candidate_metric") == pytest.approx(stored["candidate"]["auc"], abs=0)
    assert row.get("champion_metric") == pytest.approx(stored["champion"]["auc"], abs=0)


def test_superseded_version_lived_until_the_next_promotion(demo: Session) -> None:
    rows = {r.prod_version: r for r in
            view.model_versions(demo, AuditFilter(model="basket_propensity")).rows}
    assert set(rows) == {"1", "2"}
    assert not rows["1"].is_champion
    assert rows["1"].live_until == rows["2"].live_from
    assert rows["1"].reason == "bootstrap"
    assert rows["1"].get("decided_by") is None
    assert rows["1"].gaps == ()  # a bootstrap needs no approver


@pytest.mark.parametrize("actor", ["user:alice@retail.example", "ALICE@retail.example"])
def test_actor_filter_matches_the_approver_with_or_without_prefix(demo: Session,
                                                                   actor: str) -> None:
    assert keys(view.model_versions(demo, AuditFilter(actor=actor))) == [BASKET_V2]


def test_search_is_case_insensitive_over_ids_tables_and_comments(demo: Session) -> None:
    assert keys(view.model_versions(demo, AuditFilter(search="INC20261005"))) == [BASKET_V2]
    assert keys(view.model_versions(demo, AuditFilter(search="drifted holdout"))) == [BASKET_V2]
    assert view.model_versions(demo, AuditFilter(search="no such thing")).total == 0


def test_sql_looking_search_text_is_only_text(demo: Session) -> None:
    page = view.model_versions(demo, AuditFilter(search="' OR 1=1 --"))
    assert page.total == 0
    assert page.rows == ()


def test_date_range_is_inclusive_of_whole_days(demo: Session) -> None:
    everything = view.model_versions(demo, AuditFilter())
    day = min(r.live_from for r in everything.rows).date()
    assert view.model_versions(demo, AuditFilter(since=day, until=day)).total >= 1
    before = date(2000, 1, 1)
    assert view.model_versions(demo, AuditFilter(since=before, until=before)).total == 0


def test_paging_walks_every_row_once_in_sort_order(demo: Session) -> None:
    seen = []
    for offset in range(4):
        page = view.model_versions(demo, AuditFilter(), sort="model", descending=False,
                                   offset=offset, limit=1)
        assert page.total == 4
        assert page.pages == 4
        seen.extend(keys(page))
    assert seen == sorted(ALL)
    past = view.model_versions(demo, AuditFilter(), offset=10, limit=5)
    assert past.rows == ()
    assert past.total == 4


def test_newest_promotion_first_by_default(demo: Session) -> None:
    rows = view.model_versions(demo, AuditFilter()).rows
    times = [r.live_from for r in rows]
    assert times == sorted(times, reverse=True)
    assert keys(view.model_versions(
        demo, AuditFilter(), limit=1)) == [BASKET_V2]


@pytest.mark.parametrize("kwargs", [{"sort": "seq; DROP TABLE x"}, {"limit": 0},
                                    {"limit": view.MAX_PAGE + 1}, {"offset": -1}])
def test_bad_sort_or_page_is_a_clear_error(demo: Session, kwargs: dict[str, object]) -> None:
    with pytest.raises(DataError):
        view.model_versions(demo, AuditFilter(), **kwargs)  # type: ignore[arg-type]


def test_reversed_date_range_is_refused_naming_both_dates() -> None:
    with pytest.raises(DataError, match=r"2026-10-05.*2026-10-01"):
        AuditFilter(since=date(2026, 10, 5), until=date(2026, 10, 1))


def test_events_filtered_by_model_type_and_environment(demo: Session) -> None:
    drift = view.events(demo, AuditFilter(model="basket_propensity",
                                          event_type="drift_detected"), limit=100)
    assert drift.total == len(drift.rows) > 0
    assert all(e.type == "drift_detected" and e.subject.startswith("basket_propensity/")
               for e in drift.rows)
    uat = view.events(demo, AuditFilter(environment="uat"), limit=100)
    assert uat.total > 0
    assert all(e.environment == "uat" for e in uat.rows)
    story = view.events(demo, AuditFilter(model="basket_propensity"), limit=100)
    assert {"model_promoted", "approval_decided", "refresh_staged",
            "promotion_completed"} <= {e.type for e in story.rows}
    assert not any("demand_forecast" in e.subject for e in story.rows)


def test_events_page_in_sequence_order(demo: Session) -> None:
    total = view.events(demo, AuditFilter(), limit=1).total
    newest = view.events(demo, AuditFilter(), limit=5)
    oldest = view.events(demo, AuditFilter(), descending=False, limit=5)
    assert [e.seq for e in newest.rows] == list(range(total, total - 5, -1))
    assert [e.seq for e in oldest.rows] == [1, 2, 3, 4, 5]
    last = view.events(demo, AuditFilter(), offset=total, limit=5)
    assert last.rows == ()
    assert last.total == total


def test_events_actor_and_search(demo: Session) -> None:
    alice = view.events(demo, AuditFilter(actor="alice@retail.example"), limit=50)
    assert alice.total >= 1
    assert {e.actor for e in alice.rows} == {"user:alice@retail.example"}
    found = view.events(demo, AuditFilter(search="PRECISION_AT_K"), limit=50)
    assert found.total >= 1
    assert all("precision_at_k" in json.dumps(e.payload) for e in found.rows)


def test_event_counts_add_up_to_the_ledger(demo: Session) -> None:
    counts = view.event_counts(demo, AuditFilter())
    assert sum(c.n for c in counts) == demo.fetch_scalar("ledger/count")
    assert all(c.first_time <= c.last_time for c in counts)


def test_facets_list_models_types_and_actors(demo: Session) -> None:
    found = view.facets(demo)
    assert set(found.models) >= {"basket_propensity", "demand_forecast", "price_elasticity"}
    assert "model_promoted" in found.event_types
    assert "user:alice@retail.example" in found.actors


def test_as_of_now_matches_the_registry_champions(demo: Session) -> None:
    live = view.as_of(demo, datetime(2100, 1, 1))
    assert view.champions_at(live) == {"basket_propensity": "2", "demand_forecast": "1",
                                       "price_elasticity": "1"}
    assert view.champions_at(live, "uat") == {"basket_propensity": "2",
                                              "demand_forecast": "2", "price_elasticity": "1"}
    assert view.as_of(demo, datetime(2000, 1, 1)) == ()


def test_dashboard_query_reads_the_system_tables_on_databricks() -> None:
    """On a SQL warehouse the same file joins the platform's own system tables."""
    from governance import sql

    (text,) = sql.render("audit/model_versions", "databricks",
                         {"gov": "main_gov", "uat": "uat", "prod": "prod"})
    assert "system.mlflow.runs_latest" in text
    assert "system.access.table_lineage" in text
    assert "main_gov.governance.ledger" in text
    assert "mlflow.runs_latest" not in text.replace("system.mlflow.runs_latest", "")


def test_event_counts_follow_every_filter(demo: Session) -> None:
    where = AuditFilter(model="basket_propensity", event_type="drift_detected")
    counts = view.event_counts(demo, where)
    assert [(c.event_type, c.environment) for c in counts] == [("drift_detected", "prod")]
    assert counts[0].n == view.events(demo, where, limit=1).total


def test_a_deleted_mlflow_run_is_a_gap(demo_settings: Settings, copy_home: Any,
                                       tmp_path: Path) -> None:
    """runs_latest keeps deleted runs with a delete_time: for an auditor they are missing."""
    home = copy_home(demo_settings.home, tmp_path / "home")
    wh = open_warehouse(load_settings({"GOV_HOME": str(home)}, {}))
    with wh.session() as s:
        run_id = next(r for r in view.model_versions(s, AuditFilter()).rows
                      if (r.model_name, r.prod_version) == BASKET_V2).get("prod_run_id")
    con = duckdb.connect(str(wh.path))  # type: ignore[attr-defined]
    try:
        con.execute("UPDATE mlflow.runs_latest SET delete_time = update_time WHERE run_id = ?",
                    [run_id])
    finally:
        con.close()
    with wh.session() as s:
        row = next(r for r in view.model_versions(s, AuditFilter()).rows
                   if (r.model_name, r.prod_version) == BASKET_V2)
    assert "prod import run not found in MLflow" in row.gaps


def test_streamed_events_are_every_match_in_order(demo: Session) -> None:
    where = AuditFilter(model="basket_propensity")
    streamed = [e.seq for e in view.iter_events(demo, where, descending=False)]
    assert len(streamed) == view.events(demo, where, limit=1).total
    assert streamed == sorted(streamed)


def test_events_and_their_counts_filter_alike() -> None:
    """audit/events and audit/event_counts carry the same WHERE clause (SQL files cannot share
    one); the page's total and chart depend on it, so a change to one must reach the other."""
    from governance import sql

    def where(name: str) -> str:
        text = sql.QUERIES_DIR.joinpath(f"{name}.sql").read_text(encoding="utf-8")
        body = text[text.index("WHERE"):]
        return body[:min(i for i in (body.find("GROUP BY"), body.find("ORDER BY")) if i > 0)]

    assert where("audit/events") == where("audit/event_counts")
