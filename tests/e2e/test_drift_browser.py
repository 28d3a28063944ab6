"""A real browser opens the drift explorer, picks a drifting feature and sees its charts."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e

IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"


def _choose(page: Page, label: str, option: str | re.Pattern[str]) -> None:
    """Open the selectbox labelled ``label`` and click ``option``; wait for the rerun."""
    box = page.get_by_role("combobox", name=label)
    # The dropdown closes on scroll, so scroll first and let it settle, then open it.
    box.scroll_into_view_if_needed()
    page.wait_for_timeout(300)
    box.click()
    page.get_by_role("option", name=option).click()
    expect(box).to_have_value(option)
    # The rerun starts a moment after the click; waiting for "notRunning" at once could pass
    # before it began and race the next widget against the re-render.
    page.wait_for_timeout(500)
    page.wait_for_selector(IDLE, timeout=60_000)


def test_drifting_feature_charts_render_in_a_real_browser(page: Page, app_url: str) -> None:
    """demand_forecast, week of 2026-10-05, price: the histogram and ECDF draw baseline and
    current; the table and heatmap render; no exception."""
    page.goto(f"{app_url}/drift")
    page.wait_for_selector(IDLE, timeout=60_000)
    expect(page.get_by_role("heading", name="Drift explorer")).to_be_visible(timeout=60_000)
    _choose(page, "Model", "demand_forecast")
    _choose(page, "Window", re.compile(r"^2026-10-05 .* DRIFT"))
    _choose(page, "Feature", "price")
    expect(page.get_by_text("price · numeric · DRIFT")).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()

    histogram = page.locator(".js-plotly-plot").filter(has_text="price: baseline vs current")
    expect(histogram).to_be_visible(timeout=30_000)
    expect(histogram.locator(".legendtext", has_text="baseline")).to_be_visible()
    expect(histogram.locator(".legendtext", has_text="current")).to_be_visible()
    ecdf = page.locator(".js-plotly-plot").filter(has_text="cumulative distribution")
    expect(ecdf).to_be_visible()
    expect(ecdf.get_by_text(re.compile(r"KS distance D = 0\.\d{3}"))).to_be_visible()
    expect(page.locator(".js-plotly-plot").filter(
        has_text="Drift score per feature per window")).to_be_visible()
    assert 0 == page.get_by_test_id("stException").count()
