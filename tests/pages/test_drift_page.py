"""AppTest for the drift explorer on the seeded demo, a workspace with an unchecked week and
a missing workspace."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from governance.settings import Settings
from governance.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "app" / "main.py")
PAGE = str(ROOT / "pages" / "drift.py")
DRIFTED = date(2026, 10, 5)
PLANTED = {"price", "discount_pct", "promo_flag", "region"}


def _page() -> AppTest:
    return AppTest.from_file(PAGE, default_timeout=60)


def _charts(at: AppTest) -> list[dict[str, Any]]:
    return [json.loads(el.proto.spec) for el in at.get("plotly_chart")]


def _pick(at: AppTest, model: str, window: date, feature: str | None = None) -> AppTest:
    at.selectbox(key="drift_model").set_value(model).run()
    at.selectbox(key=f"drift_window_{model}").set_value(window).run()
    if feature is not None:
        at.selectbox(key=f"drift_feature_{model}").set_value(feature).run()
    assert not at.exception
    return at


def _features(at: AppTest) -> Any:
    """The feature table (the response panel's metrics table may come first)."""
    return next(df.value for df in at.dataframe if "feature" in df.value.columns)


def _stored_rows(settings: Settings) -> int:
    with open_warehouse(settings).session() as session:
        return sum(int(r["n_features"]) for r in session.fetch_rows("drift/window_summary"))


def test_drift_page_is_in_the_navigation(demo_env: Settings) -> None:
    """main.py lists the page; switching to it renders without an exception."""
    at = AppTest.from_file(MAIN, default_timeout=60).run()
    at.switch_page("../pages/drift.py").run()
    assert not at.exception
    assert "Drift explorer" == at.title[0].value


def test_planted_features_top_the_table_with_drift_badges(demo_env: Settings) -> None:
    """demand_forecast, week of 2026-10-05: the four planted features are DRIFT, on top."""
    at = _pick(_page().run(), "demand_forecast", DRIFTED)
    table = _features(at)
    assert PLANTED == set(table["feature"][:4])
    assert ["DRIFT"] * 4 + ["ok"] * 8 == list(table["status"])
    assert list(table["score"]) == sorted(table["score"], reverse=True)
    metrics = {m.label: m.value for m in at.metric}
    assert "DRIFT" == metrics["Window verdict"]
    assert "4 of 12" == metrics["Drifted features"]
    titles = [c["layout"]["title"]["text"] for c in _charts(at)]
    assert any(t.startswith("Drift score per feature per window") for t in titles)
    # The top-scoring feature's detail opens by default.
    assert table["feature"][0] == at.selectbox(key="drift_feature_demand_forecast").value


def test_numeric_feature_shows_histogram_ecdf_and_history(demo_env: Settings) -> None:
    """price: frozen-bin histogram, ECDF with the KS distance, PSI terms and three histories."""
    at = _pick(_page().run(), "demand_forecast", DRIFTED, "price")
    titles = [c["layout"]["title"]["text"] for c in _charts(at)]
    for part in ("baseline vs current per bin", "ECDF", "PSI contribution per bin",
                 "drift score over time", "PSI over time", "null rate over time"):
        assert any(part in t for t in titles), part


def test_categorical_feature_shows_the_unseen_bucket(demo_env: Settings) -> None:
    """region: the category chart names 'Online-Hub' in a red unseen bar."""
    at = _pick(_page().run(), "demand_forecast", DRIFTED, "region")
    (bars,) = [c for c in _charts(at) if "per category" in c["layout"]["title"]["text"]
               and c["data"][0]["type"] == "bar" and len(c["data"]) == 2]
    current = bars["data"][1]
    label = "unseen: Online-Hub"
    assert label in current["x"]
    assert "#D62728" == current["marker"]["color"][current["x"].index(label)]


def test_check_now_previews_without_storing(demo_env: Settings) -> None:
    """Check now runs inside a status that completes, reports the verdict, stores nothing."""
    before = _stored_rows(demo_env)
    at = _pick(_page().run(), "demand_forecast", DRIFTED)
    next(b for b in at.button if b.label == "Check now").click().run()
    assert not at.exception
    (status,) = at.status
    assert "complete" == status.state
    assert "(not stored)" in status.label
    assert any("Ad-hoc preview (not stored): **DRIFT**" in i.value
               and "same verdict as stored" in i.value for i in at.info)
    assert "Features (ad-hoc preview, not stored)" in [h.value for h in at.subheader]
    assert PLANTED == set(_features(at)["feature"][:4])
    assert before == _stored_rows(demo_env)


def test_deep_link_preselects_model_window_and_feature(demo_env: Settings) -> None:
    """?model=&window=&feature= open the page on that feature."""
    at = _page()
    at.query_params.update(model="basket_propensity", window="2026-10-12", feature="device")
    at.run()
    assert not at.exception
    assert "basket_propensity" == at.selectbox(key="drift_model").value
    assert date(2026, 10, 12) == at.selectbox(key="drift_window_basket_propensity").value
    assert "device" == at.selectbox(key="drift_feature_basket_propensity").value


def test_unchecked_week_can_be_previewed(
    demo_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A week the monitor has not stored is offered as 'not checked yet'; Check now fills
    the table from the preview."""
    home = tmp_path / "home"
    shutil.copytree(demo_settings.duckdb_dir, home / demo_settings.duckdb_dir.name)
    with duckdb.connect(str(home / demo_settings.duckdb_dir.name / "workspace.duckdb")) as con:
        con.execute("DELETE FROM governance.drift_results WHERE window_start = DATE '2026-10-26'")
    monkeypatch.setenv("GOV_HOME", str(home))
    at = _page().run()
    at.selectbox(key="drift_model").set_value("demand_forecast").run()
    window = at.selectbox(key="drift_window_demand_forecast")
    assert date(2026, 10, 26) == window.value
    assert window.format_func(window.value).endswith("not checked yet")
    assert any("has not checked this window" in i.value for i in at.info)
    assert not [df for df in at.dataframe if "feature" in df.value.columns]
    next(b for b in at.button if b.label == "Check now").click().run()
    assert not at.exception
    assert PLANTED == {f for f, s in _features(at)[["feature", "status"]].values
                       if s == "DRIFT"}


def test_missing_workspace_explains_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No workspace: the error and the command that creates it, never a traceback."""
    monkeypatch.setenv("GOV_HOME", str(tmp_path / "nowhere"))
    at = _page().run()
    assert not at.exception
    assert any("no workspace" in e.value for e in at.error)
    assert any("python -m governance demo" in i.value for i in at.info)
