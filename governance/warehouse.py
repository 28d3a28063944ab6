"""The warehouse interface: named queries in short units of work, on DuckDB or Databricks SQL.

A :class:`Session` is one unit of work. On DuckDB it is one connection and one transaction,
committed when the ``with`` block ends and rolled back if it raises; the connection is closed
right after, so the app and a CLI process can share the workspace file. On Databricks SQL it is
one connection whose statements commit one by one (the warehouse has no multi-statement
transactions), so governance writes there are ordered to be safe to re-run.

Every statement goes through :meth:`Session.execute`, which checks parameters and refuses writes
to ``prod`` unless a grant from :mod:`governance.envguard` is in force.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

import numpy as np

from governance import envguard
from governance.errors import ConfigError, QueryError
from governance.settings import Settings

if TYPE_CHECKING:  # pandas costs ~0.3 s to import; only DataFrame paths need it
    import pandas as pd

Params = Mapping[str, Any]


class Session(abc.ABC):
    """One unit of work against the warehouse."""

    dialect: str
    #: True when a whole column can be handed to Python cheaply (the embedded engine): the
    #: drift engine then sorts numeric columns itself instead of asking for ECDF steps.
    local_columns: bool = False

    def execute(self, name: str, params: Params | None = None) -> None:
        """Run every statement of query ``name``; results are discarded."""
        for statement in self._prepare(name, params or {}):
            self._run(name, statement, self._bind(name, params), fetch=False)

    def fetch_rows(self, name: str, params: Params | None = None) -> list[dict[str, Any]]:
        """Run query ``name`` (one statement) and return its rows as dicts."""
        (statement,) = self._single(name, params or {})
        columns, rows = self._run(name, statement, self._bind(name, params), fetch=True)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def fetch_df(self, name: str, params: Params | None = None) -> pd.DataFrame:
        """Run query ``name`` (one statement) and return a DataFrame."""
        (statement,) = self._single(name, params or {})
        columns, rows = self._run(name, statement, self._bind(name, params), fetch=True)
        import pandas as pd

        return pd.DataFrame.from_records(list(rows), columns=list(columns))

    def fetch_scalar(self, name: str, params: Params | None = None) -> Any:
        """Run query ``name`` and return the first column of its first row (or ``None``)."""
        rows = self.fetch_rows(name, params)
        return next(iter(rows[0].values())) if rows else None

    @abc.abstractmethod
    def describe(self, name: str, params: Params | None = None) -> list[tuple[str, str]]:
        """Run query ``name`` and return its result's ``(column, type name)`` pairs."""

    @abc.abstractmethod
    def fetch_column(self, name: str, params: Params | None = None) -> np.ndarray:
        """Run query ``name`` and return its first column as a float64 numpy array.

        For per-column statistics the embedded engine hands over one column at a time; the
        whole table is never materialised in Python.
        """

    @abc.abstractmethod
    def iterate(
        self, name: str, params: Params | None = None, *, batch: int = 10_000
    ) -> Iterator[tuple[Any, ...]]:
        """Stream the rows of query ``name`` without holding them all in memory."""

    @abc.abstractmethod
    def load_table(self, table: str, frame: pd.DataFrame) -> None:
        """Create or replace the logical ``table`` (``uat.retail.sales``) from ``frame``."""

    @abc.abstractmethod
    def _run(
        self, name: str, statement: str, params: Params, *, fetch: bool
    ) -> tuple[Sequence[str], Sequence[tuple[Any, ...]]]: ...

    @abc.abstractmethod
    def _catalogs(self) -> Mapping[str, str]: ...

    def _prepare(self, name: str, params: Params) -> tuple[str, ...]:
        from governance import sql  # sqlglot costs ~0.1 s to import: only when a query runs

        query = sql.load_query(name)
        query.check_params(params)
        if "prod" in query.env_writes(params):
            envguard.require_prod_write(f"query {name!r}")
        tables = {k: str(params[k]) for k in query.identifiers | query.columns}
        return sql.render(name, self.dialect, self._catalogs(), tables)

    @staticmethod
    def _bind(name: str, params: Params | None) -> dict[str, Any]:
        from governance import sql

        return sql.load_query(name).bind_values(params or {})

    def _single(self, name: str, params: Params) -> tuple[str]:
        statements = self._prepare(name, params)
        if len(statements) != 1:
            raise QueryError(
                name, f"returns rows, so must hold one statement, not {len(statements)}"
            )
        return (statements[0],)

    def _guard_table(self, table: str) -> None:
        if table.split(".")[0] == "prod":
            envguard.require_prod_write(f"load table {table}")


class Warehouse(abc.ABC):
    """Opens :class:`Session` units of work on one engine."""

    dialect: str

    @abc.abstractmethod
    def session(self) -> AbstractContextManager[Session]:
        """Open a unit of work; commit on normal exit, roll back on an exception."""

    @abc.abstractmethod
    def describe(self) -> str:
        """One line naming the engine and location, for badges and logs (never secrets)."""


def open_warehouse(settings: Settings, *, create: bool = False) -> Warehouse:
    """Return the warehouse the settings select.

    Args:
        settings: Resolved settings.
        create: For DuckDB, create the workspace file if missing (the demo seed does this);
            otherwise a missing workspace is an error telling how to create it.

    Raises:
        ConfigError: The backend is not usable with these settings.
        WorkspaceError: The embedded workspace is missing or corrupt.
    """
    if settings.backend == "duckdb":
        from governance.backends.duckdb import DuckDBWarehouse

        return DuckDBWarehouse.from_settings(settings, create=create)
    if settings.backend == "databricks":
        from governance.backends.databricks import DatabricksWarehouse

        return DatabricksWarehouse.from_settings(settings)
    raise ConfigError([f"GOV_BACKEND={settings.backend!r}: unknown (known: databricks, duckdb)"])
