"""AppTest for the drift page's response panel: the demo's answered incidents, a model without
one, and "Prepare candidate" on a copy whose response was rolled back to an open incident."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from governance.settings import Settings, load_settings
from governance.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "drift.py")
INCIDENT = "INC-demand_forecast-20261005"


def _page(model: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=120).run()
    at.selectbox(key="drift_model").set_value(model).run()
    assert not at.exception
    return at


def _metrics_table(at: AppTest) -> Any:
    return next(df.value for df in at.dataframe if "metric" in df.value.columns)


def test_answered_incident_shows_steps_metrics_and_policy(demo_env: Settings) -> None:
    """demand_forecast: incident, 'approval requested', champion vs candidate, policy verdict."""
    at = _page("demand_forecast")

    assert "Drift response" in [h.value for h in at.subheader]
    assert any(INCIDENT in m.value and "awaiting_approval" in m.value for m in at.markdown)
    metrics = {m.label: m.value for m in at.metric}
    assert "approval requested" == metrics["Response"]
    assert "v2" == metrics["Candidate (uat)"]
    table = _metrics_table(at)
    assert ["metric", "champion (prod v1)", "candidate (uat v2)"] == list(table.columns)
    assert {"rmse", "mae", "mape", "r2"} == set(table["metric"])
    assert any(s.value.startswith("Policy: qualifies: rmse") for s in at.success)
    assert not [b for b in at.button if b.label == "Prepare candidate"]


def test_model_without_incident_has_no_panel(demo_env: Settings) -> None:
    """price_elasticity never drifted: no response panel at all."""
    at = _page("price_elasticity")

    assert "Drift response" not in [h.value for h in at.subheader]


@pytest.fixture
def reopened(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
             tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A copy of the demo whose demand_forecast response never ran (its UAT candidate stays
    registered, as after a crash between registering and recording)."""
    home = copy_home(demo_settings.home, tmp_path / "home")
    with duckdb.connect(str(home / "warehouse" / "workspace.duckdb")) as con:
        for table in ("responses", "approvals", "evaluations"):
            con.execute(f"DELETE FROM governance.{table} WHERE incident_id = ?", [INCIDENT])
        con.execute("UPDATE governance.drift_incidents SET status = 'open' "
                    "WHERE incident_id = ?", [INCIDENT])
    monkeypatch.setenv("GOV_HOME", str(home))
    monkeypatch.setenv("GOV_DEMO_SCALE", "small")
    return load_settings()


def test_prepare_candidate_runs_the_response_with_progress(reopened: Settings) -> None:
    """The button runs every step in an st.status, records the unauthenticated requester,
    and the panel then shows the pending request; the registered candidate is reused."""
    at = _page("demand_forecast")
    assert "not started" == {m.label: m.value for m in at.metric}["Response"]
    assert any("ui:unauthenticated" in c.value for c in at.caption)

    next(b for b in at.button if b.label == "Prepare candidate").click().run()

    assert not at.exception
    assert "approval requested" == {m.label: m.value for m in at.metric}["Response"]
    assert not [b for b in at.button if b.label == "Prepare candidate"]
    with open_warehouse(reopened).session() as session:
        (approval,) = [r for r in session.fetch_rows("approvals/list")
                       if r["incident_id"] == INCIDENT]
        response = session.fetch_rows("response/get", {"incident_id": INCIDENT})[0]
    assert ("pending", "ui:unauthenticated") == (approval["state"], approval["requested_by"])
    assert "2" == response["candidate_version"]  # adopted, not a second candidate
