"""AppTest for the approvals page and the login gate, one identity per role through ``at.user``.

Every test runs on a copy of the seeded demo (``copy_home``): the shared demo stays untouched.
The confirmation dialog (``st.dialog``) is driven in AppTest: its widgets render in the event
container, so clicking Confirm is an ordinary button click; the page keeps the open dialog in
session state, so it survives the full reruns AppTest makes.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from streamlit.testing.v1 import AppTest

from app import figures
from governance import approvals, approvals_view, ledger
from governance.identity import Identity
from governance.registry import quiet_mlflow, registries
from governance.settings import Settings, load_settings
from governance.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[2]
PAGE = str(ROOT / "pages" / "approvals.py")
MAIN = str(ROOT / "app" / "main.py")
PENDING = "APR-demand_forecast-20261005"
DONE = "APR-basket_propensity-20261005"
ISSUER = "http://127.0.0.1:9400"


def claims(sub: str, name: str, groups: list[str], *, expires_in: float = 3600) -> dict[str, Any]:
    """``st.user`` as Streamlit fills it after an OIDC login."""
    now = time.time()
    return {"is_logged_in": True, "iss": ISSUER, "sub": sub, "email": f"{sub}@retail.example",
            "name": name, "groups": groups, "iat": now - 60, "exp": now + expires_in,
            "provider": "default"}


APPROVER = claims("bob", "Bob Approver", ["model-approvers"])
SCIENTIST = claims("dana", "Dana Scientist", ["data-scientists"])
AUDITOR = claims("audrey", "Audrey Auditor", ["auditors"])
NOBODY: dict[str, Any] = {}


@pytest.fixture
def home(demo_settings: Settings, copy_home: Callable[[Path, Path], Path], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A private copy of the demo, pointed at by GOV_HOME for the app."""
    copied = copy_home(demo_settings.home, tmp_path / "home")
    monkeypatch.setenv("GOV_HOME", str(copied))
    monkeypatch.setenv("GOV_DEMO_SCALE", "small")
    return load_settings()


def page(user: dict[str, Any], *, script: str = PAGE, auth: bool = False) -> AppTest:
    at = AppTest.from_file(script, default_timeout=120)
    if user:
        at.user = user
    if auth:
        at.secrets["auth"] = {"redirect_uri": "http://127.0.0.1:8501/oauth2callback",
                              "cookie_secret": "x" * 32, "client_id": "driftgate",
                              "client_secret": "any", "server_metadata_url":
                              f"{ISSUER}/.well-known/openid-configuration"}
    at.run()
    assert not at.exception, at.exception
    return at


def labels(at: AppTest) -> list[str]:
    return [b.label for b in at.button]


def metrics_table(at: AppTest) -> Any:
    return next(df.value for df in at.dataframe if "metric" in df.value.columns)


def history(at: AppTest) -> Any:
    return next(df.value for df in at.dataframe if "request" in df.value.columns)


def texts(at: AppTest) -> str:
    parts = [e.value for kind in (at.info, at.warning, at.error, at.success, at.caption,
                                  at.markdown) for e in kind]
    return "\n".join(str(p) for p in parts)


def test_approver_sees_request_metrics_and_buttons(home: Settings) -> None:
    """The pending demand_forecast request: incident, dataset with lineage, champion vs
    candidate table and chart, policy verdict, requester, no signatures yet; Approve/Reject."""
    at = page(APPROVER)

    assert PENDING == at.selectbox(key="approvals_request").value
    shown = texts(at)
    assert "INC-demand_forecast-20261005" in shown
    assert "price, discount_pct, promo_flag, region" in shown
    assert "uat.training.demand_forecast_v2_inc20261005" in shown
    assert "prod.inference.demand_forecast" in shown  # lineage sources
    assert "system:drift-response" in shown  # requester
    assert "0 of 1 approval(s) required" in shown
    table = metrics_table(at)
    assert ["metric", "champion (prod v1)", "candidate (uat v2)"] == list(table.columns)
    assert "rmse" == table["metric"].iloc[0]  # the deciding metric first
    assert {"rmse", "mae", "mape", "r2"} == set(table["metric"])
    assert any(s.value.startswith("Policy: qualifies: rmse") for s in at.success)
    assert at.get("plotly_chart")
    assert {"Approve", "Reject"} <= set(labels(at))
    assert not at.button(key="approvals_approve").disabled


@pytest.mark.parametrize(("user", "reason"), [
    (SCIENTIST, "You are a data scientist; approving or rejecting needs the approver role."),
    (AUDITOR, "You are an auditor; approving or rejecting needs the approver role."),
    (NOBODY, "Sign-in is not configured, so nobody can sign here: this page is read-only"),
])
def test_non_approvers_see_why_they_cannot_decide(home: Settings, user: dict[str, Any],
                                                  reason: str) -> None:
    """No Approve/Reject for a data scientist, an auditor or nobody; the reason is shown;
    the request itself is still readable."""
    at = page(user)

    assert not {"Approve", "Reject"} & set(labels(at))
    assert any(reason in i.value for i in at.info)
    assert {"rmse", "mae", "mape", "r2"} == set(metrics_table(at)["metric"])
    # Only data scientists (and admins) may ask for a rollback.
    assert ("Request rollback" in [e.label for e in at.expander]) == (user is SCIENTIST)


def test_history_lists_the_demo_decision_by_alice(home: Settings) -> None:
    """basket_propensity's request: approved by alice (demo identity), promoted to prod v2."""
    at = page(AUDITOR)

    row = history(at).set_index("request").loc[DONE]
    assert "user:alice@retail.example (approve)" == row["signed by"]
    assert "promoted" == row["promotion"]
    assert "2" == str(row["prod version"])
    assert "approved for the demo" in row["comment"]


def test_approve_through_the_dialog_promotes_to_prod(home: Settings) -> None:
    """Approve → dialog shows the signer (not editable) → Confirm: the request is approved and
    promoted; prod's champion of demand_forecast is v2 tagged with the approval id; the
    ledger verifies; the history shows the new decision first."""
    at = page(APPROVER)
    at.button(key="approvals_approve").click().run()
    assert "Signing as **Bob Approver** (bob@retail.example)" in texts(at)
    assert not [t for t in at.text_input if "sign" in t.label.lower()]  # nothing to type

    at.button(key="approvals_confirm").click().run()

    assert not at.exception, at.exception
    assert any(f"{PENDING} approved by bob@retail.example" in s.value for s in at.success)
    assert any("promoted" in s.label for s in at.status)
    assert "approvals_confirm" not in [b.key for b in at.button]  # the dialog closed
    with open_warehouse(home).session() as session:
        decided = approvals.get(session, PENDING)
        assert ledger.verify(session).intact
    assert ("promoted", "user:bob@retail.example") == (decided.state, decided.decided_by)
    quiet_mlflow()
    champion = registries(home)["prod"].champion("demand_forecast")
    assert champion is not None
    assert ("2", PENDING) == (str(champion.version), champion.tags["driftgate.approval_id"])
    newest = history(at).iloc[0]
    assert (PENDING, "promoted", "2") == (newest["request"], newest["promotion"],
                                          str(newest["prod version"]))
    assert any("No request is waiting" in i.value for i in at.info)


def test_reject_needs_a_comment(home: Settings) -> None:
    """Confirm without a comment is refused in the dialog (governance refuses it too); with
    one, the request is rejected and nothing is promoted."""
    at = page(APPROVER)
    at.button(key="approvals_reject").click().run()
    at.button(key="approvals_confirm").click().run()

    assert any("A rejection needs a comment" in e.value for e in at.error)
    with open_warehouse(home).session() as session:
        assert "pending" == approvals.get(session, PENDING).state

    at.text_area(key=f"approvals_comment_reject_{PENDING}").input("MAPE got worse").run()
    at.button(key="approvals_confirm").click().run()

    assert not at.exception, at.exception
    with open_warehouse(home).session() as session:
        rejected = approvals.get(session, PENDING)
    assert ("rejected", "MAPE got worse") == (rejected.state, rejected.comment)
    assert "rejected" == history(at).set_index("request").loc[PENDING, "decision"]
    assert not at.status  # no promotion ran


def test_governance_refusal_is_shown_not_raised(home: Settings) -> None:
    """A request decided elsewhere while the dialog is open: DecisionConflict with its fix."""
    at = page(APPROVER)
    at.button(key="approvals_approve").click().run()
    quiet_mlflow()
    regs = registries(home)
    other = Identity(email="alice@retail.example", name="Alice", subject="alice",
                     issuer=ISSUER, groups=("model-approvers",), source="oidc")
    from governance.drift.policy import Policy

    approvals.decide(open_warehouse(home), regs["uat"], home, Policy(), PENDING, other,
                     "reject", "not yet")

    at.button(key="approvals_confirm").click().run()

    assert not at.exception
    assert any("DecisionConflict" in e.value and "already rejected" in e.value
               for e in at.error)
    assert any("How to fix" in i.value for i in at.info)


def test_expired_sign_in_is_signed_out(home: Settings) -> None:
    """An expired ID token: the sidebar says so and offers Log in; nothing to approve."""
    at = page(claims("bob", "Bob Approver", ["model-approvers"], expires_in=-60), script=MAIN,
              auth=True)

    assert any("sign-in expired: log in again" in w.value for w in at.sidebar.warning)
    assert "Log in" in [b.label for b in at.sidebar.button]
    assert "Log out" not in [b.label for b in at.sidebar.button]


def test_sidebar_login_gate(home: Settings) -> None:
    """Signed in: name, email, role and Log out. Nobody with [auth]: Log in. No [auth]: the
    read-only caption."""
    at = page(APPROVER, script=MAIN, auth=True)
    side = "\n".join([m.value for m in at.sidebar.markdown]
                     + [c.value for c in at.sidebar.caption])
    assert "**Bob Approver**" in side
    assert "bob@retail.example" in side
    assert "Role: approver" in side
    assert "Log out" in [b.label for b in at.sidebar.button]

    at = page(NOBODY, script=MAIN, auth=True)
    assert "Log in" in [b.label for b in at.sidebar.button]

    at = page(NOBODY, script=MAIN)
    assert any("Sign-in not configured: read-only; see README" in c.value
               for c in at.sidebar.caption)


def test_approvals_page_in_navigation() -> None:
    """Any Driftgate role opens it; signed in without one does not; nobody only when sign-in
    is not configured (read-only demo)."""
    from app.identity import may_open_approvals

    person = Identity(email="e@x", name="E", subject="e", issuer="i", groups=(), source="oidc")
    for role in ("approver", "data_scientist", "auditor", "admin"):
        assert may_open_approvals(person, frozenset({role}), configured=True)
    assert not may_open_approvals(person, frozenset(), configured=True)
    assert not may_open_approvals(None, frozenset(), configured=True)
    assert may_open_approvals(None, frozenset(), configured=False)


def test_main_switches_to_approvals_for_an_approver(home: Settings) -> None:
    """Through the entry point: the page registered for an approver renders."""
    at = page(APPROVER, script=MAIN, auth=True)
    at.switch_page("../pages/approvals.py").run()
    assert not at.exception, at.exception
    assert "Approvals" == at.title[0].value
    assert "Approve" in labels(at)


def test_data_scientist_requests_a_rollback(home: Settings) -> None:
    """basket_propensity has had two champions: a rollback request opens, pending, requested
    by the data scientist (who therefore cannot approve it)."""
    at = page(SCIENTIST)
    at.selectbox(key="approvals_rollback_model").set_value("basket_propensity")
    at.button(key="approvals_rollback").click().run()
    assert any("Request rollback" == e.label for e in at.expander)
    assert any("rollback" in e.value.lower() and "needs a reason" in e.value for e in at.error)

    at.text_area(key="approvals_rollback_reason").input("v2 misfires on weekend baskets").run()
    at.button(key="approvals_rollback").click().run()

    assert not at.exception, at.exception
    assert any("Rollback requested: APR-basket_propensity-rollback-1" in s.value
               for s in at.success)
    with open_warehouse(home).session() as session:
        made = approvals.get(session, "APR-basket_propensity-rollback-1")
    assert ("pending", "user:dana@retail.example", "1") == (
        made.state, made.requested_by, made.candidate_version)


def test_databricks_apps_identity_via_the_seam(home: Settings,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    """AppTest cannot seed headers: monkeypatch current_identity, the one seam. An email grant
    (GOV_ROLE_USERS) makes the Apps user an approver."""
    import app.identity

    monkeypatch.setenv("GOV_IDENTITY_SOURCE", "databricks-apps")
    monkeypatch.setenv("GOV_ROLE_USERS", "approver=frank@retail.example")
    frank = Identity(email="frank@retail.example", name="frank", subject="123",
                     issuer="databricks-apps", groups=(), source="databricks-apps")
    monkeypatch.setattr(app.identity, "current_identity", lambda settings=None: frank)

    at = page(NOBODY)
    assert "Approve" in labels(at)
    at.button(key="approvals_approve").click().run()
    assert "Signing as **frank** (frank@retail.example)" in texts(at)


def test_cannot_decide_explains_separation_of_duties(home: Settings) -> None:
    """The page's hint for an approver who requested the request (governance refuses too)."""
    with open_warehouse(home).session() as session:
        from governance.drift.policy import Policy

        (request,) = approvals_view.pending(session, Policy())
    dana = Identity(email="dana@retail.example", name="Dana", subject="dana", issuer=ISSUER,
                    groups=("model-approvers",), source="oidc")
    mine = approvals_view.RequestView(**{**request.__dict__,
                                         "requested_by": "user:dana@retail.example"})
    assert "separation of duties" in str(approvals_view.cannot_decide(
        mine, dana, frozenset({"approver"}), True))
    assert approvals_view.cannot_decide(request, dana, frozenset({"approver"}), True) is None


def test_metrics_figure_has_one_panel_per_metric(home: Settings) -> None:
    """Champion and candidate bars per metric; the deciding metric is marked."""
    from governance.drift.policy import Policy

    with open_warehouse(home).session() as session:
        (request,) = approvals_view.pending(session, Policy())
    assert request.comparison is not None
    fig = figures.approval_metrics(request.comparison)
    assert fig is not None
    assert 8 == len(fig.data)  # 4 metrics x (champion, candidate)
    assert "<b>rmse</b> (decides)" == fig.layout.annotations[0].text
