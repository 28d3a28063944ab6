"""Unit tests of the Databricks SQL backend against a FAKE connection.

No Databricks workspace is reachable from these machines, so nothing here talks to a warehouse:
the module's connection seam ``governance.backends.databricks._connect`` is replaced by
:class:`FakeDriver`, which records the keyword arguments of every connect, the SQL text and
parameters every ``cursor.execute`` receives, and answers with canned rows. The tests check what
Driftgate *sends* (rendered SQL, bound parameters, connect arguments) and how it maps the real
connector's exception classes, not how a real warehouse answers.
"""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from databricks.sql import exc as dbexc

from governance import envguard
from governance.backends import databricks as backend
from governance.backends.databricks import DatabricksWarehouse
from governance.errors import BackendUnavailable, ConfigError, EnvironmentViolation, QueryError
from governance.settings import Settings, load_settings
from governance.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[3]
HOST = "adb-1234567890123456.7.azuredatabricks.net"
HTTP_PATH = "/sql/1.0/warehouses/abc123"
TOKEN = "dapi-SECRET-token-0123456789"
CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "dose-SECRET-client-9876543210"
COLUMNS = ("seq", "hash")
ROWS = [(1, "h1"), (2, "h2"), (3, "h3"), (4, "h4"), (5, "h5")]
ENTRIES_PARAMS = {"event_type": "x", "since": datetime(2024, 1, 2, 3, 4, 5), "max_rows": 5}


# --- the fake connector ------------------------------------------------------------------------


class FakeCursor:
    """Stands in for ``databricks.sql.client.Cursor``: records executes, serves canned rows."""

    def __init__(self, driver: FakeDriver) -> None:
        self.driver = driver
        self.closed = False
        self.description: list[tuple[Any, ...]] | None = None
        self._pending: list[tuple[Any, ...]] = []

    def execute(self, operation: str, parameters: dict[str, Any] | None = None) -> FakeCursor:
        self.driver.executed.append((operation, parameters))
        if self.driver.execute_error is not None:
            raise self.driver.execute_error
        self.description = [
            (c, "string", None, None, None, None, True) for c in self.driver.columns
        ]
        self._pending = list(self.driver.rows)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows, self._pending = self._pending, []
        return rows

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        self.driver.fetch_sizes.append(size)
        rows, self._pending = self._pending[:size], self._pending[size:]
        return rows

    def close(self) -> None:
        self.closed = True
        if self.driver.close_error is not None:
            raise self.driver.close_error


class FakeConnection:
    """Stands in for ``databricks.sql.client.Connection``."""

    def __init__(self, driver: FakeDriver) -> None:
        self.driver = driver
        self.cursors: list[FakeCursor] = []
        self.closed = False

    def cursor(self) -> FakeCursor:
        cursor = FakeCursor(self.driver)
        self.cursors.append(cursor)
        return cursor

    def close(self) -> None:
        self.closed = True


@dataclass
class FakeDriver:
    """Replaces ``_connect``; every attribute is something a test sets or inspects."""

    columns: tuple[str, ...] = COLUMNS
    rows: list[tuple[Any, ...]] = field(default_factory=lambda: list(ROWS))
    connect_error: BaseException | None = None
    execute_error: BaseException | None = None
    close_error: BaseException | None = None
    connects: list[dict[str, Any]] = field(default_factory=list)
    connections: list[FakeConnection] = field(default_factory=list)
    executed: list[tuple[str, dict[str, Any] | None]] = field(default_factory=list)
    fetch_sizes: list[int] = field(default_factory=list)
    header_factory: Callable[[], dict[str, str]] | None = None

    def connect(self, **kwargs: Any) -> FakeConnection:
        self.connects.append(kwargs)
        if "credentials_provider" in kwargs:
            # The real connector calls the provider once while opening the session
            # (ExternalAuthProvider) and keeps the header factory it returns.
            self.header_factory = kwargs["credentials_provider"]()
        if self.connect_error is not None:
            raise self.connect_error
        connection = FakeConnection(self)
        self.connections.append(connection)
        return connection

    @property
    def statements(self) -> list[str]:
        return [sql for sql, _ in self.executed]


@dataclass
class FakeSdk:
    """Stands in for databricks-sdk's ``Config`` and ``oauth_service_principal`` (no network)."""

    configs: list[dict[str, Any]] = field(default_factory=list)
    oidc_available: bool = True

    def config(self, **kwargs: Any) -> dict[str, Any]:
        self.configs.append(kwargs)
        return kwargs

    def oauth_service_principal(self, cfg: dict[str, Any]) -> Callable[[], dict[str, str]] | None:
        if not self.oidc_available:
            return None
        return lambda: {"Authorization": "Bearer from-fake-sdk"}


@pytest.fixture
def driver(monkeypatch: pytest.MonkeyPatch) -> FakeDriver:
    """The fake connector, installed in place of ``_connect``."""
    fake = FakeDriver()
    monkeypatch.setattr(backend, "_connect", fake.connect)
    return fake


@pytest.fixture
def fake_sdk(monkeypatch: pytest.MonkeyPatch) -> FakeSdk:
    """A fake SDK, so the OAuth provider can be called without reaching a workspace."""
    import databricks.sdk.core as sdk_core

    fake = FakeSdk()
    monkeypatch.setattr(sdk_core, "Config", fake.config)
    monkeypatch.setattr(sdk_core, "oauth_service_principal", fake.oauth_service_principal)
    return fake


@pytest.fixture
def host_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """DATABRICKS_HOST as the workspace URL is usually copied: with scheme and slash."""
    monkeypatch.setenv("DATABRICKS_HOST", f"https://{HOST}/")


def make_settings(**overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "backend": "databricks",
        "databricks_http_path": HTTP_PATH,
        "databricks_token": TOKEN,
        "governance_catalog": "gov_cat",
        "uat_catalog": "uat_cat",
        "prod_catalog": "prod_cat",
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def warehouse(host_env: None) -> DatabricksWarehouse:
    """A token-authenticated warehouse with catalogs gov_cat, uat_cat, prod_cat.

    Overrides the DuckDB ``warehouse`` fixture of tests/conftest.py for this module.
    """
    return DatabricksWarehouse.from_settings(make_settings())


@pytest.fixture
def session(
    warehouse: DatabricksWarehouse, driver: FakeDriver
) -> Iterator[backend.DatabricksSession]:
    """An open unit of work on the fake connection."""
    with warehouse.session() as s:
        yield s


def _first_line_of(error: BaseException) -> str:
    return (getattr(error, "message", None) or str(error)).replace(TOKEN, "***").splitlines()[0]


def run(session: backend.DatabricksSession, method: str, name: str, params: Any = None) -> Any:
    """Call a Session method by name; drain ``iterate`` so its generator actually runs."""
    result = getattr(session, method)(name, params)
    return list(result) if method == "iterate" else result


# --- rendering and parameters ------------------------------------------------------------------


def test_named_query_is_sent_as_databricks_sql_with_bound_parameters(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """ledger/entries reaches the (fake) cursor with :name markers and the params dict as is."""
    rows = session.fetch_rows("ledger/entries", ENTRIES_PARAMS)

    assert rows == [dict(zip(COLUMNS, r, strict=True)) for r in ROWS]
    ((statement, parameters),) = driver.executed
    assert "FROM gov_cat.governance.ledger" in statement
    for marker in (":event_type", ":since", ":max_rows"):
        assert marker in statement
    # Values are bound by the driver, never formatted into the text.
    assert "2024-01-02" not in statement
    assert "'x'" not in statement
    assert parameters == ENTRIES_PARAMS
    assert parameters is not None
    assert parameters["since"] is ENTRIES_PARAMS["since"]


def test_query_without_parameters_sends_none(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """ledger/head binds nothing: the connector gets ``parameters=None`` (no native params)."""
    assert session.fetch_rows("ledger/head") == [dict(zip(COLUMNS, r, strict=True)) for r in ROWS]
    ((statement, parameters),) = driver.executed
    # The file's leading comment is kept by sqlglot as /* ... */; the statement follows it.
    assert statement.endswith(
        "SELECT seq, hash FROM gov_cat.governance.ledger ORDER BY seq DESC LIMIT 1"
    )
    assert parameters is None


def test_insert_targets_the_governance_catalog(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """schema/record_version writes gov_cat.governance.schema_version with bound values."""
    params = {"version": 1, "applied_at": datetime(2024, 5, 6), "description": "x'); DROP --"}
    session.execute("schema/record_version", params)

    ((statement, parameters),) = driver.executed
    assert "INSERT INTO gov_cat.governance.schema_version" in statement
    assert "VALUES (:version, :applied_at, :description)" in statement
    assert "DROP" not in statement
    assert parameters == params


def test_uat_names_go_to_the_uat_catalog(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """ddl/001_schemas creates uat.* schemas in the configured uat catalog, one statement each."""
    session.execute("ddl/001_schemas")

    created = [s for s in driver.statements if "uat" in s]
    assert created == [
        f"CREATE SCHEMA IF NOT EXISTS uat_cat.{name}"
        for name in ("retail", "features", "training", "inference", "evaluation")
    ]


def test_prod_write_is_refused_before_any_sql_is_sent(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """demo/prod_schemas without a prod-write grant raises and the fake cursor sees nothing."""
    with pytest.raises(EnvironmentViolation, match="demo/prod_schemas"):
        session.execute("demo/prod_schemas")
    assert driver.executed == []


def test_prod_write_with_grant_goes_to_the_prod_catalog(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """Under the demo seed's grant, prod.* schemas land in the configured prod catalog."""
    with envguard.prod_writes("governance.demo.seed", "unit test"):
        session.execute("demo/prod_schemas")

    assert [s.split("*/")[-1].strip() for s in driver.statements] == [
        f"CREATE SCHEMA IF NOT EXISTS prod_cat.{name}"
        for name in ("retail", "features", "training", "inference")
    ]
    assert all(p is None for _, p in driver.executed)


@pytest.mark.parametrize("method", ["fetch_rows", "iterate"])
def test_identifier_parameter_is_substituted_not_bound(
    session: backend.DatabricksSession, driver: FakeDriver, method: str
) -> None:
    """IDENTIFIER(:log_table) becomes the mapped table name; no value is bound for it."""
    run(session, method, "inference/latest_window", {"log_table": "uat.inference.demand_forecast"})

    ((statement, parameters),) = driver.executed
    assert statement.count("FROM uat_cat.inference.demand_forecast") == 2
    assert ":log_table" not in statement.split("*/")[-1]
    assert parameters is None


# --- reading rows ------------------------------------------------------------------------------


def test_fetch_df_and_scalar_return_the_canned_rows(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """fetch_df and fetch_scalar read what the fake cursor returns."""
    frame = session.fetch_df("ledger/head")
    pd.testing.assert_frame_equal(frame, pd.DataFrame(ROWS, columns=list(COLUMNS)))
    assert session.fetch_scalar("ledger/head") == 1


def test_fetch_on_empty_result(session: backend.DatabricksSession, driver: FakeDriver) -> None:
    """An empty result gives no rows, an empty frame with the columns, and a None scalar."""
    driver.rows = []
    assert session.fetch_rows("ledger/head") == []
    assert list(session.fetch_df("ledger/head").columns) == list(COLUMNS)
    assert session.fetch_scalar("ledger/head") is None


def test_iterate_streams_with_fetchmany_on_its_own_cursor(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """iterate pulls batches with fetchmany(batch) and closes the cursor it opened."""
    got = list(session.iterate("ledger/entries", ENTRIES_PARAMS, batch=2))

    assert got == ROWS
    assert driver.fetch_sizes == [2, 2, 2, 2]  # 2 + 2 + 1 rows, then the empty batch
    ((_, parameters),) = driver.executed
    assert parameters == ENTRIES_PARAMS
    connection = driver.connections[0]
    session_cursor, stream_cursor = connection.cursors
    assert stream_cursor.closed
    assert not session_cursor.closed  # the session's own cursor lives until the block ends


@pytest.mark.parametrize(
    ("params", "problem"),
    [
        ({"event_type": "x", "since": datetime(2024, 1, 1)}, "missing parameter(s) max_rows"),
        ({**ENTRIES_PARAMS, "limit": 3}, "unknown parameter(s) limit"),
    ],
)
@pytest.mark.parametrize("method", ["execute", "fetch_rows", "fetch_df", "iterate"])
def test_bad_parameters_raise_before_anything_is_sent(
    session: backend.DatabricksSession,
    driver: FakeDriver,
    method: str,
    params: dict[str, Any],
    problem: str,
) -> None:
    """A missing or unknown parameter names the query and nothing reaches the fake cursor."""
    with pytest.raises(QueryError, match="ledger/entries") as info:
        run(session, method, "ledger/entries", params)
    assert info.value.query == "ledger/entries"
    assert problem in str(info.value)
    assert driver.executed == []


# --- connecting --------------------------------------------------------------------------------


def test_token_connect_arguments(warehouse: DatabricksWarehouse, driver: FakeDriver) -> None:
    """With a token: bare hostname, http path, gov catalog + governance schema, access_token."""
    with warehouse.session():
        pass

    (kwargs,) = driver.connects
    assert kwargs["server_hostname"] == HOST
    assert kwargs["http_path"] == HTTP_PATH
    assert kwargs["catalog"] == "gov_cat"
    assert kwargs["schema"] == "governance"
    assert kwargs["access_token"] == TOKEN
    assert "credentials_provider" not in kwargs


def test_oauth_m2m_connect_arguments(
    monkeypatch: pytest.MonkeyPatch, host_env: None, driver: FakeDriver, fake_sdk: FakeSdk
) -> None:
    """Without a token the (fake) connector gets a credentials_provider built on the SDK Config.

    DATABRICKS_CLIENT_ID/SECRET are what a Databricks App injects for its service principal,
    so this is also the App path. The SDK is faked: no OIDC discovery happens.
    """
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", CLIENT_SECRET)
    warehouse = DatabricksWarehouse.from_settings(make_settings(databricks_token=""))

    with warehouse.session():
        pass

    (kwargs,) = driver.connects
    assert "access_token" not in kwargs
    assert callable(kwargs["credentials_provider"])
    assert kwargs["server_hostname"] == HOST
    assert (kwargs["catalog"], kwargs["schema"]) == ("gov_cat", "governance")
    assert fake_sdk.configs == [
        {
            "host": f"https://{HOST}",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "auth_type": "oauth-m2m",
        }
    ]
    assert driver.header_factory is not None
    assert driver.header_factory() == {"Authorization": "Bearer from-fake-sdk"}


def test_oauth_without_oidc_endpoints_is_backend_unavailable(
    monkeypatch: pytest.MonkeyPatch, host_env: None, driver: FakeDriver, fake_sdk: FakeSdk
) -> None:
    """If the SDK finds no OAuth endpoint on the host, connecting fails with a clear error."""
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", CLIENT_SECRET)
    fake_sdk.oidc_available = False
    warehouse = DatabricksWarehouse.from_settings(make_settings(databricks_token=""))

    with (
        pytest.raises(BackendUnavailable, match="no OAuth endpoint") as info,
        warehouse.session(),
    ):
        pytest.fail("the session must not open")
    assert CLIENT_SECRET not in str(info.value)


def test_token_takes_precedence_over_client_credentials(
    monkeypatch: pytest.MonkeyPatch, host_env: None, driver: FakeDriver
) -> None:
    """GOV_DATABRICKS_TOKEN wins when client credentials are also present."""
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", CLIENT_SECRET)
    with DatabricksWarehouse.from_settings(make_settings()).session():
        pass
    (kwargs,) = driver.connects
    assert kwargs["access_token"] == TOKEN
    assert "credentials_provider" not in kwargs


def test_open_warehouse_selects_databricks(host_env: None) -> None:
    """GOV_BACKEND=databricks makes open_warehouse build this backend (nothing connects)."""
    settings = load_settings(
        {
            "GOV_BACKEND": "databricks",
            "GOV_DATABRICKS_HTTP_PATH": HTTP_PATH,
            "GOV_DATABRICKS_TOKEN": TOKEN,
        },
        {},
    )
    warehouse = open_warehouse(settings)
    assert isinstance(warehouse, DatabricksWarehouse)
    assert warehouse.describe() == f"Databricks SQL {HOST} {HTTP_PATH} (catalog governance)"


# --- configuration errors and secrets ----------------------------------------------------------


def test_config_error_lists_every_missing_piece_at_once() -> None:
    """No host, no http path, no credentials: one ConfigError with three problems."""
    settings = load_settings({"GOV_BACKEND": "databricks"}, {})
    with pytest.raises(ConfigError) as info:
        open_warehouse(settings)

    problems = info.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("DATABRICKS_HOST")
    assert problems[1].startswith("GOV_DATABRICKS_HTTP_PATH")
    assert problems[2].startswith("credentials")
    for var in ("GOV_DATABRICKS_TOKEN", "DATABRICKS_CLIENT_ID", "DATABRICKS_CLIENT_SECRET"):
        assert var in problems[2]


def test_config_error_for_half_oauth_names_the_missing_variable_not_the_secret(
    monkeypatch: pytest.MonkeyPatch, host_env: None
) -> None:
    """Only the client secret set: the error asks for the client id and never shows the secret."""
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", CLIENT_SECRET)
    with pytest.raises(ConfigError) as info:
        DatabricksWarehouse.from_settings(make_settings(databricks_token=""))

    (problem,) = info.value.problems
    assert "missing: DATABRICKS_CLIENT_ID)" in problem
    assert CLIENT_SECRET not in str(info.value)


def test_config_error_never_shows_the_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token is set but the host is not: the error lists the host only, token hidden."""
    with pytest.raises(ConfigError) as info:
        DatabricksWarehouse.from_settings(make_settings(databricks_http_path=""))
    assert len(info.value.problems) == 2
    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)


def test_empty_catalog_setting_is_a_config_problem(host_env: None) -> None:
    """An empty catalog name would render broken SQL, so it is refused up front."""
    with pytest.raises(ConfigError, match="GOV_PROD_CATALOG: must not be empty"):
        DatabricksWarehouse.from_settings(make_settings(prod_catalog=""))


def test_secrets_stay_out_of_repr_and_describe(
    monkeypatch: pytest.MonkeyPatch, host_env: None
) -> None:
    """repr() and describe() show host, path and catalog, never the token or client secret."""
    monkeypatch.setenv("DATABRICKS_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("DATABRICKS_CLIENT_SECRET", CLIENT_SECRET)
    for settings in (make_settings(), make_settings(databricks_token="")):
        warehouse = DatabricksWarehouse.from_settings(settings)
        for text in (repr(warehouse), str(warehouse), warehouse.describe()):
            assert TOKEN not in text
            assert CLIENT_SECRET not in text
        assert HOST in repr(warehouse)
        assert warehouse.describe() == f"Databricks SQL {HOST} {HTTP_PATH} (catalog gov_cat)"


# --- error mapping -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["execute", "fetch_rows", "fetch_df", "iterate"])
def test_connector_error_becomes_query_error_with_cause(
    session: backend.DatabricksSession, driver: FakeDriver, method: str
) -> None:
    """A (real) connector exception raised by the fake cursor maps to QueryError, chain kept."""
    error = dbexc.ServerOperationError(
        "[TABLE_OR_VIEW_NOT_FOUND] The table `gov_cat`.`governance`.`ledger` cannot be found.\n"
        "\tat org.apache.spark.sql.catalyst.analysis ..."
    )
    driver.execute_error = error

    with pytest.raises(QueryError) as info:
        run(session, method, "ledger/head")

    assert info.value.query == "ledger/head"
    assert "TABLE_OR_VIEW_NOT_FOUND" in str(info.value)
    assert "org.apache" not in str(info.value)
    assert info.value.__cause__ is error


def test_connector_error_without_message(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """The connector's Error may carry message=None; the QueryError still reads sensibly."""
    driver.execute_error = dbexc.OperationalError()
    with pytest.raises(QueryError, match="OperationalError"):
        session.fetch_rows("ledger/head")


@pytest.mark.parametrize(
    "error",
    [
        dbexc.RequestError(f"Error during request to server: 403 for token {TOKEN}"),
        socket.gaierror(-2, "Name or service not known"),
        ValueError("oauth-m2m auth: cannot get access token"),
    ],
    ids=["connector", "network", "sdk"],
)
def test_connect_failure_is_backend_unavailable(
    warehouse: DatabricksWarehouse, driver: FakeDriver, error: BaseException
) -> None:
    """A failing (fake) connect names host and http path, keeps the cause, hides the token."""
    driver.connect_error = error

    with pytest.raises(BackendUnavailable) as info, warehouse.session():
        pytest.fail("the session must not open")

    message = str(info.value)
    assert message.startswith(f"cannot connect to Databricks SQL warehouse {HTTP_PATH} on {HOST}")
    assert _first_line_of(error) in message
    assert HTTP_PATH in message
    assert TOKEN not in message
    assert info.value.__cause__ is error


def test_missing_connector_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch, warehouse: DatabricksWarehouse, driver: FakeDriver
) -> None:
    """Without databricks-sql-connector the session says how to install it and never connects."""
    import databricks

    monkeypatch.delattr(databricks, "sql", raising=False)
    monkeypatch.setitem(sys.modules, "databricks.sql", None)

    with (
        pytest.raises(ConfigError, match="pip install databricks-sql-connector"),
        warehouse.session(),
    ):
        pytest.fail("the session must not open")
    assert driver.connects == []


def test_module_import_does_not_import_the_connector() -> None:
    """Importing the backend (e.g. for the DuckDB-only app) must not pull in databricks.sql."""
    code = (
        "import sys, governance.backends.databricks\n"
        "assert 'databricks.sql' not in sys.modules, 'connector imported eagerly'\n"
        "assert 'databricks.sdk' not in sys.modules, 'sdk imported eagerly'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


# --- unit of work ------------------------------------------------------------------------------


def test_session_closes_cursor_and_connection_on_success(
    warehouse: DatabricksWarehouse, driver: FakeDriver
) -> None:
    """Normal exit closes the (fake) cursor and connection."""
    with warehouse.session() as s:
        s.fetch_rows("ledger/head")
    (connection,) = driver.connections
    assert connection.closed
    assert all(c.closed for c in connection.cursors)


def test_session_closes_cursor_and_connection_when_the_body_raises(
    warehouse: DatabricksWarehouse, driver: FakeDriver
) -> None:
    """An exception in the block still closes both, and is re-raised unchanged."""

    def body_that_raises() -> None:
        with warehouse.session() as s:
            s.fetch_rows("ledger/head")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        body_that_raises()
    (connection,) = driver.connections
    assert connection.closed
    assert connection.cursors
    assert all(c.closed for c in connection.cursors)


def test_failing_close_does_not_hide_the_body_error(
    warehouse: DatabricksWarehouse, driver: FakeDriver
) -> None:
    """A connector error while closing the cursor is logged; the body's exception wins."""
    driver.close_error = dbexc.OperationalError("connection reset")
    with pytest.raises(RuntimeError, match="boom"), warehouse.session():
        raise RuntimeError("boom")
    assert driver.connections[0].closed


# --- load_table --------------------------------------------------------------------------------


def test_load_table_into_prod_hits_the_prod_guard_first(
    session: backend.DatabricksSession, driver: FakeDriver
) -> None:
    """A prod target raises EnvironmentViolation (not the not-supported error)."""
    with pytest.raises(EnvironmentViolation, match=r"prod\.retail\.sales"):
        session.load_table("prod.retail.sales", pd.DataFrame({"a": [1]}))
    assert driver.executed == []


def test_load_table_is_demo_only(session: backend.DatabricksSession, driver: FakeDriver) -> None:
    """Elsewhere load_table refuses with a QueryError naming the embedded demo workspace."""
    with pytest.raises(QueryError, match="only for the embedded demo workspace") as info:
        session.load_table("uat.retail.sales", pd.DataFrame({"a": [1]}))
    assert info.value.query == "load_table"
    assert driver.executed == []
