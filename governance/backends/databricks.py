"""The scale-out warehouse: a Databricks SQL warehouse through databricks-sql-connector.

The connector (and, for OAuth, databricks-sdk) is imported only when a unit of work connects, so
the embedded DuckDB path never needs either package. Every connection goes through the module
function :func:`_connect`, the one seam the unit tests replace with a fake connection because no
Databricks workspace is reachable from CI.

Authentication, in order of preference:

* ``GOV_DATABRICKS_TOKEN``: a personal access token (or a Databricks Apps on-behalf-of user
  token), sent as ``access_token``;
* otherwise OAuth M2M as a service principal, through the SDK's unified auth:
  ``Config(host, client_id, client_secret)`` with ``oauth_service_principal`` handed to the
  connector as ``credentials_provider``. ``DATABRICKS_CLIENT_ID`` / ``DATABRICKS_CLIENT_SECRET``
  are the variables a Databricks App has injected for its own service principal, so the same
  code path serves an App and a job.

Secrets live only in fields excluded from ``repr`` and never appear in messages or log lines.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Protocol

import numpy as np
import pandas as pd

from governance.errors import BackendUnavailable, ConfigError, QueryError
from governance.settings import Settings, env_name
from governance.warehouse import Params, Session, Warehouse

logger = logging.getLogger(__name__)

GOV_SCHEMA = "governance"
"""Schema of Driftgate's own tables inside the governance catalog (fixed by the query files)."""

USER_AGENT = "driftgate"
_CONNECTOR_PACKAGE = "databricks-sql-connector"
_SDK_PACKAGE = "databricks-sdk"
_SETTINGS_HINT = "fix the listed settings (see docs/settings.md)"

HeaderFactory = Callable[[], dict[str, str]]
"""What the connector calls before every request to get the ``Authorization`` header."""


class _Cursor(Protocol):
    """The DB-API subset of ``databricks.sql.client.Cursor`` this backend uses."""

    @property
    def description(self) -> Sequence[Sequence[Any]] | None: ...

    def execute(self, operation: str, parameters: dict[str, Any] | None = None) -> Any: ...

    def fetchall(self) -> Sequence[tuple[Any, ...]]: ...

    def fetchmany(self, size: int) -> Sequence[tuple[Any, ...]]: ...

    def fetchall_arrow(self) -> Any: ...

    def close(self) -> None: ...


class _Connection(Protocol):
    """The DB-API subset of ``databricks.sql.client.Connection`` this backend uses."""

    def cursor(self) -> _Cursor: ...

    def close(self) -> None: ...


def _import_connector() -> ModuleType:
    """Import ``databricks.sql`` on first use.

    Raises:
        ConfigError: The connector is not installed.
    """
    try:
        from databricks import sql as dbsql
    except ImportError as exc:
        raise ConfigError(
            [f"GOV_BACKEND=databricks needs the {_CONNECTOR_PACKAGE} package, which is missing"],
            hint=f"pip install {_CONNECTOR_PACKAGE}",
        ) from exc
    return dbsql


def _driver_error() -> type[Exception]:
    """Return the connector's base exception class, ``databricks.sql.exc.Error``.

    Raises:
        ConfigError: The connector is not installed.
    """
    _import_connector()
    from databricks.sql import exc

    error: type[Exception] = exc.Error
    return error


def _connect(**kwargs: Any) -> _Connection:
    """Open a connector connection; the seam unit tests replace with a fake.

    Raises:
        ConfigError: The connector is not installed.
    """
    dbsql = _import_connector()
    connection: _Connection = dbsql.connect(**kwargs)
    return connection


def _oauth_credentials_provider(
    host: str, client_id: str, client_secret: str
) -> Callable[[], HeaderFactory]:
    """Build the connector's ``credentials_provider`` for a service principal (OAuth M2M).

    This is the pattern of the connector's ``examples/m2m_oauth.py``: the SDK ``Config`` holds
    the host and client credentials and ``oauth_service_principal`` turns it into a header
    factory that fetches and refreshes the one-hour tokens.

    Raises:
        ConfigError: databricks-sdk is not installed.
    """
    try:
        from databricks.sdk.core import Config, oauth_service_principal
    except ImportError as exc:
        raise ConfigError(
            [f"OAuth M2M needs the {_SDK_PACKAGE} package, which is missing"],
            hint=f"pip install {_SDK_PACKAGE} (or set GOV_DATABRICKS_TOKEN)",
        ) from exc

    def provider() -> HeaderFactory:
        # Built when the connector calls it, not before: Config() resolves the workspace's
        # OIDC endpoints over the network. auth_type pins the strategy so a stray
        # DATABRICKS_TOKEN in the environment cannot make the SDK refuse "more than one
        # authorization method".
        config = Config(
            host=f"https://{host}",
            client_id=client_id,
            client_secret=client_secret,
            auth_type="oauth-m2m",
        )
        factory: HeaderFactory | None = oauth_service_principal(config)
        if factory is None:
            # The SDK returns None when the host publishes no OIDC endpoints; ValueError is
            # what the SDK itself raises for unusable auth, so _open() reports both alike.
            raise ValueError(f"{host} offers no OAuth endpoint for service principals")
        return factory

    return provider


def _first_line(exc: BaseException) -> str:
    # The connector's Error.__str__ returns its ``message`` attribute, which may be None
    # (str() would then raise TypeError), and server errors append a long Spark stack trace.
    message = getattr(exc, "message", None)
    if not isinstance(message, str):
        try:
            message = str(exc)
        except TypeError:  # a connector Error whose message is None
            message = ""
    lines = message.strip().splitlines()
    return lines[0] if lines else type(exc).__name__


class DatabricksSession(Session):
    """A unit of work on one Databricks SQL connection.

    Databricks SQL has no multi-statement transaction here: every statement commits on its own
    as soon as it finishes, and nothing is rolled back when the ``with`` block raises. Writers
    that run several statements must be safe to re-run (``IF NOT EXISTS``, ``MERGE``).

    Args:
        connection: The open connection; owned by :meth:`DatabricksWarehouse.session`.
        cursor: The cursor for statements whose rows are read at once.
        catalogs: Real catalog of each logical one (``gov``, ``uat``, ``prod``).
        driver_error: The connector's base exception class, mapped to :class:`QueryError`.
    """

    dialect = "databricks"

    def __init__(
        self,
        connection: _Connection,
        cursor: _Cursor,
        catalogs: Mapping[str, str],
        driver_error: type[Exception],
    ) -> None:
        self._connection = connection
        self._cursor = cursor
        self._catalog_map = dict(catalogs)
        self._driver_error = driver_error

    def _catalogs(self) -> Mapping[str, str]:
        return self._catalog_map

    def _run(
        self, name: str, statement: str, params: Params, *, fetch: bool
    ) -> tuple[Sequence[str], Sequence[tuple[Any, ...]]]:
        try:
            # Native parameters (connector >= 3.0): the rendered SQL keeps :name markers and
            # the values travel separately, so nothing is ever formatted into the text.
            self._cursor.execute(statement, parameters=dict(params) if params else None)
            if not fetch:
                return (), ()
            columns = [d[0] for d in self._cursor.description or ()]
            return columns, self._cursor.fetchall()
        except self._driver_error as exc:
            raise QueryError(name, _first_line(exc)) from exc

    def describe(self, name: str, params: Params | None = None) -> list[tuple[str, str]]:
        (statement,) = self._single(name, params or {})
        try:
            self._cursor.execute(statement, parameters=self._bind(name, params) or None)
        except self._driver_error as exc:
            raise QueryError(name, _first_line(exc)) from exc
        return [(str(d[0]), str(d[1])) for d in self._cursor.description or ()]

    def fetch_column(self, name: str, params: Params | None = None) -> np.ndarray:
        (statement,) = self._single(name, params or {})
        try:
            self._cursor.execute(statement, parameters=self._bind(name, params) or None)
            # Arrow batches from the warehouse: no per-row Python objects for a whole column.
            table = self._cursor.fetchall_arrow()
        except self._driver_error as exc:
            raise QueryError(name, _first_line(exc)) from exc
        return np.asarray(table.column(0).to_numpy(zero_copy_only=False), dtype=np.float64)

    def iterate(
        self, name: str, params: Params | None = None, *, batch: int = 10_000
    ) -> Iterator[tuple[Any, ...]]:
        (statement,) = self._single(name, params or {})
        # A cursor of its own: a caller that runs other queries while consuming this generator
        # would otherwise replace the result set being streamed on the shared cursor.
        cursor = self._connection.cursor()
        try:
            # _bind drops IDENTIFIER(:name) parameters, already substituted into the text.
            cursor.execute(statement, parameters=self._bind(name, params) or None)
            while rows := cursor.fetchmany(batch):
                yield from rows
        except self._driver_error as exc:
            raise QueryError(name, _first_line(exc)) from exc
        finally:
            _close_quietly(cursor, self._driver_error, "cursor")

    def load_table(self, table: str, frame: pd.DataFrame) -> None:
        """Refuse: bulk DataFrame loading exists only for the embedded demo workspace.

        The prod guard still runs first, so an attempt on a prod table is recorded as the
        :class:`~governance.errors.EnvironmentViolation` it is, not as a missing feature.

        Raises:
            EnvironmentViolation: ``table`` is in prod and no prod-write grant is in force.
            QueryError: Always, otherwise.
        """
        self._guard_table(table)
        raise QueryError(
            "load_table",
            f"cannot load {table}: bulk loading DataFrames is only for the embedded demo "
            "workspace (GOV_BACKEND=duckdb)",
            hint="on Databricks the pipelines that own a table write it; Driftgate only reads",
        )


def _close_quietly(
    resource: _Cursor | _Connection, driver_error: type[Exception], what: str
) -> None:
    # Statements have already committed one by one, so a failed close loses nothing; raising
    # here would only hide the exception (if any) that ended the unit of work.
    try:
        resource.close()
    except driver_error as exc:
        logger.warning("closing the Databricks SQL %s failed: %s", what, _first_line(exc))


@dataclass(frozen=True)
class DatabricksWarehouse(Warehouse):
    """A Databricks SQL warehouse; one connection per unit of work.

    Databricks SQL has no multi-statement transactions: each statement of a unit of work
    autocommits, so a session that raises half way leaves the earlier statements applied.

    Attributes:
        host: Workspace host name, without ``https://``.
        http_path: HTTP path of the SQL warehouse.
        governance_catalog: Catalog holding Driftgate's own tables (schema ``governance``).
        uat_catalog: Catalog of the non-production environment.
        prod_catalog: Catalog of the production environment.
        access_token: Personal or on-behalf-of access token; empty means OAuth M2M.
        client_id: Service principal application id, for OAuth M2M.
        client_secret: Service principal OAuth secret, for OAuth M2M.
    """

    host: str
    http_path: str
    governance_catalog: str = "governance"
    uat_catalog: str = "uat"
    prod_catalog: str = "prod"
    access_token: str = field(default="", repr=False)
    client_id: str = ""
    client_secret: str = field(default="", repr=False)
    dialect = "databricks"

    @classmethod
    def from_settings(
        cls, settings: Settings, env: Mapping[str, str] | None = None
    ) -> DatabricksWarehouse:
        """Build from settings and the ``DATABRICKS_*`` environment variables.

        Args:
            settings: Resolved settings (http path, token, catalogs).
            env: Environment variables; defaults to ``os.environ``.

        Raises:
            ConfigError: Listing every missing piece at once (host, http path, credentials).
        """
        env = os.environ if env is None else env
        host = env.get("DATABRICKS_HOST", "").strip().removeprefix("https://").rstrip("/")
        http_path = settings.databricks_http_path.strip()
        client_id = env.get("DATABRICKS_CLIENT_ID", "").strip()
        client_secret = env.get("DATABRICKS_CLIENT_SECRET", "").strip()
        problems = []
        if not host:
            problems.append("DATABRICKS_HOST: not set (the workspace URL, e.g. adb-1.2.net)")
        if not http_path:
            problems.append(
                f"{env_name('databricks_http_path')}: not set (the SQL warehouse's HTTP path, "
                "e.g. /sql/1.0/warehouses/abc)"
            )
        if not settings.databricks_token:
            missing = [
                var
                for var, value in (
                    ("DATABRICKS_CLIENT_ID", client_id),
                    ("DATABRICKS_CLIENT_SECRET", client_secret),
                )
                if not value
            ]
            if missing:
                problems.append(
                    f"credentials: set {env_name('databricks_token')}, or "
                    "DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET for OAuth M2M "
                    f"(missing: {', '.join(missing)})"
                )
        for name in ("governance_catalog", "uat_catalog", "prod_catalog"):
            if not getattr(settings, name).strip():
                problems.append(f"{env_name(name)}: must not be empty")
        if problems:
            raise ConfigError(problems, hint=_SETTINGS_HINT)
        return cls(
            host=host,
            http_path=http_path,
            governance_catalog=settings.governance_catalog,
            uat_catalog=settings.uat_catalog,
            prod_catalog=settings.prod_catalog,
            access_token=settings.databricks_token,
            client_id=client_id,
            client_secret=client_secret,
        )

    @property
    def catalogs(self) -> dict[str, str]:
        """Real catalog of each logical one, as :func:`governance.sql.render` expects."""
        return {"gov": self.governance_catalog, "uat": self.uat_catalog, "prod": self.prod_catalog}

    def describe(self) -> str:
        return f"Databricks SQL {self.host} {self.http_path} (catalog {self.governance_catalog})"

    def _connect_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = {
            "server_hostname": self.host,
            "http_path": self.http_path,
            "catalog": self.governance_catalog,
            "schema": GOV_SCHEMA,
            # Marks Driftgate's statements in the warehouse's query history.
            "user_agent_entry": USER_AGENT,
        }
        if self.access_token:
            kwargs["access_token"] = self.access_token
        else:
            kwargs["credentials_provider"] = _oauth_credentials_provider(
                self.host, self.client_id, self.client_secret
            )
        return kwargs

    def _redact(self, text: str) -> str:
        # Connector and SDK messages should never echo a credential, but the message ends up
        # in the UI and logs, so strip them anyway rather than trust every failure path.
        for secret in (self.access_token, self.client_secret):
            if secret:
                text = text.replace(secret, "***")
        return text

    def _open(self, driver_error: type[Exception]) -> _Connection:
        kwargs = self._connect_kwargs()
        auth = "access token" if self.access_token else "OAuth M2M"
        logger.debug("connecting to Databricks SQL %s %s (%s)", self.host, self.http_path, auth)
        try:
            return _connect(**kwargs)
        # The connector raises its own errors for refused sessions and HTTP failures; the
        # SDK raises ValueError for unusable OAuth settings; sockets and DNS raise OSError.
        except (driver_error, OSError, ValueError) as exc:
            raise BackendUnavailable(
                f"cannot connect to Databricks SQL warehouse {self.http_path} on {self.host} "
                f"({auth}): {self._redact(_first_line(exc))}",
                hint="check DATABRICKS_HOST, GOV_DATABRICKS_HTTP_PATH, that the warehouse is "
                "running and that the credentials may use it",
            ) from exc

    @contextmanager
    def session(self) -> Iterator[DatabricksSession]:
        """Open one connection and cursor; close both when the block ends, even on error.

        Statements autocommit (see the class docstring): an exception ends the unit of work
        but does not undo what already ran.

        Raises:
            ConfigError: databricks-sql-connector (or databricks-sdk for OAuth) is missing.
            BackendUnavailable: The warehouse cannot be reached or refuses the credentials.
        """
        driver_error = _driver_error()
        connection = self._open(driver_error)
        try:
            cursor = connection.cursor()
            try:
                yield DatabricksSession(connection, cursor, self.catalogs, driver_error)
            finally:
                _close_quietly(cursor, driver_error, "cursor")
        finally:
            _close_quietly(connection, driver_error, "connection")
