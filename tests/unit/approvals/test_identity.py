"""Identities come from authentication only, and roles from settings (no workspace needed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from governance.errors import AccessDenied
from governance.identity import (
    Identity,
    from_databricks_headers,
    from_oidc_claims,
    require_role,
    roles,
    running_as_databricks_app,
)
from governance.settings import Settings, load_settings

NOW = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
APPS_ENV = {"DATABRICKS_APP_NAME": "driftgate"}
HEADERS = {"X-Forwarded-Email": "mallory@evil.example", "X-Forwarded-User": "mallory",
           "X-Forwarded-Preferred-Username": "Mallory"}


@pytest.fixture
def cfg() -> Settings:
    return load_settings({}, {})


def claims(**overrides: Any) -> dict[str, Any]:
    """The claims st.user holds for a logged-in user whose token is valid for an hour."""
    base = {"is_logged_in": True, "iss": "https://idp.retail.example", "sub": "0042",
            "email": "bob@retail.example", "name": "Bob Approver",
            "groups": ["model-approvers", "everyone"],
            "exp": (NOW + timedelta(hours=1)).timestamp()}
    return {**base, **overrides}


# --- OIDC ----------------------------------------------------------------------------------


def test_oidc_claims_become_an_identity(cfg: Settings) -> None:
    """iss, sub, email, name, groups and the expiry are all carried, source oidc."""
    found = from_oidc_claims(claims(), cfg, now=NOW)

    assert Identity(email="bob@retail.example", name="Bob Approver", subject="0042",
                    issuer="https://idp.retail.example",
                    groups=("model-approvers", "everyone"), source="oidc",
                    expires_at=NOW + timedelta(hours=1)) == found
    assert found is not None
    assert "user:bob@retail.example" == found.actor
    assert {"iss": "https://idp.retail.example", "sub": "0042", "email": "bob@retail.example",
            "name": "Bob Approver", "groups": ["model-approvers", "everyone"], "source": "oidc",
            "exp": "2026-11-02T10:30:00+00:00"} == found.claims()


def test_not_logged_in_is_nobody(cfg: Settings) -> None:
    assert from_oidc_claims({"is_logged_in": False, **claims(is_logged_in=False)}, cfg,
                            now=NOW) is None
    assert from_oidc_claims({}, cfg, now=NOW) is None


@pytest.mark.parametrize("skew", [timedelta(0), timedelta(seconds=1), timedelta(days=3)])
def test_expired_token_is_refused(cfg: Settings, skew: timedelta) -> None:
    """Streamlit does not check exp: governance refuses a token at or past its expiry."""
    expired = claims(exp=(NOW - skew).timestamp())

    with pytest.raises(AccessDenied, match="sign-in expired") as info:
        from_oidc_claims(expired, cfg, now=NOW)
    assert "log in again" in info.value.hint


def test_expiry_is_checked_again_when_acting(cfg: Settings) -> None:
    """An identity accepted at login is refused once its token expired mid-session."""
    found = from_oidc_claims(claims(), cfg, now=NOW)

    assert "approver" in require_role(found, cfg, "approver", "approve X", now=NOW)
    with pytest.raises(AccessDenied, match="expired"):
        require_role(found, cfg, "approver", "approve X", now=NOW + timedelta(hours=2))


@pytest.mark.parametrize("missing", ["iss", "sub", "email"])
@pytest.mark.parametrize("blank", [None, ""])
def test_token_without_identifying_claims_is_refused(cfg: Settings, missing: str,
                                                      blank: str | None) -> None:
    with pytest.raises(AccessDenied, match=f"lacks {missing}"):
        from_oidc_claims(claims(**{missing: blank}), cfg, now=NOW)


def test_name_falls_back_to_email_and_string_exp_is_parsed(cfg: Settings) -> None:
    found = from_oidc_claims(claims(name=None, exp=str(int(NOW.timestamp()) + 60)), cfg,
                             now=NOW)

    assert found is not None
    assert ("bob@retail.example", NOW + timedelta(seconds=60)) == (found.name, found.expires_at)


def test_groups_come_from_the_configured_claim_only() -> None:
    """With GOV_GROUPS_CLAIM=roles, a forged ``groups`` claim grants nothing."""
    custom = load_settings({"GOV_GROUPS_CLAIM": "roles"}, {})
    forged = claims(groups=["model-approvers"], roles=["data-scientists"])

    found = from_oidc_claims(forged, custom, now=NOW)

    assert found is not None
    assert ("data-scientists",) == found.groups
    assert frozenset({"data_scientist"}) == roles(found, custom)


def test_a_single_group_string_is_one_group_not_characters(cfg: Settings) -> None:
    found = from_oidc_claims(claims(groups="model-approvers"), cfg, now=NOW)

    assert found is not None
    assert ("model-approvers",) == found.groups
    assert frozenset({"approver"}) == roles(found, cfg)


def test_no_groups_claim_means_no_roles(cfg: Settings) -> None:
    found = from_oidc_claims({k: v for k, v in claims().items() if k != "groups"}, cfg, now=NOW)

    assert found is not None
    assert () == found.groups
    assert frozenset() == roles(found, cfg)


# --- Databricks Apps headers ----------------------------------------------------------------


@pytest.mark.parametrize("environ", [{}, {"DATABRICKS_APP_NAME": ""},
                                     {"DATABRICKS_HOST": "https://x.cloud.databricks.com"},
                                     {"DATABRICKS_APP_PORT": "8000"}])
def test_forged_forwarded_headers_outside_apps_give_no_identity(environ: dict[str, str]) -> None:
    """Outside Databricks Apps X-Forwarded-* are client-controlled: ignored entirely."""
    assert not running_as_databricks_app(environ)
    assert from_databricks_headers(HEADERS, environ) is None
    assert from_databricks_headers({k.lower(): v for k, v in HEADERS.items()}, environ) is None


def test_forwarded_headers_inside_apps_are_honoured() -> None:
    found = from_databricks_headers(HEADERS, APPS_ENV)

    assert Identity(email="mallory@evil.example", name="Mallory", subject="mallory",
                    issuer="databricks-apps", groups=(), source="databricks-apps") == found


def test_lower_case_headers_are_read_inside_apps() -> None:
    found = from_databricks_headers({"x-forwarded-email": "bob@retail.example",
                                     "x-forwarded-user": "u-1"}, APPS_ENV)

    assert found is not None
    assert ("bob@retail.example", "u-1", "bob@retail.example") == (found.email, found.subject,
                                                                  found.name)


def test_apps_without_email_header_is_nobody() -> None:
    assert from_databricks_headers({"X-Forwarded-User": "u-1"}, APPS_ENV) is None


def test_header_identity_decides_nothing_without_a_grant_by_email() -> None:
    """Apps identities have no groups: only GOV_ROLE_USERS can make them approvers."""
    found = from_databricks_headers({"X-Forwarded-Email": "bob@retail.example"}, APPS_ENV)
    plain = load_settings({}, {})
    granted = load_settings({"GOV_ROLE_USERS": "approver=bob@retail.example"}, {})

    with pytest.raises(AccessDenied, match="needs the approver role"):
        require_role(found, plain, "approver", "approve X")
    assert frozenset({"approver"}) == require_role(found, granted, "approver", "approve X")


# --- roles ----------------------------------------------------------------------------------


def person(email: str = "pat@retail.example", *groups: str) -> Identity:
    return Identity(email=email, name="Pat", subject="pat", issuer="iss", groups=groups,
                    source="oidc")


@pytest.mark.parametrize(("groups", "expected"), [
    (("model-approvers",), {"approver"}),
    (("data-scientists",), {"data_scientist"}),
    (("auditors",), {"auditor"}),
    (("driftgate-admins",), {"admin"}),
    (("data-scientists", "model-approvers"), {"approver", "data_scientist"}),
    (("model-approvers-readonly", "Model-Approvers", "model", "approvers"), set()),
    ((), set()),
])
def test_roles_come_from_exact_group_names(cfg: Settings, groups: tuple[str, ...],
                                           expected: set[str]) -> None:
    assert frozenset(expected) == roles(person("pat@retail.example", *groups), cfg)


def test_configured_group_lists_and_role_users() -> None:
    cfg = load_settings({
        "GOV_APPROVER_GROUPS": " risk-board , ml-leads ",
        "GOV_DATA_SCIENTIST_GROUPS": "ds",
        "GOV_ROLE_USERS": "approver=ann@x.com, bo@x.com; auditor = cy@x.com ;superuser=ann@x.com;"
                          "data_scientist=",
    }, {})

    assert frozenset({"approver"}) == roles(person("z@x.com", "ml-leads"), cfg)
    assert frozenset() == roles(person("z@x.com", "model-approvers"), cfg)
    assert frozenset({"approver"}) == roles(person("ann@x.com"), cfg)
    assert frozenset({"approver", "data_scientist"}) == roles(person("bo@x.com", "ds"), cfg)
    assert frozenset({"auditor"}) == roles(person("cy@x.com"), cfg)
    assert frozenset() == roles(person("x.com"), cfg)
    assert frozenset() == roles(None, cfg)


@pytest.mark.parametrize("who", [None, person("vic@x.com"), person("dana@x.com", "data-scientists"),
                                 person("aud@x.com", "auditors"),
                                 person("adm@x.com", "driftgate-admins")])
def test_require_role_refuses_everyone_but_approvers(cfg: Settings, who: Identity | None) -> None:
    with pytest.raises(AccessDenied) as info:
        require_role(who, cfg, "approver", "approve APR-1")
    assert ("signed-in user" if who is None else "needs the approver role") in str(info.value)
