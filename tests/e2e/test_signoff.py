"""Sign-off in a real browser with a real OIDC login.

An in-process oidc-provider-mock is the identity provider; ``streamlit run`` gets a secrets
file whose ``[auth]`` points at it (``--secrets.files``, so a developer's own
``.streamlit/secrets.toml`` plays no part) and serves a copy of the demo made for this module.
A data scientist cannot approve; an approver approves demand_forecast's pending request through
the confirmation dialog and the promotion job makes its candidate prod's champion.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from governance import approvals, ledger
from governance.registry import quiet_mlflow, registries
from governance.settings import Settings, load_settings
from governance.warehouse import open_warehouse
from tests.e2e.conftest import IDLE, log_in, serve_with_login

pytestmark = [
    pytest.mark.e2e,
    # The in-process mock runs Authlib 1.9, which warns about its own deprecated APIs while it
    # serves the token endpoint (in the mock's thread, under this test's warning filters).
    pytest.mark.filterwarnings("ignore::DeprecationWarning:authlib.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:oidc_provider_mock.*"),
]

PENDING = "APR-demand_forecast-20261005"


@pytest.fixture(scope="module")
def signoff_home(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
                 tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """This module's own copy of the demo (the approver's test writes to it)."""
    home = copy_home(demo_settings.home, tmp_path_factory.mktemp("signoff") / "home")
    return load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small"}, {})


@pytest.fixture(scope="module")
def signoff_url(idp: str, signoff_home: Settings,
                tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard with sign-in configured against the mock, on a free port."""
    with serve_with_login(idp, signoff_home, tmp_path_factory.mktemp("signoff-server")) as url:
        yield url


def open_approvals(page: Page) -> None:
    page.get_by_test_id("stSidebarNav").get_by_role("link", name="Approvals").click()
    expect(page.get_by_role("heading", name="Approvals")).to_be_visible(timeout=60_000)
    page.wait_for_selector(IDLE, timeout=60_000)


def test_data_scientist_cannot_approve(page: Page, signoff_url: str) -> None:
    """Signed out: Log in, no Approvals page. Dana (data scientist) logs in: Approvals shows
    the pending request and why she cannot decide; no Approve/Reject button."""
    page.goto(signoff_url)
    page.wait_for_selector(IDLE, timeout=60_000)
    expect(page.get_by_test_id("stSidebar").get_by_role("button", name="Log in")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Drift")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav").get_by_role("link", name="Approvals")) \
        .to_have_count(0)

    log_in(page, signoff_url, "dana")
    expect(page.get_by_test_id("stSidebar").get_by_text("Role: data scientist")).to_be_visible()
    open_approvals(page)

    expect(page.get_by_text(PENDING).first).to_be_visible()
    expect(page.get_by_text("You are a data scientist; approving or rejecting needs the "
                            "approver role.")).to_be_visible()
    expect(page.get_by_role("button", name="Approve")).to_have_count(0)
    expect(page.get_by_role("button", name="Reject")).to_have_count(0)
    assert 0 == page.get_by_test_id("stException").count()


def test_approver_approves_and_prod_is_promoted(page: Page, signoff_url: str,
                                                signoff_home: Settings) -> None:
    """Alice logs in, approves demand_forecast's request in the dialog (signer shown from the
    login, not typed); the promotion job runs; prod's champion is v2 tagged with the approval
    id, and the ledger verifies."""
    log_in(page, signoff_url, "alice")
    open_approvals(page)
    expect(page.get_by_text("Policy: qualifies: rmse")).to_be_visible()
    expect(page.locator(".js-plotly-plot").filter(has_text="Champion vs candidate")) \
        .to_be_visible(timeout=30_000)

    page.get_by_role("button", name="Approve").click()
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Signing as Alice Approver (alice@retail.example)")) \
        .to_be_visible(timeout=30_000)
    dialog.get_by_label("Comment (optional)").fill("Better on the drifted holdout.")
    dialog.get_by_role("button", name="Confirm approve").click()

    expect(page.get_by_text(f"{PENDING} approved by alice@retail.example.")) \
        .to_be_visible(timeout=90_000)
    expect(page.get_by_text(re.compile(rf"{PENDING} promoted: demand_forecast prod v2"))) \
        .to_be_visible(timeout=90_000)
    expect(page.get_by_role("dialog")).to_have_count(0)
    assert 0 == page.get_by_test_id("stException").count()

    with open_warehouse(signoff_home).session() as session:
        decided = approvals.get(session, PENDING)
        verified = ledger.verify(session)
    assert ("promoted", "user:alice@retail.example") == (decided.state, decided.decided_by)
    assert "Better on the drifted holdout." == decided.comment
    assert "oidc" == decided.signatures[0].claims["source"]
    assert verified.intact, verified.summary()
    quiet_mlflow()
    champion = registries(signoff_home)["prod"].champion("demand_forecast")
    assert champion is not None
    assert ("2", PENDING) == (str(champion.version), champion.tags["driftgate.approval_id"])
