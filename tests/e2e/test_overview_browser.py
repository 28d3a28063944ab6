"""A real browser opens the dashboard and sees the overview render without an exception."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

pytestmark = pytest.mark.e2e


def test_overview_renders_in_a_real_browser(page: Page, app_url: str) -> None:
    """Title, champion table, ledger status and the environment badge render; no exception."""
    page.goto(app_url)
    page.wait_for_selector("[data-testid='stApp'][data-test-script-state='notRunning']",
                           timeout=60_000)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Ledger intact")).to_be_visible()
    expect(page.get_by_text("Embedded demo workspace")).to_be_visible()
    expect(page.get_by_test_id("stDataFrame").first).to_be_visible()
    assert 0 == page.get_by_test_id("stException").count()
