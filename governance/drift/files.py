"""``drift compare`` on files: Parquet or CSV (globs allowed) read in place by DuckDB.

Both sides become views of an in-memory DuckDB database; the same named queries as the
monitor then run on them, so no file is ever loaded whole into Python.

sqlglot, which renders named queries, costs ~0.1 s to import and ~1 ms a render, a large share
of a one-shot ``drift compare``. So this module writes its few statements itself (identifiers
and string literals quoted as sqlglot quotes them for DuckDB), and :class:`FileSession` holds
the three named queries a file comparison runs already rendered (a test keeps them equal to
``sql.render``); anything else still goes through the normal path.
"""

from __future__ import annotations

import glob
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb

from governance.backends.duckdb import DuckDBSession
from governance.drift.engine import FeatureSpec, Kind, type_family
from governance.errors import DataError
from governance.warehouse import Params

BASELINE, CURRENT = "main.baseline", "main.current"
LOW_CARDINALITY = 20
_INTEGER = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT",
            "UINTEGER", "UBIGINT", "UHUGEINT")


@dataclass(frozen=True)
class Column:
    """A column of one side: its name and DuckDB type."""

    name: str
    type: str

    @property
    def family(self) -> str:
        """``numeric``, ``boolean``, ``temporal`` or ``text``: what a type change compares."""
        return type_family(self.type)


@dataclass(frozen=True)
class Plan:
    """What to test: feature specs, schema problems, and columns left out (with reasons)."""

    specs: tuple[FeatureSpec, ...]
    schema_issues: dict[str, tuple[str, str]]
    skipped: dict[str, str]
    extra: tuple[str, ...]


def _expand(pattern: str) -> list[str]:
    paths = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
    missing = [p for p in paths if not Path(p).is_file()]
    if not paths or missing:
        raise DataError(f"no file matches {pattern!r}" if not paths else
                        f"file not found: {missing[0]}")
    empty = [p for p in paths if Path(p).stat().st_size == 0]
    if empty:
        raise DataError(f"cannot read {empty[0]!r}: it is an empty file (0 bytes), not a "
                        "Parquet or CSV table")
    suffixes = {Path(p).suffix.lower() for p in paths}
    if not suffixes <= {".parquet", ".csv"} or len(suffixes) != 1:
        raise DataError(f"{pattern!r}: expected only .parquet or only .csv files, "
                        f"got {', '.join(sorted(suffixes))}")
    return paths


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier, quoted (as sqlglot writes ``exp.column(quoted=True)``)."""
    return '"' + name.replace('"', '""') + '"'


def _literal(text: str) -> str:
    """``text`` as a DuckDB string literal (standard SQL: no backslash escapes)."""
    return "'" + text.replace("'", "''") + "'"


def _view(con: duckdb.DuckDBPyConnection, name: str, pattern: str) -> None:
    paths = _expand(pattern)
    reader = "READ_PARQUET" if paths[0].lower().endswith(".parquet") else "READ_CSV"
    files = ", ".join(_literal(p) for p in paths)
    try:
        # The view name is one of our constants; the paths are quoted literals.
        ddl = f"CREATE OR REPLACE VIEW {name} AS SELECT * FROM {reader}([{files}])"  # noqa: S608
        con.execute(ddl)
        con.execute(f"SELECT * FROM {name} LIMIT 0").fetchall()  # noqa: S608
    except duckdb.Error as exc:
        raise DataError(f"cannot read {pattern!r}: {str(exc).splitlines()[0]}") from exc


def _columns(con: duckdb.DuckDBPyConnection, name: str) -> list[Column]:
    rel = con.table(name)
    return [Column(c, str(t)) for c, t in zip(rel.columns, rel.types, strict=True)]


def _distinct(con: duckdb.DuckDBPyConnection, view: str, column: str, cap: int) -> int:
    col = quote_identifier(column)
    query = (f"SELECT COUNT(*) FROM (SELECT DISTINCT {col} FROM {view} "  # noqa: S608
             f"WHERE NOT {col} IS NULL LIMIT {int(cap) + 1}) AS d")
    row = con.execute(query).fetchone()
    return int(row[0]) if row else 0


def plan(con: duckdb.DuckDBPyConnection, categorical: Sequence[str] = ()) -> Plan:
    """Pair the columns of both sides, infer each feature's kind, and find schema changes.

    Numeric columns are numeric features, except integers with at most
    :data:`LOW_CARDINALITY` distinct baseline values; text and boolean columns are categorical
    (boolean); dates and times are skipped. ``categorical`` forces names to categorical.

    Raises:
        DataError: A name in ``categorical`` is not a baseline column, or a side has no rows.
    """
    base = {c.name: c for c in _columns(con, BASELINE)}
    cur = {c.name: c for c in _columns(con, CURRENT)}
    unknown = [c for c in categorical if c not in base]
    if unknown:
        raise DataError(f"--categorical names {', '.join(map(repr, unknown))}, which the "
                        f"baseline does not have (columns: {', '.join(base)})")
    specs, issues, skipped = [], {}, {}
    for name, col in base.items():
        kind: Kind
        if col.family == "temporal":
            skipped[name] = f"{col.type} columns are not drift-tested"
            continue
        if name in categorical:
            kind = "categorical"
        elif col.family == "boolean":
            kind = "boolean"
        elif col.family == "numeric":
            low = col.type.upper().startswith(_INTEGER) and \
                _distinct(con, BASELINE, name, LOW_CARDINALITY) <= LOW_CARDINALITY
            kind = "categorical" if low else "numeric"
        else:
            kind = "categorical"
        specs.append(FeatureSpec(name, kind))
        if name not in cur:
            issues[name] = ("schema_missing", f"column {name!r} is missing from the current data")
        elif cur[name].family != col.family and "null" not in (cur[name].family, col.family):
            issues[name] = ("schema_type_changed",
                            f"column {name!r} was {col.type} in the baseline and is "
                            f"{cur[name].type} in the current data")
    extra = tuple(c for c in cur if c not in base)
    return Plan(tuple(specs), issues, skipped, extra)


#: The named queries a file comparison runs, rendered for DuckDB (see :class:`FileSession`).
RENDERED: Mapping[str, str] = {
    "drift/numeric_values":
        "SELECT CAST({col} AS DOUBLE) AS v FROM {tbl} WHERE NOT {col} IS NULL",
    "drift/category_counts":
        "SELECT CAST({col} AS TEXT) AS category, COUNT(*) AS n FROM {tbl} GROUP BY 1",
    "drift/row_count": "SELECT COUNT(*) AS n FROM {tbl}",
}


class FileSession(DuckDBSession):
    """The session over both file views; the drift queries it runs come pre-rendered.

    Each text is what ``sql.render(name, "duckdb", tables={...})`` returns without its
    comments (``tests/unit/drift/test_files.py`` checks that for awkward column names). Only
    ``tbl`` and ``col`` vary, and both are identifiers, so nothing is bound.
    """

    def _prepare(self, name: str, params: Params) -> tuple[str, ...]:
        template = RENDERED.get(name)
        if template is None or not _plain(params, with_column="{col}" in template):
            return super()._prepare(name, params)  # the normal path, with its checks
        col = quote_identifier(params["col"]) if "col" in params else ""
        return (template.format(tbl=params["tbl"], col=col),)

    @staticmethod
    def _bind(name: str, params: Params | None) -> dict[str, object]:
        if name in RENDERED:
            return {}  # identifiers only
        return DuckDBSession._bind(name, params)


def _plain(params: Params, *, with_column: bool) -> bool:
    """True for one of our two views and (if asked) a column name ``sql`` would accept."""
    if set(params) != ({"tbl", "col"} if with_column else {"tbl"}):
        return False
    column = params.get("col", "x")
    return params["tbl"] in (BASELINE, CURRENT) and isinstance(column, str) and bool(column) \
        and "\x00" not in column


@contextmanager
def open_files(baseline: str, current: str) -> Iterator[tuple[DuckDBSession,
                                                             duckdb.DuckDBPyConnection]]:
    """An in-memory DuckDB session with views ``main.baseline`` and ``main.current``.

    Raises:
        DataError: A pattern matches no file, mixes formats, or a file cannot be read.
    """
    con = duckdb.connect(":memory:")
    # Parquet min/max statistics let DuckDB fold ISNAN(x) to false even when NaN is present;
    # exact null/NaN counts matter more here than that optimisation.
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
    try:
        _view(con, BASELINE, baseline)
        _view(con, CURRENT, current)
        yield FileSession(con), con
    finally:
        con.close()
