"""``drift compare`` inputs: file patterns, column pairing, kind inference and schema changes."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from governance.drift import engine, files
from governance.drift.policy import Policy
from governance.errors import DataError, QueryError


def write(path: Path, frame: pd.DataFrame | pa.Table) -> Path:
    """Write a frame as Parquet or CSV, by suffix."""
    if isinstance(frame, pa.Table):
        pq.write_table(frame, path)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def plan_of(tmp_path: Path, base: pd.DataFrame | pa.Table, cur: pd.DataFrame | pa.Table,
            categorical: tuple[str, ...] = (), suffix: str = ".parquet") -> files.Plan:
    """The plan for two frames written to files."""
    b = write(tmp_path / f"b{suffix}", base)
    c = write(tmp_path / f"c{suffix}", cur)
    with files.open_files(str(b), str(c)) as (_, con):
        return files.plan(con, categorical)


def compare_files(base: Path, cur: Path, categorical: tuple[str, ...] = ()
                  ) -> engine.DatasetResult:
    """What the CLI computes for two file patterns."""
    with files.open_files(str(base), str(cur)) as (session, con):
        plan = files.plan(con, categorical)
        return engine.compare(session, engine.Source(files.BASELINE),
                              engine.Source(files.CURRENT), plan.specs, Policy(),
                              schema_issues=plan.schema_issues)


def kinds(plan: files.Plan) -> dict[str, str]:
    """Feature name -> kind."""
    return {s.name: s.kind for s in plan.specs}


# --------------------------------------------------------------------------------------------
# Patterns and unreadable files
# --------------------------------------------------------------------------------------------


def test_glob_matching_nothing_names_the_pattern(tmp_path: Path) -> None:
    """A glob with no match is a DataError naming the pattern."""
    real = write(tmp_path / "b.parquet", pd.DataFrame({"x": [1.0]}))
    pattern = str(tmp_path / "nothing_*.parquet")
    with pytest.raises(DataError, match=r"no file matches '.*nothing_\*\.parquet'"), \
            files.open_files(str(real), pattern):
        pass


def test_missing_file_is_named(tmp_path: Path) -> None:
    """A plain path that does not exist is named."""
    real = write(tmp_path / "b.parquet", pd.DataFrame({"x": [1.0]}))
    with pytest.raises(DataError, match=r"file not found: .*absent\.parquet"), \
            files.open_files(str(tmp_path / "absent.parquet"), str(real)):
        pass


def test_mixed_csv_and_parquet_is_an_error(tmp_path: Path) -> None:
    """One pattern matching both formats is refused, naming the pattern and suffixes."""
    write(tmp_path / "part1.csv", pd.DataFrame({"x": [1.0]}))
    write(tmp_path / "part2.parquet", pd.DataFrame({"x": [1.0]}))
    pattern = str(tmp_path / "part*")
    with pytest.raises(DataError, match=r"expected only \.parquet or only \.csv files, got "
                                        r"\.csv, \.parquet"), files.open_files(pattern, pattern):
        pass


def test_other_suffix_is_an_error(tmp_path: Path) -> None:
    """A .json file is neither Parquet nor CSV."""
    path = tmp_path / "data.json"
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(DataError, match=r"got \.json"), files.open_files(str(path), str(path)):
        pass


def test_zero_byte_parquet_names_the_file(tmp_path: Path) -> None:
    """A zero-byte .parquet file is a DataError naming it."""
    good = write(tmp_path / "b.parquet", pd.DataFrame({"x": [1.0]}))
    empty = tmp_path / "empty.parquet"
    empty.touch()
    with pytest.raises(DataError, match=r"cannot read '.*empty\.parquet'"), \
            files.open_files(str(good), str(empty)):
        pass


def test_zero_byte_csv_names_the_file(tmp_path: Path) -> None:
    """A zero-byte .csv file is a DataError naming it."""
    good = write(tmp_path / "b.csv", pd.DataFrame({"x": [1.0]}))
    empty = tmp_path / "empty.csv"
    empty.touch()
    with pytest.raises(DataError, match=r"empty\.csv"), files.open_files(str(good), str(empty)):
        pass


# --------------------------------------------------------------------------------------------
# Kind inference
# --------------------------------------------------------------------------------------------


def test_kinds_are_inferred_from_baseline_types(tmp_path: Path) -> None:
    """Floats numeric; ints with <= 20 distinct values categorical, 21+ numeric; text and
    booleans categorical/boolean; dates skipped with a reason."""
    n = 420
    frame = pd.DataFrame({
        "price": np.linspace(0, 1, n),
        "store": np.arange(n) % 20,
        "age": np.arange(n) % 21,
        "few_floats": (np.arange(n) % 3).astype(float),
        "city": ["a", "b", "c"] * (n // 3),
        "flag": [True, False] * (n // 2),
        "day": pd.date_range("2026-01-01", periods=n, freq="D"),
    })
    plan = plan_of(tmp_path, frame, frame)
    assert {"price": "numeric", "store": "categorical", "age": "numeric",
            "few_floats": "numeric", "city": "categorical", "flag": "boolean"} == kinds(plan)
    assert ["day"] == list(plan.skipped)
    assert "not drift-tested" in plan.skipped["day"]
    assert ({}, ()) == (plan.schema_issues, plan.extra)


def test_interval_columns_are_skipped_like_other_temporal_types(tmp_path: Path) -> None:
    """An INTERVAL column (e.g. written by DuckDB/Spark) is skipped, not tested as a number."""
    path = tmp_path / "iv.parquet"
    duckdb.sql(f"COPY (SELECT to_days(CAST(i AS INTEGER)) AS wait, i * 1.5 AS x "
               f"FROM range(300) t(i)) TO '{path}' (FORMAT parquet)")
    with files.open_files(str(path), str(path)) as (_, con):
        plan = files.plan(con)
    assert ({"x": "numeric"}, ["wait"]) == (kinds(plan), list(plan.skipped))


def test_nulls_do_not_count_as_a_distinct_value(tmp_path: Path) -> None:
    """20 integer values plus nulls is still low-cardinality: categorical."""
    k = pd.Series(np.arange(400) % 20, dtype="Int64")
    k[::7] = pd.NA
    frame = pd.DataFrame({"k": k})
    assert {"k": "categorical"} == kinds(plan_of(tmp_path, frame, frame))


def test_categorical_option_overrides_inference(tmp_path: Path) -> None:
    """--categorical forces numeric columns to categorical."""
    frame = pd.DataFrame({"price": np.linspace(0, 1, 100), "age": np.arange(100)})
    plan = plan_of(tmp_path, frame, frame, categorical=("price", "age"))
    assert {"price": "categorical", "age": "categorical"} == kinds(plan)


def test_categorical_option_naming_an_unknown_column_is_an_error(tmp_path: Path) -> None:
    """--categorical with a name the baseline lacks: DataError naming it and the columns."""
    frame = pd.DataFrame({"price": [1.0]})
    with pytest.raises(DataError, match=r"--categorical names 'nope'.*columns: price"):
        plan_of(tmp_path, frame, frame, categorical=("nope",))


# --------------------------------------------------------------------------------------------
# Schema changes
# --------------------------------------------------------------------------------------------


def test_missing_extra_and_retyped_columns(tmp_path: Path) -> None:
    """Missing -> schema_missing; numbers as strings -> schema_type_changed; extra -> reported;
    INTEGER vs DOUBLE is the same family (no issue)."""
    base = pd.DataFrame({"gone": [1.0, 2.0], "price": [1.5, 2.5], "qty": [1, 2],
                         "keep": ["a", "b"]})
    cur = pd.DataFrame({"price": ["1.5", "2.5"], "qty": [1.0, 2.0], "keep": ["a", "b"],
                        "new_col": [0, 1]})
    plan = plan_of(tmp_path, base, cur)
    assert {"gone", "price"} == set(plan.schema_issues)
    status, reason = plan.schema_issues["gone"]
    assert ("schema_missing", "column 'gone' is missing from the current data") == (status, reason)
    status, reason = plan.schema_issues["price"]
    assert "schema_type_changed" == status
    assert "'price' was DOUBLE in the baseline and is VARCHAR in the current data" in reason
    assert ("new_col",) == plan.extra


def test_csv_numbers_arriving_as_strings_change_type(tmp_path: Path) -> None:
    """A CSV column that used to parse as numbers but now holds text is schema_type_changed."""
    base = pd.DataFrame({"amount": np.linspace(1, 2, 200)})
    cur = pd.DataFrame({"amount": ["1.5", "n/a"] * 100})
    plan = plan_of(tmp_path, base, cur, suffix=".csv")
    assert "schema_type_changed" == plan.schema_issues["amount"][0]


def test_all_null_typed_column_is_all_null_not_a_type_change(tmp_path: Path) -> None:
    """pa.null() column in current (e.g. pandas object column of None) -> all_null."""
    base = write(tmp_path / "b.parquet", pd.DataFrame({"x": np.linspace(0, 1, 300)}))
    cur = write(tmp_path / "c.parquet", pa.table({"x": pa.array([None] * 300, pa.null())}))
    (feature,) = compare_files(base, cur).features
    assert "all_null" == feature.status


def test_integer_categories_arriving_as_floats_are_not_unseen(tmp_path: Path) -> None:
    """store in 1..5 (int64) vs the same values as float64 with one null: not drifted."""
    rng = np.random.default_rng(1)
    stores = rng.integers(1, 6, 2000)
    base = write(tmp_path / "b.parquet", pd.DataFrame({"store": stores}))
    cur_stores = stores.astype(float)
    cur_stores[0] = np.nan
    cur = write(tmp_path / "c.parquet", pd.DataFrame({"store": cur_stores}))
    (feature,) = compare_files(base, cur).features
    assert "categorical" == feature.type
    assert 0.0 == feature.tests["unseen_share"]
    assert "ok" == feature.status


# --------------------------------------------------------------------------------------------
# Pre-rendered queries (no sqlglot on the drift compare path)
# --------------------------------------------------------------------------------------------

AWKWARD = ("x", "we\"ird", "two words", "é-ü 列", "select", "a'b", "{col}", "\"\"")


@pytest.mark.parametrize("column", AWKWARD)
@pytest.mark.parametrize("name", sorted(files.RENDERED))
def test_pre_rendered_queries_equal_sql_render(name: str, column: str) -> None:
    from governance import sql

    params = {"tbl": files.BASELINE, "col": column}
    if "{col}" not in files.RENDERED[name]:
        del params["col"]
    rendered = sql.render(name, "duckdb", tables=params)
    without_comments = tuple(re.sub(r"/\*.*?\*/\s*", "", s, flags=re.S) for s in rendered)
    session = files.FileSession(duckdb.connect())
    assert without_comments == session._prepare(name, params)
    assert sql.load_query(name).bind_values(params) == session._bind(name, params)


def test_pre_rendered_queries_run_on_awkward_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({name: rng.normal(size=400) for name in AWKWARD[:6]})
    frame["a'b"] = rng.choice(["p", "q"], 400)
    base = write(tmp_path / "b'1.parquet", frame)
    result = compare_files(base, base, categorical=("a'b",))
    assert {f.feature: f.status for f in result.features} == dict.fromkeys(frame.columns, "ok")


def test_other_queries_and_bad_parameters_take_the_checked_path(tmp_path: Path) -> None:
    b = write(tmp_path / "b.parquet", pd.DataFrame({"x": [1.0, 2.0]}))
    with files.open_files(str(b), str(b)) as (session, _):
        assert isinstance(session, files.FileSession)
        with pytest.raises(QueryError, match="unknown parameter"):
            session.fetch_rows("drift/row_count", {"tbl": files.BASELINE, "extra": 1})
        with pytest.raises(QueryError, match="not a column name"):
            session.fetch_rows("drift/category_counts", {"tbl": files.BASELINE, "col": ""})
        (health,) = session.fetch_rows("drift/numeric_health", {"tbl": files.BASELINE,
                                                                 "col": "x"})
        assert 2 == health["n_rows"]


def test_drift_compare_on_files_does_not_import_sqlglot(tmp_path: Path) -> None:
    b = write(tmp_path / "b.parquet", pd.DataFrame({"x": np.arange(300.0), "c": ["a"] * 300}))
    code = ("import sys\nfrom governance.cli import main\n"
            f"main(['drift', 'compare', {str(b)!r}, {str(b)!r}, '--categorical', 'c'])\n"
            "assert 'sqlglot' not in sys.modules, 'sqlglot imported'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=False)
    assert 0 == done.returncode, done.stderr
