"""Who is using the dashboard, from authentication only, chosen by ``settings.identity_source``.

* ``oidc``: the ID-token claims ``st.login`` put in ``st.user`` (``[auth]`` in secrets.toml).
* ``databricks-apps``: the Apps proxy's ``X-Forwarded-*`` headers in ``st.context.headers``;
  governance honours them only when the process runs as a Databricks App.

:func:`current_identity` is the one place the app asks; tests monkeypatch it. Governance
re-checks the identity and its roles on every action, so what this module says only decides
what the UI offers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import streamlit as st

from app import resources
from governance import identity as core
from governance.errors import AccessDenied
from governance.identity import Identity
from governance.settings import Settings

ROLE_LABELS = {"approver": "approver", "data_scientist": "data scientist",
               "auditor": "auditor", "admin": "admin"}
#: Roles that may open the approvals page (any Driftgate role).
APPROVALS_ROLES = frozenset(ROLE_LABELS)
#: Roles that may open the audit and lineage pages.
AUDIT_ROLES = frozenset({"auditor", "admin", "approver"})


@dataclass(frozen=True)
class SignIn:
    """The outcome of reading the identity: who, or why nobody.

    Attributes:
        identity: The signed-in person, or ``None``.
        problem: Why a present sign-in was not accepted (expired token, missing claims).
    """

    identity: Identity | None
    problem: str | None = None


def _settings(settings: Settings | None) -> Settings:
    return settings if settings is not None else resources.settings()


def auth_section() -> Mapping[str, Any] | None:
    """The ``[auth]`` table of the secrets, or ``None`` when sign-in is not configured."""
    try:
        if "auth" not in st.secrets:
            return None
        section = st.secrets["auth"]
    except FileNotFoundError:  # no secrets file at all (StreamlitSecretNotFoundError)
        return None
    return section if isinstance(section, Mapping) else None


def login_provider() -> str | None:
    """The provider ``st.login`` should use: ``None`` for the default one (keys directly under
    ``[auth]``), else the first named ``[auth.<name>]`` provider."""
    section = auth_section() or {}
    if "client_id" in section:
        return None
    named = [k for k, v in section.items() if isinstance(v, Mapping)]
    return named[0] if named else None


def sign_in_configured(settings: Settings | None = None) -> bool:
    """True when someone can sign in here at all."""
    if _settings(settings).identity_source == "databricks-apps":
        return core.running_as_databricks_app(os.environ)
    return auth_section() is not None


def _claims() -> dict[str, Any]:
    """``st.user`` as a plain dict (safe without ``[auth]``: attribute access would raise)."""
    try:
        return dict(st.user.to_dict())
    except (AttributeError, KeyError):
        return {}


def sign_in(settings: Settings | None = None) -> SignIn:
    """Read the identity and keep the reason when a sign-in is present but refused."""
    current = _settings(settings)
    if current.identity_source == "databricks-apps":
        return SignIn(core.from_databricks_headers(st.context.headers, os.environ))
    try:
        return SignIn(core.from_oidc_claims(_claims(), current))
    except AccessDenied as exc:
        if "expired" in str(exc):
            return SignIn(None, "Your sign-in expired: log in again.")
        return SignIn(None, f"Your sign-in was not accepted: {str(exc).splitlines()[0]}.")


def current_identity(settings: Settings | None = None) -> Identity | None:
    """The signed-in person, or ``None`` (nobody, or an expired/unusable sign-in)."""
    return sign_in(settings).identity


def roles(identity: Identity | None, settings: Settings | None = None) -> frozenset[str]:
    """The Driftgate roles ``identity`` holds (empty for nobody)."""
    return core.roles(identity, _settings(settings))


def role_names(held: frozenset[str]) -> str:
    """``data scientist and auditor``; ``no Driftgate role`` when empty."""
    names = [ROLE_LABELS[r] for r in core.ROLES if r in held]
    if not names:
        return "no Driftgate role"
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def may_open_approvals(identity: Identity | None, held: frozenset[str],
                       configured: bool) -> bool:
    """Signed-in users with any role; everyone, read-only, when sign-in is not configured."""
    if identity is not None:
        return bool(held & APPROVALS_ROLES)
    return not configured


def may_open_audit(identity: Identity | None, held: frozenset[str], configured: bool) -> bool:
    """Auditors, admins and approvers; everyone, read-only, when sign-in is not configured."""
    if identity is not None:
        return bool(held & AUDIT_ROLES)
    return not configured


def sidebar(settings: Settings) -> None:
    """The login gate: who is signed in with Log out, a Log in button, or why neither."""
    box = st.sidebar.container(border=True)
    state = sign_in(settings)
    who = state.identity
    if settings.identity_source == "databricks-apps":
        if who is None:
            box.caption("Not signed in: Databricks Apps forwards the user only inside "
                        "Databricks Apps. Read-only; see README (Sign-in).")
        else:
            _signed_in(box, who, settings, logout=False)
        return
    if auth_section() is None:
        box.caption("Sign-in not configured: read-only; see README (Sign-in).")
        return
    if state.problem:
        box.warning(state.problem, icon=":material/lock_clock:")
    if who is None:
        if box.button("Log in", icon=":material/login:", key="login", width="stretch"):
            st.login(login_provider())  # None: the default provider
        return
    _signed_in(box, who, settings, logout=True)


def _signed_in(box: Any, who: Identity, settings: Settings, *, logout: bool) -> None:
    held = roles(who, settings)
    box.markdown(f"**{who.name}**  \n{who.email}")
    box.caption(f"Role: {role_names(held)}")
    if logout and box.button("Log out", icon=":material/logout:", key="logout",
                             width="stretch"):
        st.logout()
