"""Named queries: ``queries/<name>.sql`` in Databricks SQL, rendered per engine with sqlglot.

Query files use ``:name`` parameters and logical table names:

* ``governance.<table>`` and ``lineage.<table>``: Driftgate's own store;
* ``uat.<schema>.<table>`` and ``prod.<schema>.<table>``: the two environments;
* ``system.access.table_lineage`` / ``column_lineage``: Unity Catalog lineage;
* ``system.mlflow.runs_latest``: MLflow runs (a local stand-in of the same columns on DuckDB);
* ``IDENTIFIER(:name)``: a table or column chosen at run time (Databricks' own syntax), e.g. a
  model's inference log or one of its features. A table value must be a plain
  ``[catalog.][schema.]table`` name; a column value may be any text (non-ASCII and SQL-looking
  names included). Both are substituted as quoted identifiers by sqlglot, never as text.

:func:`render` maps them onto the engine: on Databricks to the configured catalogs, on DuckDB to
schemas of the single workspace file (``uat.retail.sales`` becomes ``uat_retail.sales`` and the
system lineage tables become ``lineage.*``, which have the same columns). A file
``queries/duckdb/<name>.sql`` overrides the transpiled text where the dialects really differ.

Parameters are checked before anything runs: a missing or unknown parameter raises
:class:`QueryError` naming the query. Values are always bound by the driver, never formatted in.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlglot import exp

from governance.errors import QueryError

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"
ENVIRONMENTS = ("uat", "prod")
_TABLE_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*){1,2}")
_WRITE_NODES = (
    exp.Insert, exp.Create, exp.Update, exp.Delete, exp.Merge, exp.Drop, exp.Alter,
    exp.TruncateTable, exp.Copy,
)


@dataclass(frozen=True)
class Query:
    """A parsed query file.

    Attributes:
        name: Path under ``queries/`` without ``.sql``, with ``/`` (``ddl/ledger``).
        statements: The parsed statements (Databricks dialect), in file order.
        params: Names of the ``:name`` parameters the file uses (identifiers included).
        identifiers: Parameters used as ``IDENTIFIER(:name)`` table names.
        columns: Parameters used as ``IDENTIFIER(:name)`` column names.
        writes: Environments (``uat``/``prod``) the statements write to; used by the prod guard.
        written_identifiers: Identifier parameters that are write targets.
        doc: The leading ``--`` comment block, for humans.
    """

    name: str
    statements: tuple[exp.Expr, ...]
    params: frozenset[str]
    identifiers: frozenset[str]
    columns: frozenset[str]
    writes: frozenset[str]
    written_identifiers: frozenset[str]
    doc: str

    def check_params(self, params: Mapping[str, object]) -> None:
        """Raise :class:`QueryError` unless ``params`` names exactly this query's parameters."""
        given = set(params)
        missing = sorted(self.params - given)
        unknown = sorted(given - self.params)
        if missing or unknown:
            parts = []
            if missing:
                parts.append(f"missing parameter(s) {', '.join(missing)}")
            if unknown:
                parts.append(f"unknown parameter(s) {', '.join(unknown)}")
            expected = ", ".join(sorted(self.params)) or "none"
            raise QueryError(self.name, f"{'; '.join(parts)} (expects: {expected})")
        for ident in self.identifiers:
            value = params[ident]
            if not isinstance(value, str) or not _TABLE_NAME.fullmatch(value):
                raise QueryError(
                    self.name, f"parameter {ident}={value!r} is not a table name like "
                    "catalog.schema.table"
                )
        for column in self.columns:
            value = params[column]
            if not isinstance(value, str) or not value or "\x00" in value:
                raise QueryError(self.name, f"parameter {column}={value!r} is not a column name")

    def bind_values(self, params: Mapping[str, object]) -> dict[str, object]:
        """The parameters the driver binds (identifier parameters are substituted instead)."""
        return {
            k: v for k, v in params.items() if k not in self.identifiers and k not in self.columns
        }

    def env_writes(self, params: Mapping[str, object]) -> frozenset[str]:
        """Environments written, counting run-time table names."""
        dynamic = {str(params[i]).split(".")[0].lower() for i in self.written_identifiers}
        return self.writes | frozenset(dynamic & set(ENVIRONMENTS))


def query_names() -> list[str]:
    """Return the names of every query file, sorted (engine overrides excluded)."""
    return sorted(
        p.relative_to(QUERIES_DIR).with_suffix("").as_posix()
        for p in QUERIES_DIR.rglob("*.sql")
        if p.relative_to(QUERIES_DIR).parts[0] != "duckdb"
    )


def _identifier_call(node: exp.Expr) -> str | None:
    """The parameter of an ``IDENTIFIER(:name)`` call, or ``None``."""
    if isinstance(node, exp.Anonymous) and str(node.this).upper() == "IDENTIFIER":
        inner = node.expressions[0] if len(node.expressions) == 1 else None
        if isinstance(inner, exp.Placeholder):
            return str(inner.name)
    return None


def _identifier_param(table: exp.Table) -> str | None:
    return _identifier_call(table.this)


def _normalise_identifiers(stmt: exp.Expr) -> exp.Expr:
    """Give ``IDENTIFIER(:t)`` one shape everywhere.

    As a write target (``INSERT INTO IDENTIFIER(:t)``) sqlglot reads a table named IDENTIFIER
    with a column list ``(:t)``; rewrite that into the function-call table it is in a FROM.
    """

    def fix(node: exp.Expr) -> exp.Expr:
        if (
            isinstance(node, exp.Schema)
            and isinstance(node.this, exp.Table)
            and node.this.name.upper() == "IDENTIFIER"
            and not node.this.this.args.get("quoted")
            and len(node.expressions) == 1
            and isinstance(node.expressions[0], exp.Placeholder)
        ):
            call = exp.Anonymous(this="IDENTIFIER", expressions=[node.expressions[0].copy()])
            return exp.Table(this=call)
        return node

    return stmt.transform(fix)


def _targets(node: exp.Expr) -> list[exp.Table]:
    """The tables (or schemas) a write statement changes; never the tables it reads."""
    if isinstance(node, exp.Drop):
        candidates = list(node.args.get("tables") or [])
    elif isinstance(node, exp.TruncateTable):
        candidates = list(node.expressions)
    else:
        candidates = [node.this] if node.this is not None else []
    found = []
    for candidate in candidates:
        table = candidate if isinstance(candidate, exp.Table) else candidate.find(exp.Table)
        if table is not None:
            found.append(table)
    return found


def _write_targets(stmt: exp.Expr) -> tuple[set[str], set[str]]:
    envs, idents = set(), set()
    for node in stmt.find_all(*_WRITE_NODES):
        for target in _targets(node):
            ident = _identifier_param(target)
            if ident:
                idents.add(ident)
                continue
            # CREATE SCHEMA uat.retail parses as Table(db=retail, catalog=uat); a table as
            # Table(this, db, catalog). Either way the environment is the first part, and
            # Unity Catalog names are case-insensitive.
            first = (target.catalog or (target.db if not target.name else "")).lower()
            if first in ENVIRONMENTS:
                envs.add(first)
    return envs, idents


@functools.cache
def load_query(name: str) -> Query:
    """Load and parse ``queries/<name>.sql``.

    Raises:
        QueryError: The file does not exist or is not valid Databricks SQL.
    """
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise QueryError(name, f"no such query file {path}", hint="see queries/ for names")
    text = path.read_text(encoding="utf-8")
    try:
        statements = tuple(
            _normalise_identifiers(s) for s in sqlglot.parse(text, read="databricks")
            if s is not None
        )
    except sqlglot.errors.SqlglotError as exc:
        raise QueryError(name, f"{path} is not valid Databricks SQL: {exc}") from exc
    if not statements:
        raise QueryError(name, f"{path} holds no statement")
    opaque = [s for s in statements if isinstance(s, exp.Command)]
    if opaque:
        # sqlglot could not model it (OPTIMIZE, VACUUM, ...): its targets cannot be checked
        # against the prod guard or mapped to catalogs, so it is not allowed in a query file.
        raise QueryError(name, f"{path}: unsupported statement {opaque[0].sql()[:60]!r}")
    params = frozenset(p.name for s in statements for p in s.find_all(exp.Placeholder))
    identifiers = frozenset(
        i for s in statements for t in s.find_all(exp.Table) if (i := _identifier_param(t))
    )
    columns = frozenset(
        i for s in statements for a in s.find_all(exp.Anonymous)
        if not isinstance(a.parent, exp.Table) and (i := _identifier_call(a))
    )
    if identifiers & columns:
        raise QueryError(name, f"{sorted(identifiers & columns)} used as table and column")
    targets = [_write_targets(s) for s in statements]
    writes = frozenset(env for envs, _ in targets for env in envs)
    written_identifiers = frozenset(i for _, idents in targets for i in idents)
    header = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        header.append(line.removeprefix("--").strip())
    doc = "\n".join(header)
    return Query(name, statements, params, identifiers, columns, writes, written_identifiers, doc)


def _map_tables(
    stmt: exp.Expr, dialect: str, catalogs: Mapping[str, str], tables: Mapping[str, str]
) -> exp.Expr:
    def rewrite(node: exp.Expr) -> exp.Expr:
        column = _identifier_call(node)
        if column is not None and not isinstance(node.parent, exp.Table):
            return exp.column(tables[column], quoted=True)
        if not isinstance(node, exp.Table):
            return node
        ident = _identifier_param(node)
        if ident is not None:
            alias = node.args.get("alias")
            node = exp.to_table(tables[ident], dialect="databricks")
            if alias is not None:
                node.set("alias", alias.copy())
        catalog, db = node.catalog.lower(), node.db
        if dialect == "duckdb":
            if catalog == "system" and db == "access":
                return _retarget(node, None, "lineage")
            if catalog == "system" and db == "mlflow":
                return _retarget(node, None, "mlflow")
            if catalog in ENVIRONMENTS:
                return _retarget(node, None, f"{catalog}_{db}")
            return node
        if catalog in ENVIRONMENTS:
            return _retarget(node, catalogs[catalog], db)
        if not catalog and db in ("governance", "lineage", "mlflow"):
            return _retarget(node, catalogs["gov"], db)
        return node

    return stmt.copy().transform(rewrite)


def _retarget(node: exp.Table, catalog: str | None, db: str) -> exp.Table:
    new = node.copy()
    new.set("db", exp.to_identifier(db))
    new.set("catalog", exp.to_identifier(catalog) if catalog else None)
    return new


@functools.lru_cache(maxsize=4096)
def _render_cached(
    name: str,
    dialect: str,
    catalog_items: tuple[tuple[str, str], ...],
    table_items: tuple[tuple[str, str], ...],
) -> tuple[str, ...]:
    query = load_query(name)
    override = QUERIES_DIR / "duckdb" / f"{name}.sql"
    if dialect == "duckdb" and override.is_file():
        parsed = sqlglot.parse(override.read_text(encoding="utf-8"), read="duckdb")
        return tuple(s.sql(dialect="duckdb") for s in parsed if s is not None)
    catalogs, tables = dict(catalog_items), dict(table_items)
    return tuple(
        _map_tables(stmt, dialect, catalogs, tables).sql(dialect=dialect)
        for stmt in query.statements
    )


def render(
    name: str,
    dialect: str,
    catalogs: Mapping[str, str] | None = None,
    tables: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """Render a query's statements for an engine.

    Args:
        name: Query name.
        dialect: ``"duckdb"`` or ``"databricks"``.
        catalogs: For Databricks, the real catalog of each logical one (``gov``, ``uat``,
            ``prod``).
        tables: Values of the query's ``IDENTIFIER(:name)`` parameters (tables and columns).

    Returns:
        One SQL string per statement, with placeholders in the engine's style.
    """
    if dialect not in ("duckdb", "databricks"):
        raise QueryError(name, f"unknown dialect {dialect!r} (known: databricks, duckdb)")
    if dialect == "databricks":
        missing = [c for c in ("gov", "uat", "prod") if c not in (catalogs or {})]
        if missing:
            raise QueryError(name, f"no catalog configured for {', '.join(missing)}")
    query = load_query(name)
    names = query.identifiers | query.columns
    tables = {k: v for k, v in (tables or {}).items() if k in names}
    missing_tables = sorted(names - set(tables))
    if missing_tables:
        raise QueryError(name, f"missing table parameter(s) {', '.join(missing_tables)}")
    return _render_cached(
        name, dialect, tuple(sorted((catalogs or {}).items())), tuple(sorted(tables.items()))
    )
