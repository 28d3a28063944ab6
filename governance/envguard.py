"""The production write guard.

Nothing in Driftgate's automatic path may write to production. Writes to ``prod`` (SQL tables
through :mod:`governance.warehouse`, the registry through :mod:`governance.registry`) call
:func:`require_prod_write`, which raises :class:`EnvironmentViolation` unless the current
context was opened with :func:`prod_writes`. Only two modules open it: the promotion job, for a
signed approval, and the demo's upstream simulator, which plays the pipelines that own prod data.
``tests/unit/test_envguard.py`` enforces that list.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from governance.errors import EnvironmentViolation

ALLOWED_CALLERS = frozenset({"governance.promotion", "governance.demo.seed"})


@dataclass(frozen=True)
class ProdWriteGrant:
    """Why prod may be written in this context (for errors and the audit trail)."""

    caller: str
    reason: str


_grant: contextvars.ContextVar[ProdWriteGrant | None] = contextvars.ContextVar(
    "prod_write_grant", default=None
)


@contextmanager
def prod_writes(caller: str, reason: str) -> Iterator[ProdWriteGrant]:
    """Allow prod writes inside the block, for ``caller`` (a module name) only.

    Raises:
        EnvironmentViolation: ``caller`` is not one of :data:`ALLOWED_CALLERS`.
    """
    if caller not in ALLOWED_CALLERS:
        raise EnvironmentViolation("prod", f"{caller} asked for prod write access")
    grant = ProdWriteGrant(caller, reason)
    token = _grant.set(grant)
    try:
        yield grant
    finally:
        _grant.reset(token)


def current_grant() -> ProdWriteGrant | None:
    """Return the grant in force, or ``None``."""
    return _grant.get()


def require_prod_write(operation: str) -> ProdWriteGrant:
    """Raise :class:`EnvironmentViolation` unless a prod write grant is in force."""
    grant = _grant.get()
    if grant is None:
        raise EnvironmentViolation("prod", operation)
    return grant
