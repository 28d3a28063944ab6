"""AppTest for the audit page on the seeded demo, and on copies broken the ways auditors meet.

The demo holds four production versions (the bootstrap v1 of each model and basket_propensity
v2, approved by alice through INC-basket_propensity-20261005) and a pending incident on
demand_forecast. Read-only tests use the shared demo; tests that break something use a copy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from governance import ledger
from governance.audit import integrity
from governance.identity import Identity
from governance.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "audit.py")
MAIN = str(ROOT / "app" / "main.py")
V2 = "basket_propensity/2"
STORY = ["drift detected", "refresh staged", "candidate trained", "evaluated",
         "approval requested", "decided", "promotion job run", "live in prod"]


@pytest.fixture(autouse=True)
def fresh_integrity_cache() -> Iterator[None]:
    """The ledger status cache is per process: never let one test's walk answer another's."""
    integrity.forget()
    yield
    integrity.forget()


@pytest.fixture
def broken_home(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
                tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo for tests that break it, pointed at by GOV_HOME."""
    copied = copy_home(demo_settings.home, tmp_path / "home")
    monkeypatch.setenv("GOV_HOME", str(copied))
    monkeypatch.setenv("GOV_DEMO_SCALE", "small")
    return copied


def run_sql(home: Path, statement: str, params: list[object] | None = None) -> None:
    """Change the copied workspace with raw DuckDB, outside Driftgate."""
    with duckdb.connect(str(home / "warehouse" / "workspace.duckdb")) as con:
        con.execute(statement, params or [])


def page(**state: Any) -> AppTest:
    """The page after one run, with widget values preset by key."""
    at = AppTest.from_file(PAGE, default_timeout=120)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


#: A column only each table has (AppTest does not expose a dataframe's key).
TABLES = {"versions": "gaps", "timeline": "step", "events": "type", "as_of": "uat version"}


def frame(at: AppTest, table: str) -> pd.DataFrame:
    """One of the page's tables by name (the Styler's frame for styled ones)."""
    return next(df.value for df in at.dataframe if TABLES[table] in df.value.columns)


def texts(at: AppTest, *kinds: str) -> str:
    parts = [e.value for kind in kinds for e in getattr(at, kind)]
    return "\n".join(str(p) for p in parts)


def versions(at: AppTest) -> list[str]:
    table = frame(at, "versions")
    return [f"{m}/{v}" for m, v in zip(table["model"], table["prod version"], strict=True)]


def test_status_is_intact_and_versions_table_has_alices_approval(demo_env: Settings) -> None:
    at = page()

    assert any(s.value.startswith("Ledger intact: 30 entries, head `") for s in at.success)
    assert "Chain walked just now" in texts(at, "caption")
    assert not at.error
    table = frame(at, "versions").set_index(["model", "prod version"])
    assert 4 == len(table)
    v2 = table.loc[("basket_propensity", "2")]
    assert "user:alice@retail.example" == v2["approver"]
    assert "APR-basket_propensity-20261005" == v2["approval"]
    assert "INC-basket_propensity-20261005" == v2["incident"]
    assert v2["champion"]
    assert "auc" == v2["metric"]
    assert v2["candidate"] > v2["prior champion"]
    assert "uat: FINISHED · prod: FINISHED" == v2["runs"]
    assert "" == v2["gaps"]
    assert "uat.training.basket_propensity_v2_inc20261005" == v2["training dataset"]
    # No MLflow UI configured: no link columns.
    assert "training run" not in table.columns
    assert "Rows 1–4 of 4 production versions · page 1 of 1" in texts(at, "caption")


def test_second_run_reuses_the_verification_and_says_so(demo_env: Settings) -> None:
    at = page()
    at.run()
    assert "its 30 rows are unchanged since" in texts(at, "caption")


def test_a_long_walk_shows_progress_and_the_page_works(demo_env: Settings,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A walk still running in the background (a million entries): progress, not a wait."""
    walking = integrity.Pending(400_000, 1_000_000, 3.2)
    monkeypatch.setattr(integrity, "check", lambda warehouse, session=None: walking)
    at = page()
    bars = at.get("progress")
    assert bars
    assert "400,000 of about 1,000,000 entries walked" in bars[0].proto.text
    assert not [s for s in at.success if "Ledger" in s.value]
    assert 4 == len(frame(at, "versions"))


def test_background_walk_result_replaces_the_progress(demo_env: Settings,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """The real background walk (forced with no inline budget) ends in the green status."""
    monkeypatch.setattr(integrity, "INLINE_ROWS", 0)
    at = page()
    for _ in range(50):
        if any(s.value.startswith("Ledger intact: 30 entries") for s in at.success):
            break
        time.sleep(0.1)
        at.run()
    assert not at.exception, at.exception
    assert any(s.value.startswith("Ledger intact: 30 entries") for s in at.success)


def test_mlflow_links_when_the_ui_is_configured(demo_env: Settings,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV_MLFLOW_UI_URL", "http://mlflow.example")
    table = frame(page(), "versions")
    assert table["training run"].str.startswith("http://mlflow.example/#/experiments/").all()
    assert "http://mlflow.example/#/models/basket_propensity/versions/2" in set(
        table["prod version page"])


def test_filtering_by_model_narrows_the_table(demo_env: Settings) -> None:
    at = page(audit_model="basket_propensity")
    assert ["basket_propensity/2", "basket_propensity/1"] == versions(at)

    at.selectbox(key="audit_actor").set_value("user:alice@retail.example").run()
    assert [V2] == versions(at)


def test_sort_and_direction_are_applied(demo_env: Settings) -> None:
    at = page(audit_sort="model", audit_order="ascending")
    assert ["basket_propensity/1", V2, "demand_forecast/1", "price_elasticity/1"] == versions(at)


def test_paging(demo_env: Settings) -> None:
    """Events: 30 entries at 10 a page; versions: a page past the end says so."""
    at = page(audit_page_size=10, audit_tab="Events")
    assert "Rows 1–10 of 30 ledger entries · page 1 of 3" in texts(at, "caption")
    first = list(frame(at, "events")["seq"])
    assert list(range(30, 20, -1)) == first

    at.number_input(key="audit_events_page").set_value(2).run()
    assert list(range(20, 10, -1)) == list(frame(at, "events")["seq"])
    assert "Rows 11–20 of 30 ledger entries · page 2 of 3" in texts(at, "caption")

    at = page(audit_page_size=10, audit_versions_page=2)
    assert "Page 2 is past the end: 1 page(s) at this size." in texts(at, "warning")
    # The page number survives a visit to another tab (its widget is not rendered there).
    at.session_state["audit_tab"] = "As of"
    at.run()
    at.session_state["audit_tab"] = "Model versions"
    at.run()
    assert 2 == at.number_input(key="audit_versions_page").value


def test_version_timeline_steps_in_order(demo_env: Settings) -> None:
    at = page(audit_version=V2)

    steps = list(frame(at, "timeline")["step"])
    assert STORY == list(dict.fromkeys(s for s in steps if s in STORY))
    timeline = frame(at, "timeline")
    # The four drifted windows behind the incident: one condensed row, seq range, count 4.
    drift = timeline[timeline["step"] == "drift detected"].iloc[0]
    assert 1 == steps.count("drift detected")
    assert 4 == drift["entries"]
    assert "–" in drift["seq"]
    decided = timeline[timeline["step"] == "decided"].iloc[0]
    assert "user:alice@retail.example" == decided["by"]
    firsts = [int(str(seq).split("–")[0]) for seq in timeline["seq"]]
    assert firsts == sorted(firsts)
    assert not timeline["failed"].any()
    chart = next(c for c in at.get("plotly_chart")
                 if "Story of" in json.loads(c.proto.spec)["layout"]["title"]["text"])
    assert "Story of basket_propensity v2" == json.loads(chart.proto.spec)["layout"]["title"][
        "text"]


def test_incident_timeline_of_a_pending_incident(demo_env: Settings) -> None:
    at = page(audit_trail_kind="incident", audit_model="demand_forecast")
    assert "INC-demand_forecast-20261005" == at.selectbox(key="audit_incident").value
    steps = list(frame(at, "timeline")["step"])
    assert steps[-1] == "approval requested"  # nobody has decided yet
    assert "live in prod" not in steps


def test_as_of_table(demo_env: Settings) -> None:
    table = frame(page(audit_tab="As of"), "as_of").set_index("model")
    assert {"basket_propensity": "2", "demand_forecast": "1", "price_elasticity": "1"} == dict(
        table["prod version"])
    assert "2" == table.loc["demand_forecast", "uat version"]  # the pending candidate

    at = page(audit_tab="As of", audit_as_of_date=date(2020, 1, 1))
    assert "Nothing was live yet at 2020-01-01 23:59 UTC." in texts(at, "info")


def test_events_filtered_by_event_type(demo_env: Settings) -> None:
    at = page(audit_event_type="approval_decided", audit_tab="Events")
    events = frame(at, "events")
    assert ["approval_decided"] == list(events["type"])
    assert "user:alice@retail.example" == events["actor"].iloc[0]
    assert events["summary"].iloc[0].startswith("approve by alice@retail.example")
    assert at.get("plotly_chart")  # the per-type counts


def test_reversed_date_range_is_a_clear_message(demo_env: Settings) -> None:
    at = page(audit_since=date(2026, 11, 2), audit_until=date(2026, 11, 1))
    assert "the date range starts 2026-11-02 after it ends 2026-11-01" in texts(at, "error")
    assert "pick a start date on or before the end date" in texts(at, "info")
    assert at.success  # the ledger status stays visible


def test_csv_downloads_are_offered_with_their_file_names(demo_env: Settings) -> None:
    labels = [b.proto.label for b in page(audit_model="basket_propensity").get(
        "download_button")]
    assert "Download CSV (every matching version)" in labels
    labels = [b.proto.label for b in page(audit_tab="Events").get("download_button")]
    assert "Download CSV (every matching entry)" in labels


def test_only_the_open_tab_runs(demo_env: Settings) -> None:
    """Lazy tabs: the versions tab does not query events, and the other way round."""
    at = page()
    assert {"versions", "timeline"} == {n for n, c in TABLES.items()
                                        if any(c in d.value.columns for d in at.dataframe)}
    at.session_state["audit_tab"] = "Events"
    at.run()
    assert {"events"} == {n for n, c in TABLES.items()
                          if any(c in d.value.columns for d in at.dataframe)}


def test_evidence_pack_is_prepared_on_demand(demo_env: Settings) -> None:
    at = page(audit_version=V2)
    assert "Download evidence-basket_propensity-v2.zip" not in [
        b.proto.label for b in at.get("download_button")]

    at.button(key="audit_pack_prepare").click().run()

    assert not at.exception, at.exception
    assert "Download evidence-basket_propensity-v2.zip" in [
        b.proto.label for b in at.get("download_button")]
    assert "chained to head #30" in texts(at, "caption")


def test_tampered_ledger_is_red_and_the_page_still_works(broken_home: Path) -> None:
    with duckdb.connect(str(broken_home / "warehouse" / "workspace.duckdb")) as con:
        (payload,) = con.execute("SELECT payload FROM governance.ledger WHERE seq = 24"
                                 ).fetchone()
        forged = {**json.loads(payload), "comment": "approved by nobody in particular"}
        con.execute("UPDATE governance.ledger SET payload = ? WHERE seq = 24",
                    [ledger.canonical_json(forged)])

    at = page(audit_version=V2)

    assert any(e.value.startswith("Ledger BROKEN at entry 24: stored hash does not match")
               for e in at.error)
    assert not [s for s in at.success if "intact" in s.value]
    assert 4 == len(frame(at, "versions"))
    assert "decided" in list(frame(at, "timeline")["step"])
    # An evidence pack must never certify a tampered store: refused, named, no crash.
    at.button(key="audit_pack_prepare").click().run()
    assert not at.exception
    assert "broken at entry 24" in texts(at, "error")


def test_missing_mlflow_run_is_a_gap(broken_home: Path) -> None:
    run_sql(broken_home, """
        DELETE FROM mlflow.runs_latest WHERE run_id = (
          SELECT json_extract_string(payload, '$.source_run_id') FROM governance.ledger
          WHERE event_type = 'model_promoted' AND subject = 'basket_propensity'
            AND json_extract_string(payload, '$.prod_version') = '2')""")

    at = page(audit_version=V2)

    table = frame(at, "versions").set_index(["model", "prod version"])
    assert "training run not found in MLflow" == table.loc[("basket_propensity", "2"), "gaps"]
    assert "uat: MISSING · prod: FINISHED" == table.loc[("basket_propensity", "2"), "runs"]
    assert "Gap in basket_propensity v2: training run not found in MLflow" in texts(at,
                                                                                    "warning")


def test_model_without_lineage_is_a_gap(broken_home: Path) -> None:
    run_sql(broken_home, "DELETE FROM lineage.table_lineage "
                         "WHERE target_table_full_name = 'uat.training.price_elasticity_v1'")

    at = page(audit_version="price_elasticity/1")

    table = frame(at, "versions").set_index(["model", "prod version"])
    assert "training dataset has no upstream lineage" == table.loc[("price_elasticity", "1"),
                                                                    "gaps"]
    assert "Gap in price_elasticity v1: training dataset has no upstream lineage" in texts(
        at, "warning")


def test_audit_page_in_navigation() -> None:
    """Auditors, admins and approvers; not data scientists; everyone without sign-in."""
    from app.identity import may_open_audit

    person = Identity(email="e@x", name="E", subject="e", issuer="i", groups=(), source="oidc")
    for role in ("auditor", "admin", "approver"):
        assert may_open_audit(person, frozenset({role}), configured=True)
    assert not may_open_audit(person, frozenset({"data_scientist"}), configured=True)
    assert not may_open_audit(None, frozenset(), configured=True)
    assert may_open_audit(None, frozenset(), configured=False)


def test_main_shows_audit_to_an_auditor(demo_env: Settings) -> None:
    """Through the entry point with sign-in configured: an auditor opens the page."""
    from tests.pages.test_approvals_page import AUDITOR

    at = AppTest.from_file(MAIN, default_timeout=120)
    at.user = AUDITOR
    at.secrets["auth"] = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback",
                          "cookie_secret": "x" * 32, "client_id": "driftgate",
                          "client_secret": "any",
                          "server_metadata_url": "http://127.0.0.1:9400/.well-known/"
                                                 "openid-configuration"}
    at.run()
    at.switch_page("../pages/audit.py").run()
    assert not at.exception, at.exception
    assert "Audit" == at.title[0].value
    assert any("Ledger intact" in s.value for s in at.success)

