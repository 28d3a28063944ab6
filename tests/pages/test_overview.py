"""AppTest for the overview page, on the seeded demo and on a missing workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from governance.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "app" / "main.py")


def _run() -> AppTest:
    at = AppTest.from_file(MAIN, default_timeout=60)
    return at.run()


def test_overview_shows_champions_windows_and_ledger(demo_env: Settings) -> None:
    """Prod lists three champions: two bootstrap promotions by system:demo, and
    basket_propensity v2 promoted by the promotion job for the demo's approved request; ledger
    shows intact; no exception."""
    at = _run()
    assert not at.exception
    assert "Overview" == at.title[0].value
    prod = at.dataframe[0].value
    assert ["basket_propensity", "demand_forecast", "price_elasticity"] == sorted(prod["model"])
    by_model = prod.set_index("model")
    assert {"demand_forecast": "1", "price_elasticity": "1", "basket_propensity": "2"} == \
        by_model["champion"].astype(str).to_dict()
    assert "system:promotion-job" == by_model.loc["basket_propensity", "by"]
    assert "APR-basket_propensity-20261005" == by_model.loc["basket_propensity", "approval"]
    assert {"system:demo"} == set(by_model.drop("basket_propensity")["by"])
    assert all(a.startswith("bootstrap-")
               for a in by_model.drop("basket_propensity")["approval"])
    assert {"yes"} == set(prod["ledger agrees"])
    incidents = at.dataframe[2].value
    assert {"demand_forecast", "basket_propensity"} == set(incidents["model"])
    # the demo answered both incidents: one candidate waits for approval, one was promoted
    assert {"demand_forecast": "awaiting_approval", "basket_propensity": "promoted"} == \
        dict(zip(incidents["model"], incidents["status"], strict=True))
    assert "region" in " ".join(incidents["drifted features"])
    windows = at.dataframe[3].value
    assert (windows["rows"] > 0).all()
    assert any("intact" in s.value for s in at.success)
    assert any("Embedded demo workspace" in str(el.proto) for el in at.sidebar)


def test_overview_on_missing_workspace_explains_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a workspace the page names the problem and the command, never a traceback."""
    monkeypatch.setenv("GOV_HOME", str(tmp_path / "nowhere"))
    at = _run()
    assert not at.exception
    assert any("no workspace" in e.value for e in at.error)
    assert any("python -m governance demo" in i.value for i in at.info)


def test_bad_settings_are_listed_on_the_page(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two bad settings give one message naming both."""
    monkeypatch.setenv("GOV_BACKEND", "oracle")
    monkeypatch.setenv("GOV_LOCK_TIMEOUT", "-1")
    at = _run()
    assert not at.exception
    text = " ".join(e.value for e in at.error)
    assert "GOV_BACKEND" in text
    assert "GOV_LOCK_TIMEOUT" in text
