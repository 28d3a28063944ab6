"""AppTest for the lineage page: the seeded demo, a store with a cycle and a model without
lineage, an empty store and a missing workspace."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app.lineage_figures import clicked_node
from governance import ledger, lineage
from governance.lineage import Edge
from governance.settings import Settings
from governance.warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "lineage.py")
NOW = datetime(2026, 10, 1, 9, 0, 0)


def _page() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    return at


def _charts(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _table(at: AppTest, column: str) -> Any:
    """The first table with ``column`` (details: field; gaps: problem; columns: source column)."""
    return next(df.value for df in at.dataframe if column in df.value.columns)


def _details(at: AppTest) -> dict[str, str]:
    frame = _table(at, "field")
    return dict(zip(frame["field"], frame["value"], strict=True))


def test_demo_graph_shows_every_kind_and_complete_lineage(demo_env: Settings) -> None:
    """All models: tables, training sets, holdouts, uat and prod versions; no cycles, no gaps."""
    at = _page()
    assert "Lineage" == at.title[0].value
    graph = _charts(at)[0]
    names = {t.get("name") for t in graph["data"]}
    assert {"raw table", "feature table", "training set", "evaluation holdout",
            "model version (uat)", "model version (prod)"} <= names
    prod = next(t for t in graph["data"] if t.get("name") == "model version (prod)")
    assert "basket_propensity v2 (prod)" in prod["customdata"]
    assert not at.warning
    assert any("traces back to at least one raw table" in s.value for s in at.success)


def test_picking_a_node_shows_its_details(demo_env: Settings) -> None:
    """The selectbox fallback opens a prod version: champion, approval id, run ids."""
    at = _page()
    at.selectbox(key="lineage_node_all").set_value("basket_propensity v2 (prod)").run()
    assert not at.exception
    details = _details(at)
    assert "model version (prod)" == details["kind"]
    assert "yes" == details["champion"]
    assert "APR-basket_propensity-20261005" == details["approval id"]
    assert "basket_propensity v2 (uat)" == details["promoted from"]
    at.selectbox(key="lineage_node_all").set_value("prod.retail.sales").run()
    details = _details(at)
    assert "raw table" == details["kind"]
    assert "— no upstream lineage" == details["written by"]


def test_model_filter_and_column_lineage_of_a_feature(demo_env: Settings) -> None:
    """demand_forecast's price: from prod.retail.sales and the inference log."""
    at = _page()
    at.selectbox(key="lineage_model").set_value("demand_forecast").run()
    at.selectbox(key="lineage_feature_demand_forecast").set_value("price").run()
    assert not at.exception
    graph, columns = _charts(at)[:2]
    ids = {i for t in graph["data"] for i in t.get("customdata") or ()}
    assert "demand_forecast v1 (prod)" in ids
    assert not any(i.startswith("basket_propensity") for i in ids)
    assert "Column lineage of demand_forecast.price" == columns["layout"]["title"]["text"]
    table = _table(at, "source column")
    assert "prod.retail.sales" in set(table["source table"])
    assert {"prod.inference.demand_forecast"} <= set(table["source table"])
    assert "demand_forecast v2 (uat) · model version (uat)" in at.selectbox(
        key="lineage_node_demand_forecast").options


def _bad_store(warehouse: Warehouse) -> None:
    """A → B → A above a training table, a self-loop, and a model with no training table."""
    a, b = "prod.features.a", "prod.features.b"
    with warehouse.session() as s:
        lineage.record(s, [
            Edge(a, b, "JOB", "loop", "r1", "system:test", (("x", "x"),)),
            Edge(b, a, "JOB", "loop", "r2", "system:test", (("x", "x"),)),
            Edge(b, "uat.training.cyc_v1", "JOB", "train", "r3", "system:test", (("x", "x"),)),
            Edge("prod.retail.sales", "prod.retail.sales", "JOB", "merge", "r4", "system:test"),
        ], NOW)
        ledger.append(s, actor="system:test", environment="uat", event_type="model_trained",
                      subject="cyc/1", payload={"training_table": "uat.training.cyc_v1",
                                                "run_id": "run-1"}, now=NOW)
        ledger.append(s, actor="system:test", environment="uat", event_type="model_trained",
                      subject="orphan/1", payload={"run_id": "run-2"}, now=NOW)
        ledger.append(s, actor="system:test", environment="prod", event_type="model_promoted",
                      subject="orphan", payload={"uat_version": "1", "prod_version": "1",
                                                 "approval_id": "bootstrap-orphan"}, now=NOW)


@pytest.fixture
def bad_env(warehouse: Warehouse, settings: Settings,
            monkeypatch: pytest.MonkeyPatch) -> Settings:
    """GOV_HOME at a fresh store holding cycles and model versions without lineage."""
    _bad_store(warehouse)
    monkeypatch.setenv("GOV_HOME", str(settings.home))
    return settings


def test_cycles_warn_and_gaps_are_listed(bad_env: Settings) -> None:
    """The cycle box names both loops; the completeness table lists the versions."""
    at = _page()
    (warning,) = [w.value for w in at.warning if "cycle(s)" in w.value]
    assert "2 cycle(s)" in warning
    assert "prod.features.a → prod.features.b → prod.features.a" in warning
    assert "prod.retail.sales → prod.retail.sales" in warning
    assert any("3 model version(s) have no upstream lineage" in e.value for e in at.error)
    gaps = _table(at, "problem")
    assert [("cyc", "uat"), ("orphan", "uat"), ("orphan", "prod")] == list(
        zip(gaps["model"], gaps["environment"], strict=True))
    assert "is a cycle" in gaps["problem"][0]
    assert "no training table recorded" in gaps["problem"][1]


def test_a_model_without_lineage_is_shown_not_crashed(bad_env: Settings) -> None:
    """Filtering to a model with no table lineage: a warning, its nodes, its gaps."""
    at = _page()
    at.selectbox(key="lineage_model").set_value("orphan").run()
    assert not at.exception
    assert any("orphan has no upstream table lineage" in w.value for w in at.warning)
    assert ["orphan v1 (uat) · model version (uat)", "orphan v1 (prod) · model version (prod)"
            ] == at.selectbox(key="lineage_node_orphan").options
    assert any("No feature of orphan" in i.value for i in at.info)
    assert 2 == len(_table(at, "problem"))


def test_empty_store_says_so(warehouse: Warehouse, settings: Settings,
                             monkeypatch: pytest.MonkeyPatch) -> None:
    """No lineage and no model versions: an info box, no chart, no exception."""
    monkeypatch.setenv("GOV_HOME", str(settings.home))
    at = _page()
    assert any("No lineage recorded yet" in i.value for i in at.info)
    assert not at.get("plotly_chart")


def test_missing_workspace_shows_the_error(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A GOV_HOME with no workspace: the governance error and its fix, not a traceback."""
    monkeypatch.setenv("GOV_HOME", str(tmp_path / "nowhere"))
    at = _page()
    assert at.error
    assert not at.get("plotly_chart")


def test_a_click_on_the_chart_names_its_node() -> None:
    """The selection event's customdata is the node id; edges and empty events give None."""
    event = {"selection": {"points": [{"curve_number": 3, "point_index": 1,
                                       "customdata": "demand_forecast v1 (prod)"}]}}
    assert "demand_forecast v1 (prod)" == clicked_node(event)
    assert "a.b.c" == clicked_node({"selection": {"points": [{"customdata": ["a.b.c"]}]}})
    assert clicked_node({"selection": {"points": [{"curve_number": 0}]}}) is None
    assert clicked_node(None) is None
