"""The embedded DuckDB warehouse: workspace errors, units of work, locking, streaming, loading."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

from governance import envguard, ledger, schema
from governance.backends.duckdb import WORKSPACE_FILE, DuckDBSession, DuckDBWarehouse
from governance.errors import (
    ConfigError,
    EnvironmentViolation,
    GovernanceError,
    QueryError,
    WorkspaceBusy,
    WorkspaceError,
)
from governance.settings import Settings, load_settings
from governance.warehouse import Warehouse, open_warehouse

HOLDER = (
    "import duckdb, pathlib, sys, time\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "pathlib.Path(sys.argv[2]).touch()\n"
    "time.sleep(float(sys.argv[3]))\n"
    "con.close()\n"
)


def duck(wh: Warehouse) -> DuckDBWarehouse:
    assert isinstance(wh, DuckDBWarehouse)
    return wh


def raw(wh: Warehouse, statement: str) -> list[Any]:
    """Run raw SQL on the workspace file (outside any session)."""
    con = duckdb.connect(str(duck(wh).path))
    try:
        cur = con.execute(statement)
        return cur.fetchall() if cur.description else []
    finally:
        con.close()


def ledger_count(wh: Warehouse) -> int:
    with wh.session() as session:
        return int(session.fetch_scalar("ledger/count"))


def append(session: Any, subject: str = "s") -> ledger.LedgerEntry:
    return ledger.append(session, actor="system:test", environment="uat",
                         event_type="drift_detected", subject=subject)


def tables_in(wh: Warehouse, schema_name: str) -> set[str]:
    return {r[0] for r in raw(wh, "SELECT table_name FROM information_schema.tables "
                                  f"WHERE table_schema = '{schema_name}'")}


@contextmanager
def lock_held(path: Path, seconds: float, tmp_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Another process opens the DuckDB file and holds it for `seconds` (or until we leave)."""
    ready = tmp_path / "holder-ready"
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), str(ready), str(seconds)])
    try:
        deadline = time.monotonic() + 30
        while not ready.exists():
            if proc.poll() is not None:
                pytest.fail(f"lock holder exited early with {proc.returncode}")
            if time.monotonic() > deadline:
                pytest.fail("lock holder never became ready")
            time.sleep(0.01)
        yield proc
    finally:
        if proc.poll() is None:
            proc.terminate()
        proc.wait(timeout=10)


# --- opening the workspace -------------------------------------------------------------------


def test_missing_workspace_tells_how_to_create_it(settings: Settings) -> None:
    """Without create, a missing workspace is a WorkspaceError naming `python -m governance demo`.
    """
    with pytest.raises(WorkspaceError, match="no workspace at") as info:
        open_warehouse(settings)

    assert "python -m governance demo" in str(info.value)
    assert "GOV_HOME" in info.value.hint
    assert not settings.duckdb_dir.exists()


def test_create_makes_the_folder_and_uses_settings(settings: Settings) -> None:
    """With create, the folder exists; file path and lock timeout come from the settings."""
    wh = duck(open_warehouse(settings, create=True))

    assert settings.duckdb_dir / WORKSPACE_FILE == wh.path
    assert 2.0 == wh.lock_timeout
    assert settings.duckdb_dir.is_dir()
    assert f"DuckDB {wh.path}" == wh.describe()


def test_existing_workspace_opens_without_create(warehouse: Warehouse, settings: Settings) -> None:
    """Once created, the workspace opens without create and sees the same data."""
    with warehouse.session() as session:
        append(session)

    assert 1 == ledger_count(open_warehouse(settings))


def test_unknown_backend_is_a_config_error(settings: Settings) -> None:
    """open_warehouse refuses a backend it does not know."""
    bogus = Settings(home=settings.home, backend="oracle")

    with pytest.raises(ConfigError, match="GOV_BACKEND='oracle': unknown"):
        open_warehouse(bogus)


def corrupt_workspace(home: Path, lock_timeout: str = "2") -> Settings:
    settings = load_settings({"GOV_HOME": str(home), "GOV_LOCK_TIMEOUT": lock_timeout}, {})
    settings.duckdb_dir.mkdir(parents=True)
    (settings.duckdb_dir / WORKSPACE_FILE).write_bytes(b"this is not a duckdb file\x00" * 500)
    return settings


def session_count(wh: Warehouse) -> int:
    return ledger_count(wh)


def test_corrupt_workspace_is_a_workspace_error_with_reset_hint(tmp_path: Path) -> None:
    """A garbage workspace file fails fast with WorkspaceError and the reset hint."""
    wh = open_warehouse(corrupt_workspace(tmp_path / "home"))

    start = time.monotonic()
    with pytest.raises(WorkspaceError, match="not a valid DuckDB database file") as info:
        session_count(wh)

    assert WorkspaceError is type(info.value)
    assert "python -m governance demo --reset" in str(info.value)
    assert isinstance(info.value.__cause__, duckdb.Error)
    assert time.monotonic() - start < 1.0


def test_corrupt_workspace_under_a_path_containing_lock(tmp_path: Path) -> None:
    """A corrupt file in a folder named `blocked` is still a corrupt file, not a busy one."""
    wh = open_warehouse(corrupt_workspace(tmp_path / "blocked" / "home", lock_timeout="0.3"))

    with pytest.raises(WorkspaceError, match="not a valid DuckDB database file") as info:
        session_count(wh)

    assert WorkspaceError is type(info.value)


# --- units of work ---------------------------------------------------------------------------


def test_session_commits_on_success(warehouse: Warehouse) -> None:
    """Work done in a session that ends normally is visible to the next session."""
    with warehouse.session() as session:
        append(session, "a")
        append(session, "b")

    assert 2 == ledger_count(warehouse)


def test_session_rolls_back_on_exception(warehouse: Warehouse) -> None:
    """An exception inside the block rolls back every write of the block and propagates."""
    with warehouse.session() as session:
        append(session, "kept")

    def failing() -> None:
        with warehouse.session() as session:
            append(session, "lost-1")
            append(session, "lost-2")
            assert 3 == session.fetch_scalar("ledger/count")
            raise ValueError("state change failed")

    with pytest.raises(ValueError, match="state change failed"):
        failing()

    assert 1 == ledger_count(warehouse)
    assert [("kept",)] == raw(warehouse, "SELECT subject FROM governance.ledger")


def test_session_closes_its_connection(warehouse: Warehouse) -> None:
    """The connection is closed when the block ends, so the file is not held."""
    with warehouse.session() as session:
        pass
    assert isinstance(session, DuckDBSession)

    with pytest.raises(duckdb.ConnectionException, match="closed"):
        session._con.execute("SELECT 1")


def test_missing_params_fail_before_anything_runs(warehouse: Warehouse) -> None:
    """A mis-parameterised write raises QueryError naming the query and writes nothing."""
    with warehouse.session() as session:
        with pytest.raises(QueryError, match="'ledger/append': missing parameter"):
            session.execute("ledger/append", {"seq": 1})
        assert 0 == session.fetch_scalar("ledger/count")


def test_fetch_variants(warehouse: Warehouse) -> None:
    """fetch_rows gives dicts, fetch_df a DataFrame, fetch_scalar the first value or None."""
    with warehouse.session() as session:
        assert session.fetch_scalar("ledger/head") is None
        entry = append(session)
        rows = session.fetch_rows("ledger/head")
        frame = session.fetch_df("ledger/head")
        scalar = session.fetch_scalar("ledger/count")

    assert [{"seq": 1, "hash": entry.hash}] == rows
    assert ["seq", "hash"] == list(frame.columns)
    assert [(1, entry.hash)] == list(frame.itertuples(index=False, name=None))
    assert 1 == scalar


def test_fetch_of_a_multi_statement_query_is_refused(warehouse: Warehouse) -> None:
    """Row-returning calls need a one-statement query."""
    with warehouse.session() as session, pytest.raises(QueryError, match="must hold one statement"):
        session.fetch_rows("ddl/001_schemas")


def test_catalog_error_is_a_query_error_naming_the_query(warehouse: Warehouse) -> None:
    """A query on a dropped table raises QueryError naming the query, with the reset hint."""
    raw(warehouse, "DROP TABLE governance.ledger")

    with pytest.raises(QueryError, match=r"'ledger/count'.*ledger does not exist") as info:
        ledger_count(warehouse)

    assert "ledger/count" == info.value.query
    assert "--reset" in info.value.hint
    assert isinstance(info.value.__cause__, duckdb.CatalogException)


def test_other_engine_errors_are_query_errors_without_reset_hint(warehouse: Warehouse) -> None:
    """A constraint violation is a QueryError for that query, without the reset hint."""
    params = {"seq": 1, "event_time": ledger.utc_now(), "actor": "a", "environment": "uat",
              "event_type": "x", "subject": "s", "payload": "{}", "hash": "0" * 64}
    with warehouse.session() as session:
        session.execute("ledger/append", params)
        with pytest.raises(QueryError, match=r"'ledger/append'.*(?i:constraint)") as info:
            session.execute("ledger/append", params)

    assert "" == info.value.hint


# --- streaming -------------------------------------------------------------------------------


class SpyConnection:
    """Wraps a DuckDB connection and records the size of each fetchmany batch."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.batches: list[int] = []

    def execute(self, *args: Any) -> SpyConnection:
        self.con.execute(*args)
        return self

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        rows = self.con.fetchmany(size)
        self.batches.append(len(rows))
        return rows


def test_iterate_streams_in_batches(warehouse: Warehouse) -> None:
    """iterate fetches `batch` rows at a time, lazily, and yields every row in order."""
    with warehouse.session() as session:
        for i in range(25):
            append(session, str(i))
        assert isinstance(session, DuckDBSession)
        spy = SpyConnection(session._con)
        session._con = spy  # type: ignore[assignment]

        rows = session.iterate("ledger/all_entries", batch=10)
        first = next(rows)
        after_first = list(spy.batches)
        rest = list(rows)

    assert [10] == after_first
    assert [10, 10, 5, 0] == spy.batches
    assert list(range(1, 26)) == [first[0]] + [r[0] for r in rest]


def test_iterate_with_params(warehouse: Warehouse) -> None:
    """iterate binds parameters like the fetch calls."""
    with warehouse.session() as session:
        append(session, "a")
        ledger.append(session, actor="system:t", environment="uat", event_type="other",
                      subject="b")
        rows = list(session.iterate("ledger/latest_by_type", {"event_type": "other"}))

    assert ["b"] == [r[5] for r in rows]


def test_iterate_survives_or_refuses_interleaved_statements(warehouse: Warehouse) -> None:
    """Running a query while iterating either keeps the stream intact or raises QueryError."""
    with warehouse.session() as session:
        for i in range(5):
            append(session, str(i))
        seen = []
        try:
            for row in session.iterate("ledger/all_entries", batch=2):
                seen.append(row[0])
                session.fetch_scalar("ledger/count")
        except QueryError:
            return

    assert [1, 2, 3, 4, 5] == seen


# --- loading tables and the prod guard -------------------------------------------------------


def test_load_table_creates_and_replaces_a_uat_table(warehouse: Warehouse) -> None:
    """load_table writes uat.retail.sales as uat_retail.sales and replaces it on reload."""
    with warehouse.session() as session:
        session.load_table("uat.retail.sales", pd.DataFrame({"id": [1, 2, 3], "amt": [1.5, 2, 3]}))
    first = raw(warehouse, "SELECT id, amt FROM uat_retail.sales ORDER BY id")
    with warehouse.session() as session:
        session.load_table("uat.retail.sales", pd.DataFrame({"id": [9], "amt": [0.5]}))
    second = raw(warehouse, "SELECT id, amt FROM uat_retail.sales")

    assert [(1, 1.5), (2, 2.0), (3, 3.0)] == first
    assert [(9, 0.5)] == second


@pytest.mark.parametrize(
    "table", ["retail.sales", "dev.retail.sales", "uat.retail", "uat.retail.sales.x"]
)
def test_load_table_needs_an_env_schema_table_name(warehouse: Warehouse, table: str) -> None:
    """Names that are not <uat|prod>.<schema>.<table> are refused."""
    with warehouse.session() as session, pytest.raises(
        QueryError, match=r"is not an <env>\.<schema>\.<table> name"
    ):
        session.load_table(table, pd.DataFrame({"a": [1]}))


def create_prod_schemas(wh: Warehouse) -> None:
    with envguard.prod_writes("governance.demo.seed", "test setup"), wh.session() as session:
        session.execute("demo/prod_schemas")


def test_prod_query_without_grant_is_refused_and_creates_nothing(warehouse: Warehouse) -> None:
    """A prod-writing query without a grant raises EnvironmentViolation; no schema appears."""
    with warehouse.session() as session, pytest.raises(
        EnvironmentViolation, match="query 'demo/prod_schemas'"
    ):
        session.execute("demo/prod_schemas")

    schemas = {r[0] for r in raw(warehouse, "SELECT schema_name FROM information_schema.schemata")}
    assert set() == {s for s in schemas if s.startswith("prod")}


def test_prod_query_with_grant_runs(warehouse: Warehouse) -> None:
    """With a grant from an allowed caller the prod schemas are created."""
    create_prod_schemas(warehouse)

    schemas = {r[0] for r in raw(warehouse, "SELECT schema_name FROM information_schema.schemata")}
    assert {"prod_retail", "prod_features", "prod_training", "prod_inference"} <= schemas


def test_load_prod_table_without_grant_is_refused(warehouse: Warehouse) -> None:
    """load_table into prod without a grant raises EnvironmentViolation and creates nothing."""
    create_prod_schemas(warehouse)

    with warehouse.session() as session, pytest.raises(
        EnvironmentViolation, match=r"load table prod\.retail\.sales"
    ):
        session.load_table("prod.retail.sales", pd.DataFrame({"id": [1]}))

    assert set() == tables_in(warehouse, "prod_retail")


def test_load_prod_table_with_grant(warehouse: Warehouse) -> None:
    """Inside a grant the same load succeeds (the refusal above is the guard, not the schema)."""
    create_prod_schemas(warehouse)

    with envguard.prod_writes("governance.demo.seed", "t"), warehouse.session() as session:
        session.load_table("prod.retail.sales", pd.DataFrame({"id": [1]}))

    assert {"sales"} == tables_in(warehouse, "prod_retail")


def test_load_table_into_missing_schema_is_a_query_error(warehouse: Warehouse) -> None:
    """Loading into a schema that does not exist raises QueryError naming the schema."""
    with warehouse.session() as session, pytest.raises(QueryError, match="uat_nosuch"):
        session.load_table("uat.nosuch.sales", pd.DataFrame({"a": [1]}))


def test_identifier_table_parameter_runs_on_duckdb(warehouse: Warehouse) -> None:
    """A query reading IDENTIFIER(:log_table) runs against the mapped uat table."""
    frame = pd.DataFrame({
        "event_date": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-02"]).date,
        "label": [1.0, None, 0.0],
        "prediction": [0.5, 0.25, 0.75],
    })
    with warehouse.session() as session:
        session.load_table("uat.inference.demo_log", frame)
        rows = session.fetch_rows("inference/latest_window",
                                  {"log_table": "uat.inference.demo_log"})

    assert 1 == len(rows)
    assert (2, 1, 0.5) == (rows[0]["n_rows"], rows[0]["labelled_rows"],
                           rows[0]["mean_prediction"])


# --- locking and concurrency -----------------------------------------------------------------


def test_lock_held_by_another_process_is_workspace_busy(
    warehouse: Warehouse, tmp_path: Path
) -> None:
    """While another process holds the file, a 0.5 s budget ends in WorkspaceBusy naming its PID."""
    impatient = DuckDBWarehouse(duck(warehouse).path, lock_timeout=0.5)

    with lock_held(impatient.path, 3.0, tmp_path) as holder:
        start = time.monotonic()
        with pytest.raises(
            WorkspaceBusy, match=rf"locked by process {holder.pid} for 0\.5s"
        ) as info:
            session_count(impatient)
        elapsed = time.monotonic() - start

    assert 0.5 <= elapsed < 2.5
    assert "GOV_LOCK_TIMEOUT" in info.value.hint
    assert isinstance(info.value, WorkspaceError)


def test_lock_released_within_budget_is_retried(warehouse: Warehouse, tmp_path: Path) -> None:
    """A holder that lets go after ~0.5 s is waited for: the session then succeeds."""
    patient = DuckDBWarehouse(duck(warehouse).path, lock_timeout=5.0)

    with lock_held(patient.path, 0.5, tmp_path):
        start = time.monotonic()
        count = session_count(patient)
        elapsed = time.monotonic() - start

    assert 0 == count
    assert 0.2 <= elapsed < 5.0


def concurrent_appends(wh: Warehouse) -> dict[str, BaseException | None]:
    """Two threads append at once: A holds its transaction open while B appends and commits."""
    a_appended, b_done = threading.Event(), threading.Event()
    outcome: dict[str, BaseException | None] = {}

    def a() -> None:
        try:
            with wh.session() as session:
                append(session, "a")
                a_appended.set()
                b_done.wait(timeout=10)
            outcome["a"] = None
        except BaseException as exc:  # reported to the test thread
            outcome["a"] = exc
        finally:
            a_appended.set()

    def b() -> None:
        a_appended.wait(timeout=10)
        try:
            with wh.session() as session:
                append(session, "b")
            outcome["b"] = None
        except BaseException as exc:  # reported to the test thread
            outcome["b"] = exc
        finally:
            b_done.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=20)
    return outcome


def test_concurrent_appends_never_fork_the_chain(warehouse: Warehouse) -> None:
    """Two racing appends for the same seq: exactly one commits and the chain stays intact."""
    with warehouse.session() as session:
        append(session, "base")

    outcome = concurrent_appends(warehouse)

    assert 1 == sum(e is None for e in outcome.values())
    with warehouse.session() as session:
        result = ledger.verify(session)
    assert (True, 2) == (result.intact, result.entries)


def test_losing_concurrent_append_is_a_governance_error(warehouse: Warehouse) -> None:
    """The writer that loses the race gets a GovernanceError, not a raw DuckDB exception."""
    outcome = concurrent_appends(warehouse)

    errors = [e for e in outcome.values() if e is not None]
    assert 1 == len(errors)
    assert isinstance(errors[0], GovernanceError)


def test_ensure_schema_is_safe_on_an_existing_file(warehouse: Warehouse) -> None:
    """Reopening an initialised workspace and ensuring the schema again is a no-op."""
    with warehouse.session() as session:
        assert schema.ensure_schema(session) is False
