"""The query loader: parsing, parameters, write detection and per-engine table mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from governance import sql
from governance.errors import QueryError

CATALOGS = {"gov": "gov_cat", "uat": "uat_cat", "prod": "prod_cat"}

WriteQuery = Callable[[str, str], None]


@pytest.fixture
def queries_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """An empty queries/ folder in place of the real one, with the loader caches cleared."""
    folder = tmp_path / "queries"
    folder.mkdir()
    monkeypatch.setattr(sql, "QUERIES_DIR", folder)
    sql.load_query.cache_clear()
    sql._render_cached.cache_clear()
    yield folder
    sql.load_query.cache_clear()
    sql._render_cached.cache_clear()


@pytest.fixture
def write_query(queries_dir: Path) -> WriteQuery:
    """Write queries/<name>.sql into the temporary folder."""

    def write(name: str, text: str) -> None:
        path = queries_dir / f"{name}.sql"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")

    return write


def tables_of(rendered: str, dialect: str) -> set[tuple[str, str, str]]:
    """(catalog, db, name) of every table a rendered statement mentions."""
    statement = sqlglot.parse_one(rendered, read=dialect)
    return {(t.catalog, t.db, t.name) for t in statement.find_all(exp.Table)}


# --- the real query files --------------------------------------------------------------------


def test_query_names_are_sorted_and_include_the_core_queries() -> None:
    """query_names() is sorted and lists the core ledger, schema and DDL queries."""
    names = sql.query_names()

    assert sorted(names) == names
    expected = {
        "ddl/001_schemas", "ddl/002_governance", "ddl/003_lineage", "demo/prod_schemas",
        "ledger/all_entries", "ledger/append", "ledger/count", "ledger/entries", "ledger/head",
        "ledger/latest_by_type", "schema/current_version", "schema/record_version",
    }
    assert expected <= set(names)
    assert [] == [n for n in names if n.startswith("duckdb/")]


@pytest.mark.parametrize("name", sql.query_names())
def test_every_query_parses_and_renders_for_both_dialects(name: str) -> None:
    """Each query file parses and renders one statement per parsed statement on both engines."""
    query = sql.load_query(name)
    tables = {**dict.fromkeys(query.identifiers, "uat.inference.some_log"),
              **dict.fromkeys(query.columns, "some column")}
    duck = sql.render(name, "duckdb", None, tables)
    bricks = sql.render(name, "databricks", CATALOGS, tables)

    assert name == query.name
    assert len(query.statements) == len(duck) == len(bricks)
    for text in duck:
        assert sqlglot.parse_one(text, read="duckdb") is not None
    for text in bricks:
        assert sqlglot.parse_one(text, read="databricks") is not None


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("ledger/entries", {"event_type", "since", "max_rows"}),
        ("ledger/latest_by_type", {"event_type"}),
        ("ledger/append", {"seq", "event_time", "actor", "environment", "event_type",
                           "subject", "payload", "hash"}),
        ("schema/record_version", {"version", "applied_at", "description"}),
        ("ledger/head", set()),
        ("ddl/002_governance", set()),
    ],
)
def test_placeholders_are_found(name: str, params: set[str]) -> None:
    """The :name placeholders of a query are exactly its params."""
    assert frozenset(params) == sql.load_query(name).params


def test_placeholders_render_in_engine_style() -> None:
    """`:x` stays `:x` on Databricks and becomes `$x` on DuckDB."""
    (duck,) = sql.render("ledger/latest_by_type", "duckdb")
    (bricks,) = sql.render("ledger/latest_by_type", "databricks", CATALOGS)

    assert "$event_type" in duck
    assert ":event_type" not in duck
    assert ":event_type" in bricks


def test_check_params_accepts_exactly_the_params() -> None:
    """check_params is silent when the given names equal the query's params."""
    sql.load_query("ledger/entries").check_params(
        {"event_type": "", "since": None, "max_rows": 1}
    )


def test_check_params_lists_missing_and_unknown_together() -> None:
    """One QueryError names the query, every missing and every unknown parameter."""
    query = sql.load_query("ledger/entries")

    with pytest.raises(QueryError, match=r"'ledger/entries'") as info:
        query.check_params({"event_type": "x", "sinse": None, "limit": 3})

    text = str(info.value)
    assert "ledger/entries" == info.value.query
    assert "missing parameter(s) max_rows, since" in text
    assert "unknown parameter(s) limit, sinse" in text


def test_check_params_missing_only() -> None:
    """A call without params for a parameterised query names what is missing."""
    with pytest.raises(QueryError, match=r"missing parameter.*event_type"):
        sql.load_query("ledger/latest_by_type").check_params({})


def test_check_params_unknown_for_a_query_without_params() -> None:
    """Passing params to a parameterless query is an error that says it expects none."""
    with pytest.raises(QueryError, match=r"unknown parameter\(s\) seq.*expects: none"):
        sql.load_query("ledger/head").check_params({"seq": 1})


@pytest.mark.parametrize(
    ("name", "writes"),
    [
        ("ddl/001_schemas", {"uat"}),
        ("demo/prod_schemas", {"prod"}),
        ("ddl/002_governance", set()),
        ("ledger/append", set()),
        ("ledger/all_entries", set()),
    ],
)
def test_writes_of_real_queries(name: str, writes: set[str]) -> None:
    """Only environment targets count: ddl/001 writes uat, demo/prod_schemas writes prod."""
    assert frozenset(writes) == sql.load_query(name).writes


def test_ddl_001_renders_env_schemas_per_engine() -> None:
    """uat.<schema> becomes uat_<schema> on DuckDB and <uat catalog>.<schema> on Databricks."""
    duck = sql.render("ddl/001_schemas", "duckdb")
    bricks = sql.render("ddl/001_schemas", "databricks", CATALOGS)

    assert duck[2].endswith("CREATE SCHEMA IF NOT EXISTS uat_retail")
    assert bricks[2].endswith("CREATE SCHEMA IF NOT EXISTS uat_cat.retail")


def test_databricks_governance_schemas_are_created_in_the_governance_catalog() -> None:
    """ddl/001 creates gov_cat.governance and gov_cat.lineage on Databricks."""
    bricks = sql.render("ddl/001_schemas", "databricks", CATALOGS)

    assert bricks[0].endswith("CREATE SCHEMA IF NOT EXISTS gov_cat.governance")
    assert bricks[1].endswith("CREATE SCHEMA IF NOT EXISTS gov_cat.lineage")


def test_ledger_table_maps_to_governance_catalog_on_databricks_only() -> None:
    """governance.ledger stays on DuckDB and becomes <gov>.governance.ledger on Databricks."""
    (duck,) = sql.render("ledger/count", "duckdb")
    (bricks,) = sql.render("ledger/count", "databricks", CATALOGS)

    assert {("", "governance", "ledger")} == tables_of(duck, "duckdb")
    assert {("gov_cat", "governance", "ledger")} == tables_of(bricks, "databricks")


def test_unknown_query_name() -> None:
    """An unknown name raises QueryError naming the query."""
    with pytest.raises(QueryError, match="'ledger/nope': no such query file"):
        sql.load_query("ledger/nope")


def test_render_unknown_dialect() -> None:
    """render refuses a dialect other than duckdb/databricks."""
    with pytest.raises(QueryError, match="unknown dialect 'postgres'"):
        sql.render("ledger/count", "postgres")


@pytest.mark.parametrize(
    ("catalogs", "missing"),
    [(None, "gov, uat, prod"), ({"gov": "g"}, "uat, prod"), ({"gov": "g", "uat": "u"}, "prod")],
)
def test_render_databricks_requires_every_catalog(
    catalogs: dict[str, str] | None, missing: str
) -> None:
    """A Databricks render without all three logical catalogs names the missing ones."""
    with pytest.raises(QueryError, match=f"no catalog configured for {missing}$"):
        sql.render("ledger/count", "databricks", catalogs)


# --- temporary query files -------------------------------------------------------------------

MAPPING_SQL = """
SELECT s.amount, l.source_table_name, c.source_column_name, g.seq, p.amount AS prod_amount
FROM uat.retail.sales AS s
JOIN system.access.table_lineage AS l ON l.target_table_name = 'sales'
JOIN system.access.column_lineage AS c ON c.target_table_name = 'sales'
JOIN governance.ledger AS g ON g.subject = s.id
JOIN prod.features.sales AS p ON p.id = s.id
JOIN lineage.table_lineage AS t ON t.record_id = l.record_id
"""


def test_duckdb_table_mapping(write_query: WriteQuery) -> None:
    """DuckDB: uat.x.y -> uat_x.y, prod.x.y -> prod_x.y, system.access.* -> lineage.*."""
    write_query("t/mapping", MAPPING_SQL)

    (duck,) = sql.render("t/mapping", "duckdb")

    assert {
        ("", "uat_retail", "sales"),
        ("", "lineage", "table_lineage"),
        ("", "lineage", "column_lineage"),
        ("", "governance", "ledger"),
        ("", "prod_features", "sales"),
    } == tables_of(duck, "duckdb")


def test_databricks_table_mapping(write_query: WriteQuery) -> None:
    """Databricks: env and governance/lineage tables move to the configured catalogs."""
    write_query("t/mapping", MAPPING_SQL)

    (bricks,) = sql.render("t/mapping", "databricks", CATALOGS)

    assert {
        ("uat_cat", "retail", "sales"),
        ("system", "access", "table_lineage"),
        ("system", "access", "column_lineage"),
        ("gov_cat", "governance", "ledger"),
        ("prod_cat", "features", "sales"),
        ("gov_cat", "lineage", "table_lineage"),
    } == tables_of(bricks, "databricks")


def test_render_is_per_catalog_configuration(write_query: WriteQuery) -> None:
    """Two catalog configurations render differently (the cache is keyed by catalogs)."""
    write_query("t/one", "SELECT * FROM uat.retail.sales")

    (first,) = sql.render("t/one", "databricks", CATALOGS)
    (second,) = sql.render("t/one", "databricks", {**CATALOGS, "uat": "staging"})

    assert {("uat_cat", "retail", "sales")} == tables_of(first, "databricks")
    assert {("staging", "retail", "sales")} == tables_of(second, "databricks")


def test_string_literals_casts_and_comments_are_not_parameters(write_query: WriteQuery) -> None:
    """':x' in a string, a ::cast and `-- :z` in a comment are not parameters; `:y` is."""
    write_query("t/literal", "-- uses :z in prose\nSELECT ':x' AS a, b::INT AS c, :y AS d FROM t")

    query = sql.load_query("t/literal")
    (duck,) = sql.render("t/literal", "duckdb")

    assert frozenset({"y"}) == query.params
    assert "':x'" in duck


def test_parse_error_names_query_and_file(write_query: WriteQuery) -> None:
    """Invalid SQL raises QueryError naming the query and the file, chained to the parse error."""
    write_query("t/broken", "SELECT FROM WHERE (")

    with pytest.raises(QueryError, match=r"'t/broken'.*broken\.sql is not valid") as info:
        sql.load_query("t/broken")

    assert isinstance(info.value.__cause__, sqlglot.errors.ParseError)


def test_unterminated_string_is_a_query_error(write_query: WriteQuery) -> None:
    """A file with an unterminated string literal raises QueryError, not a sqlglot error."""
    write_query("t/unterminated", "SELECT 'abc FROM t")

    with pytest.raises(QueryError, match="t/unterminated"):
        sql.load_query("t/unterminated")


@pytest.mark.parametrize("text", ["", "\n\n", "-- only a comment\n", ";"])
def test_file_without_statement(write_query: WriteQuery, text: str) -> None:
    """An empty or comment-only file raises QueryError: it holds no statement."""
    write_query("t/empty", text)

    with pytest.raises(QueryError, match="holds no statement"):
        sql.load_query("t/empty")


def test_multi_statement_file_keeps_order(write_query: WriteQuery) -> None:
    """Every statement of a multi-statement file is parsed and rendered, in file order."""
    write_query(
        "t/multi",
        "-- three statements\nCREATE SCHEMA IF NOT EXISTS uat.scratch;\n"
        "CREATE TABLE IF NOT EXISTS uat.scratch.a (x INT);\n"
        "INSERT INTO uat.scratch.a VALUES (:x);\n",
    )

    query = sql.load_query("t/multi")
    duck = sql.render("t/multi", "duckdb")

    assert 3 == len(query.statements)
    assert [exp.Create, exp.Create, exp.Insert] == [type(s) for s in query.statements]
    assert frozenset({"x"}) == query.params
    assert frozenset({"uat"}) == query.writes
    assert duck[0].endswith("CREATE SCHEMA IF NOT EXISTS uat_scratch")
    assert "CREATE TABLE IF NOT EXISTS uat_scratch.a" in duck[1]
    assert duck[2].startswith("INSERT INTO uat_scratch.a")


def test_doc_is_taken_from_comment_lines(write_query: WriteQuery) -> None:
    """The leading `--` comment lines become the query's doc, without the dashes."""
    write_query("t/doc", "-- First line.\n-- Second line.\nSELECT 1")

    assert "First line.\nSecond line." == sql.load_query("t/doc").doc


def test_doc_is_only_the_leading_block(write_query: WriteQuery) -> None:
    """Comments after the first statement are not part of the doc."""
    write_query("t/doc", "-- Leading doc.\nSELECT 1;\n-- note about the second\nSELECT 2")

    assert "Leading doc." == sql.load_query("t/doc").doc


def test_duckdb_override_is_used_for_duckdb_only(write_query: WriteQuery) -> None:
    """queries/duckdb/<name>.sql replaces the DuckDB rendering; Databricks uses the main file."""
    write_query("t/ovr", "SELECT 1 AS generic FROM uat.retail.sales")
    write_query("duckdb/t/ovr", "SELECT 2 AS duckdb_specific FROM uat_retail.sales")

    (duck,) = sql.render("t/ovr", "duckdb")
    (bricks,) = sql.render("t/ovr", "databricks", CATALOGS)

    assert "duckdb_specific" in duck
    assert "generic" in bricks
    assert ["t/ovr"] == sql.query_names()


@pytest.mark.parametrize(
    ("statement", "writes"),
    [
        ("INSERT INTO prod.retail.x SELECT 1", {"prod"}),
        ("INSERT INTO prod.retail.x (a) VALUES (1)", {"prod"}),
        ("INSERT OVERWRITE TABLE prod.retail.x SELECT 1", {"prod"}),
        ("UPDATE prod.retail.x SET a = 1", {"prod"}),
        ("DELETE FROM prod.retail.x WHERE a = 1", {"prod"}),
        (
            "MERGE INTO prod.retail.x AS t USING uat.retail.y AS s ON t.a = s.a "
            "WHEN MATCHED THEN UPDATE SET a = s.a",
            {"prod"},
        ),
        ("CREATE TABLE prod.retail.x (a INT)", {"prod"}),
        ("CREATE OR REPLACE VIEW prod.retail.v AS SELECT 1 AS a", {"prod"}),
        ("CREATE SCHEMA prod.retail", {"prod"}),
        pytest.param(
            "DROP TABLE prod.retail.x", {"prod"},
            id="drop-table",
        ),
        pytest.param(
            "DROP SCHEMA prod.retail", {"prod"},
            id="drop-schema",
        ),
        pytest.param(
            "INSERT INTO PROD.retail.x SELECT 1", {"prod"},
            id="upper-case-prod",
        ),
        ("ALTER TABLE prod.retail.x ADD COLUMN b INT", {"prod"}),
        ("INSERT INTO uat.retail.x SELECT * FROM prod.retail.y", {"uat"}),
        ("CREATE TABLE uat.retail.x AS SELECT * FROM prod.retail.y", {"uat"}),
        ("SELECT * FROM prod.retail.y", set()),
        ("INSERT INTO governance.ledger SELECT * FROM prod.retail.y", set()),
        pytest.param(
            "TRUNCATE TABLE prod.retail.x", {"prod"},
            id="truncate",
        ),
        pytest.param(
            "COPY INTO prod.retail.x FROM '/tmp/data'", {"prod"},
            id="copy-into",
        ),
    ],
)
def test_write_detection(write_query: WriteQuery, statement: str, writes: set[str]) -> None:
    """`writes` is the environment of the written table, never of a table only read."""
    write_query("t/write", statement)

    assert frozenset(writes) == sql.load_query("t/write").writes


def test_unmodelled_statement_on_prod_is_not_silently_allowed(write_query: WriteQuery) -> None:
    """A statement sqlglot parses only as a raw Command is refused or counted as a prod write."""
    write_query("t/command", "OPTIMIZE prod.retail.x")

    try:
        query = sql.load_query("t/command")
    except QueryError:
        return
    assert "prod" in query.writes


# --- IDENTIFIER(:name) run-time tables -------------------------------------------------------


def test_identifier_param_is_a_table_not_a_bound_value(write_query: WriteQuery) -> None:
    """IDENTIFIER(:t) is an identifier parameter: substituted as a table, not bound."""
    write_query("t/ident", "SELECT a FROM IDENTIFIER(:t) WHERE b = :b")

    query = sql.load_query("t/ident")

    assert frozenset({"t", "b"}) == query.params
    assert frozenset({"t"}) == query.identifiers
    assert {"b": 1} == query.bind_values({"t": "uat.inference.log", "b": 1})


def test_identifier_renders_per_engine(write_query: WriteQuery) -> None:
    """The run-time table name is mapped like a static one on both engines."""
    write_query("t/ident", "SELECT a FROM IDENTIFIER(:t)")
    tables = {"t": "uat.inference.log"}

    (duck,) = sql.render("t/ident", "duckdb", None, tables)
    (bricks,) = sql.render("t/ident", "databricks", CATALOGS, tables)

    assert {("", "uat_inference", "log")} == tables_of(duck, "duckdb")
    assert {("uat_cat", "inference", "log")} == tables_of(bricks, "databricks")


def test_identifier_value_is_required_for_render(write_query: WriteQuery) -> None:
    """Rendering without a value for an identifier parameter names it."""
    write_query("t/ident", "SELECT a FROM IDENTIFIER(:t)")

    with pytest.raises(QueryError, match=r"missing table parameter\(s\) t$"):
        sql.render("t/ident", "duckdb")


@pytest.mark.parametrize(
    "value",
    [
        "x; DROP TABLE y", "log", "a.b.c.d", "uat.inference.log--", "uat.inference.`log`",
        "uat.inference.log x", 5, None,
        pytest.param(
            "uat.inference.log\n",
            id="trailing-newline",
        ),
    ],
)
def test_identifier_value_must_be_a_plain_table_name(
    write_query: WriteQuery, value: object
) -> None:
    """Only plain 2- or 3-part names are accepted as identifier values (no injection)."""
    write_query("t/ident", "SELECT a FROM IDENTIFIER(:t)")

    with pytest.raises(QueryError, match=r"is not a table name like catalog\.schema\.table"):
        sql.load_query("t/ident").check_params({"t": value})


@pytest.mark.parametrize(
    "statement",
    ["DELETE FROM IDENTIFIER(:t) WHERE a = 1", "UPDATE IDENTIFIER(:t) SET a = 1"],
)
def test_identifier_write_target_counts_its_environment(
    write_query: WriteQuery, statement: str
) -> None:
    """A write into IDENTIFIER(:t) counts t's environment as written."""
    write_query("t/ident", statement)
    query = sql.load_query("t/ident")

    assert frozenset({"prod"}) == query.env_writes({"t": "prod.retail.x"})
    assert frozenset({"uat"}) == query.env_writes({"t": "uat.retail.x"})
    assert frozenset() == query.writes


def test_identifier_read_is_not_a_write(write_query: WriteQuery) -> None:
    """Reading from IDENTIFIER(:t) on prod writes nothing."""
    write_query("t/ident", "INSERT INTO uat.retail.x SELECT * FROM IDENTIFIER(:t)")

    assert frozenset({"uat"}) == sql.load_query("t/ident").env_writes({"t": "prod.retail.y"})


@pytest.mark.parametrize(
    "statement",
    ["INSERT INTO IDENTIFIER(:t) SELECT 1 AS a", "CREATE TABLE IDENTIFIER(:t) AS SELECT 1 AS a"],
)
def test_identifier_insert_target_counts_as_prod_write(
    write_query: WriteQuery, statement: str
) -> None:
    """INSERT INTO / CREATE TABLE IDENTIFIER(:t) with a prod t is a prod write."""
    write_query("t/ident", statement)
    query = sql.load_query("t/ident")

    assert frozenset({"t"}) == query.identifiers
    assert frozenset({"prod"}) == query.env_writes({"t": "prod.retail.x"})


def test_identifier_keeps_its_alias(write_query: WriteQuery) -> None:
    """`FROM IDENTIFIER(:t) AS l` keeps the alias l after substitution."""
    write_query("t/ident", "SELECT l.a FROM IDENTIFIER(:t) AS l")

    (duck,) = sql.render("t/ident", "duckdb", None, {"t": "uat.inference.log"})

    assert "SELECT l.a FROM uat_inference.log AS l" == duck


def test_identifier_environment_is_case_insensitive(write_query: WriteQuery) -> None:
    """A run-time target spelled PROD.retail.x is still a prod write."""
    write_query("t/ident", "DELETE FROM IDENTIFIER(:t)")

    assert frozenset({"prod"}) == sql.load_query("t/ident").env_writes({"t": "PROD.retail.x"})
