"""Who is acting: identities from authentication only, and the roles settings grant them.

Two sources, chosen by configuration (``GOV_IDENTITY_SOURCE``), never "whichever is present":

* ``oidc``: the ID-token claims Streamlit's ``st.login`` put in ``st.user`` (``iss``, ``sub``,
  ``email``, ``name`` and the configured groups claim). Streamlit does not check ``exp``;
  :func:`from_oidc_claims` does.
* ``databricks-apps``: the Apps proxy's ``X-Forwarded-Email`` / ``X-Forwarded-User`` headers,
  honoured only when the process runs as a Databricks App (``DATABRICKS_APP_NAME`` in the
  environment). Anywhere else those headers are client-controlled and are ignored.

Every governance action that needs a role calls :func:`require_role` itself; the UI hiding a
button is a convenience, not the check.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from governance.errors import AccessDenied
from governance.settings import Settings

ROLES = ("approver", "data_scientist", "auditor", "admin")


@dataclass(frozen=True)
class Identity:
    """An authenticated person.

    Attributes:
        email: Verified email (the actor name in the ledger).
        name: Display name.
        subject: The IdP's stable subject id (``sub``, or the Apps user id).
        issuer: Who vouched for it (``iss``, or ``databricks-apps``).
        groups: Group names from the token.
        source: ``oidc``, ``databricks-apps`` or ``demo`` (the seed's scripted approver).
        expires_at: When the ID token expires (``None`` when the source has no expiry).
    """

    email: str
    name: str
    subject: str
    issuer: str
    groups: tuple[str, ...]
    source: str
    expires_at: datetime | None = None

    @property
    def actor(self) -> str:
        """The ledger's actor string for this person."""
        return f"user:{self.email}"

    def claims(self) -> dict[str, Any]:
        """What the ledger records about the signer."""
        return {"iss": self.issuer, "sub": self.subject, "email": self.email, "name": self.name,
                "groups": list(self.groups), "source": self.source,
                "exp": self.expires_at.isoformat() if self.expires_at else None}


def _now() -> datetime:
    return datetime.now(UTC)


def from_oidc_claims(claims: Mapping[str, Any], settings: Settings,
                     now: datetime | None = None) -> Identity | None:
    """The identity in ``st.user``'s claims, or ``None`` when nobody is signed in.

    Raises:
        AccessDenied: Signed in, but the token has expired or lacks ``sub``/``email``.
    """
    if not claims.get("is_logged_in"):
        return None
    missing = [c for c in ("iss", "sub", "email") if not claims.get(c)]
    if missing:
        raise AccessDenied(f"the ID token lacks {', '.join(missing)}",
                           hint="configure the identity provider to include them")
    expires = None
    if claims.get("exp") is not None:
        expires = datetime.fromtimestamp(float(claims["exp"]), UTC)
        if expires <= (now or _now()):
            raise AccessDenied(f"your sign-in expired at {expires:%Y-%m-%d %H:%M} UTC",
                               hint="log out and log in again")
    raw_groups = claims.get(settings.groups_claim) or ()
    groups = (raw_groups,) if isinstance(raw_groups, str) else tuple(map(str, raw_groups))
    return Identity(email=str(claims["email"]), name=str(claims.get("name") or claims["email"]),
                    subject=str(claims["sub"]), issuer=str(claims["iss"]), groups=groups,
                    source="oidc", expires_at=expires)


def running_as_databricks_app(environ: Mapping[str, str]) -> bool:
    """True only inside Databricks Apps, judged from the environment, never from a header."""
    return bool(environ.get("DATABRICKS_APP_NAME"))


def from_databricks_headers(headers: Mapping[str, str], environ: Mapping[str, str]
                            ) -> Identity | None:
    """The proxy-forwarded identity, or ``None`` outside Databricks Apps or without headers."""
    if not running_as_databricks_app(environ):
        return None
    email = headers.get("X-Forwarded-Email") or headers.get("x-forwarded-email")
    user = headers.get("X-Forwarded-User") or headers.get("x-forwarded-user")
    if not email:
        return None
    name = headers.get("X-Forwarded-Preferred-Username") or email
    return Identity(email=email, name=name, subject=user or email, issuer="databricks-apps",
                    groups=(), source="databricks-apps")


def _split(raw: str) -> set[str]:
    return {part.strip() for part in raw.split(",") if part.strip()}


def roles(identity: Identity | None, settings: Settings) -> frozenset[str]:
    """The roles ``identity`` holds: from its groups, plus grants by email in settings."""
    if identity is None:
        return frozenset()
    held = {role for role in ROLES
            if _split(getattr(settings, f"{role}_groups")) & set(identity.groups)}
    for grant in settings.role_users.split(";"):
        role, _, emails = grant.partition("=")
        if role.strip() in ROLES and identity.email in _split(emails):
            held.add(role.strip())
    return frozenset(held)


def require_role(identity: Identity | None, settings: Settings, role: str, action: str,
                 now: datetime | None = None) -> frozenset[str]:
    """Refuse ``action`` unless a live identity holds ``role``; returns its roles.

    Raises:
        AccessDenied: No identity, an expired one, or the role is missing.
    """
    if identity is None:
        raise AccessDenied(f"{action} needs a signed-in user", hint="log in first")
    if identity.expires_at is not None and identity.expires_at <= (now or _now()):
        raise AccessDenied(f"{identity.email}'s sign-in expired; cannot {action}",
                           hint="log out and log in again")
    held = roles(identity, settings)
    if role not in held:
        raise AccessDenied(f"{identity.email} may not {action}: it needs the {role} role "
                           f"(has {', '.join(sorted(held)) or 'no role'})",
                           hint=f"ask an administrator to add you to a group in "
                           f"GOV_{role.upper()}_GROUPS")
    return held
