"""The embedded warehouse: one DuckDB file under ``GOV_HOME``, a connection per unit of work."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np

from governance.errors import QueryError, WorkspaceBusy, WorkspaceError, WriteConflict
from governance.settings import Settings
from governance.warehouse import Params, Session, Warehouse

if TYPE_CHECKING:  # pandas costs ~0.3 s to import; only DataFrame paths need it
    import pandas as pd

WORKSPACE_FILE = "workspace.duckdb"
_RESET_HINT = "rebuild it with `python -m governance demo --reset`"


class DuckDBSession(Session):
    """A unit of work on one DuckDB connection and transaction."""

    dialect = "duckdb"
    local_columns = True

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con
        # One connection holds one pending result: a statement run while iterate() streams
        # would silently replace the stream, so it is refused instead.
        self._streaming = ""

    def _check_idle(self, name: str) -> None:
        if self._streaming:
            raise QueryError(name, f"the session is still streaming {self._streaming!r}; "
                             "finish iterating before running another statement")

    def _catalogs(self) -> Mapping[str, str]:
        return {}

    def fetch_df(self, name: str, params: Params | None = None) -> pd.DataFrame:
        (statement,) = self._single(name, params or {})
        self._check_idle(name)
        try:
            return self._con.execute(statement, self._bind(name, params)).df()
        except duckdb.Error as exc:
            raise _query_error(name, exc) from exc

    def fork(self) -> DuckDBSession:
        """A session on a sibling connection to the same database, for another thread.

        Reads through it see committed data (not this unit of work's uncommitted writes); the
        drift engine uses it to fetch and test columns on both cores at once.
        """
        return type(self)(self._con.cursor())

    def close(self) -> None:
        """Close a forked session's connection (the owning unit of work closes its own)."""
        self._con.close()

    def describe(self, name: str, params: Params | None = None) -> list[tuple[str, str]]:
        (statement,) = self._single(name, params or {})
        self._check_idle(name)
        try:
            cur = self._con.execute(statement, self._bind(name, params) or None)
        except duckdb.Error as exc:
            raise _query_error(name, exc) from exc
        return [(str(d[0]), str(d[1])) for d in cur.description or ()]

    def fetch_column(self, name: str, params: Params | None = None) -> np.ndarray:
        (statement,) = self._single(name, params or {})
        self._check_idle(name)
        try:
            # A relation streams its result straight into numpy; execute() would first
            # materialise every row in DuckDB and then copy them (~5 ms more per 1M values).
            relation = self._con.sql(statement, params=self._bind(name, params) or None)
            assert relation is not None  # a named query that returns rows is a SELECT
            columns = relation.fetchnumpy()
        except duckdb.Error as exc:
            raise _query_error(name, exc) from exc
        first = next(iter(columns.values()))
        return np.asarray(first, dtype=np.float64)

    def _run(
        self, name: str, statement: str, params: Params, *, fetch: bool
    ) -> tuple[Sequence[str], Sequence[tuple[Any, ...]]]:
        self._check_idle(name)
        try:
            cur = self._con.execute(statement, dict(params) if params else None)
            if not fetch:
                return (), ()
            columns = [d[0] for d in cur.description or ()]
            return columns, cur.fetchall()
        except duckdb.Error as exc:
            raise _query_error(name, exc) from exc

    def iterate(
        self, name: str, params: Params | None = None, *, batch: int = 10_000
    ) -> Iterator[tuple[Any, ...]]:
        (statement,) = self._single(name, params or {})
        self._check_idle(name)
        self._streaming = name
        try:
            cur = self._con.execute(statement, self._bind(name, params) or None)
            while rows := cur.fetchmany(batch):
                yield from rows
        except duckdb.Error as exc:
            raise _query_error(name, exc) from exc
        finally:
            self._streaming = ""

    def load_table(self, table: str, frame: pd.DataFrame) -> None:
        from sqlglot import exp  # ~0.1 s to import: only the demo loads tables

        from governance import sql

        self._guard_table(table)
        self._check_idle("load_table")
        parts = table.split(".")
        if len(parts) != 3 or parts[0] not in sql.ENVIRONMENTS:
            raise QueryError("load_table", f"{table!r} is not an <env>.<schema>.<table> name")
        target = exp.table_(parts[2], db=f"{parts[0]}_{parts[1]}", quoted=True)
        ddl = exp.Create(
            this=target, kind="TABLE", replace=True,
            expression=exp.select("*").from_("_driftgate_frame"),
        )
        self._con.register("_driftgate_frame", frame)
        try:
            self._con.execute(ddl.sql(dialect="duckdb"))
        except duckdb.Error as exc:
            # The transaction is aborted now, so unregistering would fail too; the view dies
            # with the connection when this unit of work rolls back and closes.
            raise QueryError("load_table", f"cannot load {table}: {str(exc).splitlines()[0]}",
                             hint=f"the workspace is incomplete; {_RESET_HINT}") from exc
        self._con.unregister("_driftgate_frame")

    def append_rows(self, table: str, rows: Any) -> None:
        """Bulk-insert an Arrow table or DataFrame into one of Driftgate's own tables.

        Only the large demo needs this: a million ledger rows one ``INSERT`` at a time would
        take an hour. Columns are matched by name; missing ones get their default (NULL).

        Args:
            table: ``governance.<t>``, ``lineage.<t>`` or ``mlflow.<t>`` (never env data).
            rows: The rows, as a ``pyarrow.Table`` or ``pandas.DataFrame``.

        Raises:
            QueryError: Not one of those schemas, or DuckDB refused the rows.
        """
        from sqlglot import exp

        self._check_idle("append_rows")
        parts = table.split(".")
        if len(parts) != 2 or parts[0] not in ("governance", "lineage", "mlflow"):
            raise QueryError("append_rows", f"{table!r} is not a governance, lineage or "
                             "mlflow table")
        insert = exp.Insert(this=exp.table_(parts[1], db=parts[0], quoted=True),
                            expression=exp.select("*").from_("_driftgate_rows"), by_name=True)
        self._con.register("_driftgate_rows", rows)
        try:
            self._con.execute(insert.sql(dialect="duckdb"))
        except duckdb.Error as exc:
            raise QueryError("append_rows", f"cannot append to {table}: "
                             f"{str(exc).splitlines()[0]}") from exc
        self._con.unregister("_driftgate_rows")


def _query_error(name: str, exc: duckdb.Error) -> QueryError | WriteConflict:
    message = str(exc).splitlines()[0]
    if isinstance(exc, duckdb.TransactionException) and "Conflict" in message:
        # DuckDB can detect a write-write conflict at the statement, not only at commit.
        return WriteConflict(f"another unit of work changed the same rows first ({name}): "
                             f"{message}", hint="nothing was saved; reload and try again")
    if isinstance(exc, duckdb.CatalogException):
        return QueryError(name, message, hint=f"the workspace is incomplete; {_RESET_HINT}")
    return QueryError(name, message)


@dataclass(frozen=True)
class DuckDBWarehouse(Warehouse):
    """The embedded workspace file.

    Attributes:
        path: The DuckDB file.
        lock_timeout: Seconds to retry while another process holds the file lock.
    """

    path: Path
    lock_timeout: float = 10.0
    dialect = "duckdb"

    @classmethod
    def from_settings(cls, settings: Settings, *, create: bool = False) -> DuckDBWarehouse:
        """Build from settings; unless ``create``, the file must already exist."""
        path = settings.duckdb_dir / WORKSPACE_FILE
        if not create and not path.is_file():
            raise WorkspaceError(
                f"no workspace at {path}",
                hint="create the demo workspace with `python -m governance demo` "
                "(or set GOV_HOME to an existing one)",
            )
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(path=path, lock_timeout=settings.lock_timeout)

    def describe(self) -> str:
        return f"DuckDB {self.path}"

    def _connect(self) -> duckdb.DuckDBPyConnection:
        deadline = time.monotonic() + self.lock_timeout
        delay = 0.05
        while True:
            try:
                return duckdb.connect(str(self.path))
            except duckdb.IOException as exc:
                text = str(exc)
                if "Could not set lock on file" not in text:
                    raise WorkspaceError(
                        f"cannot open workspace {self.path}: {text.splitlines()[0]}",
                        hint=_RESET_HINT,
                    ) from exc
                if time.monotonic() >= deadline:
                    holder = re.search(r"\(PID (\d+)\)", text)
                    who = f" by process {holder.group(1)}" if holder else ""
                    raise WorkspaceBusy(
                        f"workspace {self.path} stayed locked{who} for {self.lock_timeout:g}s",
                        hint="wait for the other Driftgate command to finish, or raise "
                        "GOV_LOCK_TIMEOUT",
                    ) from exc
                time.sleep(delay)
                delay = min(delay * 2, 0.5)
            except duckdb.Error as exc:
                raise WorkspaceError(
                    f"cannot open workspace {self.path}: {str(exc).splitlines()[0]}",
                    hint=_RESET_HINT,
                ) from exc

    @contextmanager
    def session(self) -> Iterator[DuckDBSession]:
        con = self._connect()
        try:
            con.begin()
            session = DuckDBSession(con)
            try:
                yield session
            except BaseException:
                con.rollback()
                raise
            try:
                con.commit()
            except duckdb.TransactionException as exc:
                raise WriteConflict(
                    f"another unit of work changed the same rows first: "
                    f"{str(exc).splitlines()[0]}",
                    hint="nothing was saved; reload and try again",
                ) from exc
        finally:
            con.close()
