"""Creating the governance store: idempotent DDL and one recorded schema version."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from governance import ledger, schema
from governance.backends.duckdb import DuckDBWarehouse
from governance.errors import QueryError
from governance.settings import Settings
from governance.warehouse import Warehouse, open_warehouse

GOVERNANCE_TABLES = {
    "schema_version", "ledger", "models", "model_baselines", "drift_results", "drift_incidents",
    "approvals", "outbox",
}
LINEAGE_TABLES = {"table_lineage", "column_lineage"}
UAT_SCHEMAS = {"uat_retail", "uat_features", "uat_training", "uat_inference"}


def catalog_of(wh: Warehouse) -> tuple[set[str], set[tuple[str, str]]]:
    """(schemas, (schema, table) pairs) of the workspace file, read with raw DuckDB."""
    assert isinstance(wh, DuckDBWarehouse)
    con = duckdb.connect(str(wh.path), read_only=True)
    try:
        schemas = {r[0] for r in con.execute(
            "SELECT schema_name FROM information_schema.schemata WHERE catalog_name = "
            "current_database()").fetchall()}
        tables = {(r[0], r[1]) for r in con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables WHERE table_catalog "
            "= current_database()").fetchall()}
    finally:
        con.close()
    return schemas, tables


def version_rows(wh: Warehouse) -> list[tuple[int, str]]:
    assert isinstance(wh, DuckDBWarehouse)
    con = duckdb.connect(str(wh.path), read_only=True)
    try:
        return con.execute(
            "SELECT version, description FROM governance.schema_version").fetchall()
    finally:
        con.close()


@pytest.fixture
def empty(settings: Settings) -> Warehouse:
    """A brand-new workspace file with nothing in it."""
    return open_warehouse(settings, create=True)


def test_ddl_queries_are_the_ddl_files_in_order() -> None:
    """ddl_queries lists every ddl/ file in apply order."""
    names = schema.ddl_queries()

    assert ["ddl/001_schemas", "ddl/002_governance", "ddl/003_lineage"] == names[:3]
    assert sorted(names) == names
    assert all(n.startswith("ddl/") for n in names)


def test_ensure_schema_twice(empty: Warehouse) -> None:
    """The first call creates and records the version (True); the second is a no-op (False)."""
    with empty.session() as session:
        first = schema.ensure_schema(session)
    with empty.session() as session:
        second = schema.ensure_schema(session)

    assert (True, False) == (first, second)
    assert [(schema.SCHEMA_VERSION, schema.DESCRIPTION)] == version_rows(empty)


def test_ensure_schema_twice_in_one_session(empty: Warehouse) -> None:
    """Within one unit of work the second call also sees the recorded version."""
    with empty.session() as session:
        results = (schema.ensure_schema(session), schema.ensure_schema(session))

    assert (True, False) == results
    assert 1 == len(version_rows(empty))


def test_ensure_schema_creates_every_table(empty: Warehouse) -> None:
    """Governance and lineage tables and the four uat schemas exist; no prod schema does."""
    with empty.session() as session:
        schema.ensure_schema(session)

    schemas, tables = catalog_of(empty)

    assert {("governance", t) for t in GOVERNANCE_TABLES} <= tables
    assert {("lineage", t) for t in LINEAGE_TABLES} <= tables
    assert UAT_SCHEMAS <= schemas
    assert set() == {s for s in schemas if s.startswith("prod")}


def test_ensure_schema_keeps_existing_data(warehouse: Warehouse) -> None:
    """Re-running the DDL over a populated store keeps its rows (IF NOT EXISTS everywhere)."""
    with warehouse.session() as session:
        ledger.append(session, actor="system:t", environment="uat", event_type="x", subject="s")
    with warehouse.session() as session:
        assert schema.ensure_schema(session) is False
        assert 1 == session.fetch_scalar("ledger/count")
        assert ledger.verify(session).intact


def test_ensure_schema_rolls_back_with_the_session(empty: Warehouse) -> None:
    """A failing unit of work leaves no tables and no version behind."""
    def failing() -> None:
        with empty.session() as session:
            schema.ensure_schema(session)
            raise RuntimeError("boom after ddl")

    with pytest.raises(RuntimeError, match="boom after ddl"):
        failing()

    schemas, tables = catalog_of(empty)
    assert set() == {t for t in tables if t[0] in ("governance", "lineage")}
    assert "governance" not in schemas


def test_newer_recorded_version_is_not_downgraded(warehouse: Warehouse) -> None:
    """A store already at a newer version is left alone and no older version is recorded."""
    with warehouse.session() as session:
        session.execute("schema/record_version", {
            "version": schema.SCHEMA_VERSION + 1, "applied_at": datetime(2030, 1, 1),
            "description": "future",
        })
    with warehouse.session() as session:
        assert schema.ensure_schema(session) is False
        assert schema.SCHEMA_VERSION + 1 == schema.schema_version(session)

    assert 2 == len(version_rows(warehouse))


def test_schema_version_after_ensure(warehouse: Warehouse) -> None:
    """schema_version reports the recorded version as an int."""
    with warehouse.session() as session:
        version = schema.schema_version(session)

    assert (schema.SCHEMA_VERSION, int) == (version, type(version))


def test_schema_version_none_when_not_recorded(empty: Warehouse) -> None:
    """With the tables created but no version recorded, schema_version is None."""
    with empty.session() as session:
        for name in schema.ddl_queries():
            session.execute(name)
        assert schema.schema_version(session) is None


def test_schema_version_on_a_bare_workspace_is_a_query_error(empty: Warehouse) -> None:
    """On a file without the governance tables, schema_version fails with a reset hint."""
    with empty.session() as session, pytest.raises(QueryError, match="governance demo --reset"):
        schema.schema_version(session)
