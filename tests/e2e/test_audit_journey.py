"""An auditor's journey in a real browser with a real OIDC login.

Audrey (auditors group) signs in through oidc-provider-mock, opens the Audit page, filters to
basket_propensity, reads the story of prod v2 (drift → refresh → candidate → evaluation →
approval by alice → promotion), downloads its evidence pack, and the pack verifies offline —
with the library and with the CLI an auditor would run.
"""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from governance.evidence.verify import verify_pack
from governance.settings import Settings, load_settings
from tests.e2e.conftest import IDLE, ROOT, log_in, serve_with_login

pytestmark = [
    pytest.mark.e2e,
    # The in-process mock runs Authlib 1.9, which warns about its own deprecated APIs while it
    # serves the token endpoint (in the mock's thread, under this test's warning filters).
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:oidc_provider_mock.*"),
]

MODEL = "basket_propensity"


@pytest.fixture(scope="module")
def audit_home(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
               tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """This module's own copy of the demo (exporting reads only, but the copy keeps it so)."""
    home = copy_home(demo_settings.home, tmp_path_factory.mktemp("audit") / "home")
    return load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small"}, {})


@pytest.fixture(scope="module")
def audit_url(idp: str, audit_home: Settings,
              tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with serve_with_login(idp, audit_home, tmp_path_factory.mktemp("audit-server")) as url:
        yield url


def test_auditor_filters_reads_the_story_and_verifies_the_evidence(
        page: Page, audit_url: str, tmp_path: Path) -> None:
    log_in(page, audit_url, "audrey")
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_text("Role: auditor")).to_be_visible()
    nav = page.get_by_test_id("stSidebarNav")
    expect(nav.get_by_role("link", name="Lineage")).to_be_visible()
    nav.get_by_role("link", name="Audit").click()
    expect(page.get_by_role("heading", name="Audit", exact=True)).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Ledger intact:")).to_be_visible(timeout=60_000)

    # Filter to one model with the sidebar picker (once the page has finished rendering: a
    # rerun replaces the widget and would close a list opened meanwhile).
    page.wait_for_selector(IDLE, timeout=60_000)
    option = page.get_by_role("option", name=MODEL, exact=True)
    for _ in range(3):
        sidebar.get_by_test_id("stSelectbox").filter(has_text="Model").first.click()
        try:
            expect(option).to_be_visible(timeout=5_000)
            break
        except AssertionError:
            page.wait_for_selector(IDLE, timeout=60_000)
    option.click()
    page.wait_for_selector(IDLE, timeout=60_000)
    expect(page.get_by_text("of 2 production versions", exact=False).first).to_be_visible(
        timeout=30_000)

    # The newest version's story is picked first: basket_propensity v2.
    chart = page.locator(".js-plotly-plot").filter(has_text=f"Story of {MODEL} v2")
    expect(chart).to_be_visible(timeout=30_000)
    timeline = page.get_by_test_id("stDataFrame").filter(has_text="approval requested")
    expect(timeline).to_have_count(1)

    page.get_by_role("button", name="Prepare evidence pack").click()
    download_button = page.get_by_role("button", name=f"Download evidence-{MODEL}-v2.zip")
    expect(download_button).to_be_visible(timeout=90_000)
    with page.expect_download(timeout=60_000) as info:
        download_button.click()
    saved = tmp_path / info.value.suggested_filename
    info.value.save_as(saved)
    assert 0 == page.get_by_test_id("stException").count()

    result = verify_pack(saved)
    assert result.ok, result.problems
    with zipfile.ZipFile(saved) as pack:
        manifest = json.loads(pack.read("manifest.json"))
        timeline_steps = [step["step"] for step in json.loads(pack.read("timeline.json"))]
    assert manifest["exported_by"] == "user:audrey@retail.example"
    assert {"decided", "live in prod"} <= set(timeline_steps)
    cli = subprocess.run([sys.executable, "-m", "governance", "evidence", "verify", str(saved)],
                         cwd=ROOT, capture_output=True, text=True, check=False)
    assert cli.returncode == 0, cli.stdout + cli.stderr
