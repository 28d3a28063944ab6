"""Create the governance store: schemas, tables and the recorded schema version."""

from __future__ import annotations

from governance import sql
from governance.ledger import utc_now
from governance.warehouse import Session

SCHEMA_VERSION = 5
DESCRIPTION = ("ledger, models, baselines, drift results and windows, incidents, approvals, "
               "outbox, lineage, drift responses and evaluations, approval signatures, "
               "MLflow runs mirror")


def ddl_queries() -> list[str]:
    """Names of the DDL query files, in the order they apply."""
    return [n for n in sql.query_names() if n.startswith("ddl/")]


def ensure_schema(session: Session) -> bool:
    """Create whatever is missing and record the schema version.

    Every statement is ``IF NOT EXISTS``, so running this twice is a no-op.

    Returns:
        True when this call recorded a new schema version.
    """
    for name in ddl_queries():
        session.execute(name)
    current = session.fetch_scalar("schema/current_version")
    if current is not None and current >= SCHEMA_VERSION:
        return False
    session.execute(
        "schema/record_version",
        {"version": SCHEMA_VERSION, "applied_at": utc_now(), "description": DESCRIPTION},
    )
    return True


def schema_version(session: Session) -> int | None:
    """Return the recorded schema version, or ``None`` for an empty store."""
    value = session.fetch_scalar("schema/current_version")
    return None if value is None else int(value)
