"""``python -m governance drift compare`` on Parquet/CSV files, run in-process.

Checks the JSON document of issue 3 (shape and values against scipy), exit codes, the table
format, globs and CSV, the planted-drift acceptance test at 100k and 1M rows per side, and
every "Bad input" case: a documented status, or exit 2 with ``error:`` naming file/column.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.unit.drift.conftest import (
    CATEGORICAL_TESTS,
    NUMERIC_TESTS,
    CliRun,
    assert_close_tests,
    parse_json,
    ref_categorical,
    ref_numeric,
    runner,
)

Cli = Callable[..., CliRun]
FEATURE_KEYS = {"feature", "type", "n_baseline", "n_current", "null_rate_baseline",
                "null_rate_current", "status", "score", "tests"}
DATASET_KEYS = {"drifted_features", "share", "verdict"}
# Documented additions: the reason per feature, and schema/skip/extra reporting per dataset.
EXTRA_FEATURE_KEYS = {"reason"}
EXTRA_DATASET_KEYS = {"score", "schema_problems", "skipped_columns", "extra_columns"}


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Cli:
    """Run the CLI in-process from an empty working folder."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return runner(capsys)


def write(path: Path, frame: pd.DataFrame | pa.Table) -> Path:
    """Write Parquet or CSV by suffix."""
    if isinstance(frame, pa.Table):
        pq.write_table(frame, path)
    elif path.suffix == ".csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def pair(tmp_path: Path, base: pd.DataFrame | pa.Table, cur: pd.DataFrame | pa.Table,
         suffix: str = ".parquet") -> tuple[Path, Path]:
    """Baseline and current files."""
    return write(tmp_path / f"base{suffix}", base), write(tmp_path / f"cur{suffix}", cur)


def compare_json(cli: Cli, base: Path | str, cur: Path | str, *extra: object) -> dict[str, Any]:
    """Run `drift compare --format json` and parse strictly (no NaN/Infinity)."""
    run = cli("drift", "compare", base, cur, "--format", "json", *extra)
    assert (0, "") == (run.code, run.err), run.err
    doc: dict[str, Any] = parse_json(run.out)
    return doc


def by_name(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Feature entries by name."""
    return {f["feature"]: f for f in doc["features"]}


def mixed_frames(n_base: int = 3000, n_cur: int = 2600, seed: int = 3
                 ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A numeric, a text, a boolean and a low-cardinality integer column, mildly drifted."""
    rng = np.random.default_rng(seed)
    base = pd.DataFrame({"x": rng.normal(0, 1, n_base),
                         "c": rng.choice(list("abcd"), n_base, p=[.4, .3, .2, .1]),
                         "flag": rng.random(n_base) < 0.3,
                         "k": rng.integers(0, 5, n_base)})
    cur = pd.DataFrame({"x": rng.normal(0.3, 1.1, n_cur),
                        "c": rng.choice(list("abcde"), n_cur, p=[.35, .3, .2, .1, .05]),
                        "flag": rng.random(n_cur) < 0.35,
                        "k": rng.integers(0, 6, n_cur)})
    return base, cur


# --------------------------------------------------------------------------------------------
# The JSON document
# --------------------------------------------------------------------------------------------


def test_json_document_has_the_issue_shape(cli: Cli, tmp_path: Path) -> None:
    """Top level features + dataset; per feature the issue's keys; tests per type, others
    absent."""
    doc = compare_json(cli, *pair(tmp_path, *mixed_frames()))
    assert {"features", "dataset"} == set(doc)
    assert DATASET_KEYS | EXTRA_DATASET_KEYS == set(doc["dataset"])
    assert ["x", "c", "flag", "k"] == [f["feature"] for f in doc["features"]]
    types = {f["feature"]: f["type"] for f in doc["features"]}
    assert {"x": "numeric", "c": "categorical", "flag": "boolean", "k": "categorical"} == types
    for f in doc["features"]:
        assert FEATURE_KEYS | EXTRA_FEATURE_KEYS == set(f)
        expected = NUMERIC_TESTS if f["type"] == "numeric" else CATEGORICAL_TESTS
        assert expected == set(f["tests"])
        if f["type"] == "numeric":
            assert {"statistic", "p_value"} == set(f["tests"]["ks"])
        else:
            assert {"statistic", "p_value"} == set(f["tests"]["chi2"])


def test_json_values_equal_scipy(cli: Cli, tmp_path: Path) -> None:
    """Every statistic equals scipy/numpy on the same rows."""
    base, cur = mixed_frames()
    features = by_name(compare_json(cli, *pair(tmp_path, base, cur)))
    assert_close_tests(ref_numeric(base["x"].to_numpy(), cur["x"].to_numpy()),
                       features["x"]["tests"])
    assert_close_tests(ref_categorical(base["c"].tolist(), cur["c"].tolist()),
                       features["c"]["tests"])
    assert_close_tests(ref_categorical(base["flag"].tolist(), cur["flag"].tolist()),
                       features["flag"]["tests"])
    assert_close_tests(ref_categorical(base["k"].astype(str).tolist(),
                                       cur["k"].astype(str).tolist()), features["k"]["tests"])
    for f in features.values():
        assert (3000, 2600, 0.0, 0.0) == (f["n_baseline"], f["n_current"],
                                          f["null_rate_baseline"], f["null_rate_current"])


def test_dataset_summary_matches_the_features(cli: Cli, tmp_path: Path) -> None:
    """drifted_features lists the drift statuses; share is over tested features."""
    doc = compare_json(cli, *pair(tmp_path, *mixed_frames()))
    drifted = [f["feature"] for f in doc["features"] if f["status"] == "drift"]
    assert drifted == doc["dataset"]["drifted_features"]
    assert len(drifted) / 4 == doc["dataset"]["share"]
    assert "drift" == doc["dataset"]["verdict"]


def test_fail_on_drift_exits_3_only_on_drift(cli: Cli, tmp_path: Path) -> None:
    """--fail-on-drift: 3 when the verdict is drift, 0 on identical data; 0 without the flag."""
    base, cur = pair(tmp_path, *mixed_frames())
    assert 3 == cli("drift", "compare", base, cur, "--fail-on-drift").code
    assert 0 == cli("drift", "compare", base, cur).code
    same = cli("drift", "compare", base, base, "--fail-on-drift", "--format", "json")
    assert 0 == same.code
    assert "ok" == parse_json(same.out)["dataset"]["verdict"]


def test_table_format_prints_every_feature_and_the_verdict(cli: Cli, tmp_path: Path) -> None:
    """The default table: header, one row per feature (highest score first), dataset line,
    skipped and extra columns."""
    base, cur = mixed_frames()
    base["day"] = pd.Timestamp("2026-01-01")
    cur["day"] = pd.Timestamp("2026-01-02")
    cur["added"] = 1.0
    run = cli("drift", "compare", *pair(tmp_path, base, cur))
    assert (0, "") == (run.code, run.err)
    lines = run.out.splitlines()
    assert lines[0].split()[:4] == ["feature", "type", "status", "score"]
    rows = {line.split()[0]: line.split() for line in lines[1:5]}
    assert {"x", "c", "flag", "k"} == set(rows)
    scores = [float(line.split()[3]) for line in lines[1:5]]
    assert sorted(scores, reverse=True) == scores
    assert any(line.startswith("dataset: drift") for line in lines)
    assert any(line.startswith("skipped day: TIMESTAMP") and "not drift-tested" in line
               for line in lines)
    assert "ignored columns only in current: added" in lines


def test_two_parquet_parts_per_side_equal_one_file(cli: Cli, tmp_path: Path) -> None:
    """A glob over two parts per side gives exactly the one-file result."""
    base, cur = mixed_frames()
    whole = compare_json(cli, *pair(tmp_path, base, cur))
    parts = tmp_path / "parts"
    parts.mkdir()
    write(parts / "base-1.parquet", base.iloc[:1000])
    write(parts / "base-2.parquet", base.iloc[1000:])
    write(parts / "cur-1.parquet", cur.iloc[:2000])
    write(parts / "cur-2.parquet", cur.iloc[2000:])
    globbed = compare_json(cli, parts / "base-*.parquet", parts / "cur-*.parquet")
    assert whole == globbed


def test_csv_gives_the_parquet_result(cli: Cli, tmp_path: Path) -> None:
    """The same data as CSV gives the same document."""
    base, cur = mixed_frames()
    parquet = compare_json(cli, *pair(tmp_path, base, cur))
    csv = compare_json(cli, *pair(tmp_path, base, cur, suffix=".csv"))
    assert parquet == csv


def test_low_cardinality_integers_are_categorical_unless_overridden(
        cli: Cli, tmp_path: Path) -> None:
    """An int column with <= 20 values is categorical, 21+ numeric; --categorical forces."""
    n = 2100
    frame = pd.DataFrame({"store": np.arange(n) % 20, "age": np.arange(n) % 21,
                          "price": np.linspace(1, 2, n)})
    base, cur = pair(tmp_path, frame, frame)
    types = {f["feature"]: f["type"] for f in compare_json(cli, base, cur)["features"]}
    assert {"store": "categorical", "age": "numeric", "price": "numeric"} == types
    forced = compare_json(cli, base, cur, "--categorical", "age, price")
    assert {"store": "categorical", "age": "categorical", "price": "categorical"} == {
        f["feature"]: f["type"] for f in forced["features"]}


def test_policy_defaults_change_the_verdict(cli: Cli, tmp_path: Path) -> None:
    """[defaults] in --policy raises the numeric thresholds: x is no longer drift."""
    base, cur = pair(tmp_path, *mixed_frames())
    policy = tmp_path / "p.toml"
    policy.write_text("[defaults]\npsi_drift = 10.0\nwasserstein_drift = 10.0\n",
                      encoding="utf-8")
    assert "drift" == by_name(compare_json(cli, base, cur))["x"]["status"]
    assert "warn" == by_name(compare_json(cli, base, cur, "--policy", policy))["x"]["status"]


def test_bh_policy_adds_adjusted_p_values(cli: Cli, tmp_path: Path) -> None:
    """[dataset] bh = true adds tests.p_value_bh to every tested feature."""
    base, cur = pair(tmp_path, *mixed_frames())
    policy = tmp_path / "bh.toml"
    policy.write_text("[dataset]\nbh = true\n", encoding="utf-8")
    for f in compare_json(cli, base, cur, "--policy", policy)["features"]:
        p = f["tests"]["ks" if f["type"] == "numeric" else "chi2"]["p_value"]
        assert p <= f["tests"]["p_value_bh"] <= 1.0


def test_policy_can_override_one_feature_for_files(cli: Cli, tmp_path: Path) -> None:
    """A per-feature override in --policy changes exactly that feature's verdict."""
    base, cur = mixed_frames()
    base["y"], cur["y"] = base["x"], cur["x"]
    files = pair(tmp_path, base, cur)
    policy = tmp_path / "f.toml"
    policy.write_text("[features.x]\npsi_drift = 10.0\nwasserstein_drift = 10.0\n",
                      encoding="utf-8")
    features = by_name(compare_json(cli, *files, "--policy", policy))
    assert ("warn", "drift") == (features["x"]["status"], features["y"]["status"])


# --------------------------------------------------------------------------------------------
# Planted drift: exactly the planted features are flagged
# --------------------------------------------------------------------------------------------

CATS = ["A", "B", "C", "D", "E", "F", "G", "H", "NEW", "RARE_NEW"]
PLANTED = ["num0", "num1", "cat0"]


def planted_side(n: int, rng: np.random.Generator, current: bool) -> pa.Table:
    """8 numeric + 4 categorical columns. In current: num0 +0.5 sd, num1 sd x1.6, cat0 a new
    category on 10% of rows (planted); num2 +0.01 sd, cat1 a new category on 0.05% (nuisance)."""
    cols: dict[str, pa.Array] = {}
    for i in range(8):
        x = rng.normal(10.0, 2.0, n)
        if current and i == 0:
            x += 0.5 * 2.0
        if current and i == 1:
            x = 10.0 + (x - 10.0) * 1.6
        if current and i == 2:
            x += 0.01 * 2.0
        cols[f"num{i}"] = pa.array(x)
    for j in range(4):
        idx = rng.integers(0, 8, n)
        if current and j == 0:
            idx[rng.random(n) < 0.10] = 8
        if current and j == 1:
            idx[rng.random(n) < 0.0005] = 9
        cols[f"cat{j}"] = pa.DictionaryArray.from_arrays(pa.array(idx, pa.int32()), pa.array(CATS))
    return pa.table(cols)


def check_planted(cli: Cli, tmp_path: Path, n: int) -> dict[str, Any]:
    """Write n rows per side, compare, and check exactly the planted features drift."""
    rng = np.random.default_rng(2026)
    base, cur = pair(tmp_path, planted_side(n, rng, False), planted_side(n, rng, True))
    doc = compare_json(cli, base, cur)
    features = by_name(doc)
    assert PLANTED == doc["dataset"]["drifted_features"]
    assert ("drift", 3 / 12) == (doc["dataset"]["verdict"], doc["dataset"]["share"])
    assert {"ok"} == {f["status"] for name, f in features.items() if name not in PLANTED}
    assert {"numeric"} == {features[f"num{i}"]["type"] for i in range(8)}
    assert {"categorical"} == {features[f"cat{j}"]["type"] for j in range(4)}
    assert 0.10 == pytest.approx(features["cat0"]["tests"]["unseen_share"], abs=0.005)
    assert "unseen_share" in features["cat0"]["reason"]
    # The nuisance new category is significant but tiny: not drift.
    assert features["cat1"]["tests"]["unseen_share"] < 0.001
    assert features["cat1"]["tests"]["chi2"]["p_value"] < 0.01
    assert all(features[f"num{i}"]["n_current"] == n for i in range(8))
    return features


def test_planted_drift_is_exactly_flagged_at_100k_rows(cli: Cli, tmp_path: Path) -> None:
    """100k rows per side: num0, num1, cat0 drift; nothing else (nuisance changes stay ok)."""
    check_planted(cli, tmp_path, 100_000)


@pytest.mark.slow
def test_planted_drift_is_exactly_flagged_at_1m_rows(cli: Cli, tmp_path: Path) -> None:
    """1M rows per side: the same three; the 0.01-sd shift has p << alpha and is still ok."""
    started = time.monotonic()
    features = check_planted(cli, tmp_path, 1_000_000)
    assert features["num2"]["tests"]["ks"]["p_value"] < 0.01
    assert features["num2"]["tests"]["wasserstein_norm"] < 0.05
    assert time.monotonic() - started < 60


# --------------------------------------------------------------------------------------------
# Bad input: a documented status, or exit 2 naming file/column, never a traceback
# --------------------------------------------------------------------------------------------


def assert_usage_error(run: CliRun, *needles: str) -> None:
    """Exit 2, nothing on stdout, `error:` first on stderr with every needle, no traceback."""
    assert (2, "") == (run.code, run.out)
    assert run.err.startswith("error: ")
    assert "Traceback" not in run.err
    for needle in needles:
        assert needle in run.err


def test_zero_byte_parquet_is_an_error_naming_the_file(cli: Cli, tmp_path: Path) -> None:
    """A zero-byte file: exit 2 naming it."""
    base, _ = pair(tmp_path, *mixed_frames())
    empty = tmp_path / "empty.parquet"
    empty.touch()
    assert_usage_error(cli("drift", "compare", base, empty), "empty.parquet")


def test_zero_byte_csv_is_an_error_naming_the_file(cli: Cli, tmp_path: Path) -> None:
    """A zero-byte CSV: exit 2 naming it."""
    base, _ = pair(tmp_path, *mixed_frames(), suffix=".csv")
    empty = tmp_path / "empty.csv"
    empty.touch()
    assert_usage_error(cli("drift", "compare", base, empty), "empty.csv")


def test_zero_row_categorical_file_is_insufficient_data(cli: Cli, tmp_path: Path) -> None:
    """A current file with the columns but no rows: insufficient_data (text columns)."""
    base = pd.DataFrame({"c": ["a", "b"] * 200})
    doc = compare_json(cli, *pair(tmp_path, base, base.iloc[:0]))
    (feature,) = doc["features"]
    assert ("insufficient_data", 0, None) == (feature["status"], feature["n_current"],
                                              feature["score"])
    assert "insufficient_data" == doc["dataset"]["verdict"]


def test_zero_row_numeric_file_is_insufficient_data(cli: Cli, tmp_path: Path) -> None:
    """A current file with a numeric column but no rows: insufficient_data, exit 0."""
    base, _ = mixed_frames()
    doc = compare_json(cli, *pair(tmp_path, base, base.iloc[:0]))
    assert {"insufficient_data"} == {f["status"] for f in doc["features"]}


def test_table_format_with_an_empty_current_file(cli: Cli, tmp_path: Path) -> None:
    """--format table on a zero-row current file prints insufficient_data."""
    base = pd.DataFrame({"c": ["a", "b"] * 200})
    run = cli("drift", "compare", *pair(tmp_path, base, base.iloc[:0]))
    assert 0 == run.code
    assert "insufficient_data" in run.out


def test_missing_extra_and_retyped_columns(cli: Cli, tmp_path: Path) -> None:
    """Missing -> schema_missing, retyped (numbers as strings) -> schema_type_changed, both in
    schema_problems and the verdict is drift (exit 3 with --fail-on-drift); extra columns are
    ignored and reported."""
    base, _ = mixed_frames()
    cur = base.drop(columns=["c"]).assign(x=base["x"].astype(str), surprise=1.0)
    files = pair(tmp_path, base, cur)
    doc = compare_json(cli, *files)
    features = by_name(doc)
    assert ("schema_missing", None) == (features["c"]["status"], features["c"]["score"])
    assert "'c'" in features["c"]["reason"]
    assert "schema_type_changed" == features["x"]["status"]
    assert "'x' was DOUBLE" in features["x"]["reason"]
    assert "VARCHAR" in features["x"]["reason"]
    assert {"ok"} == {features["flag"]["status"], features["k"]["status"]}
    assert "surprise" not in features
    assert ["surprise"] == doc["dataset"]["extra_columns"]
    assert (["x", "c"], "drift") == (doc["dataset"]["schema_problems"],
                                     doc["dataset"]["verdict"])
    assert 3 == cli("drift", "compare", *files, "--fail-on-drift").code


def test_all_null_text_column_is_all_null(cli: Cli, tmp_path: Path) -> None:
    """A text column null on every current row: all_null."""
    base = pd.DataFrame({"c": ["a", "b"] * 200})
    cur = pa.table({"c": pa.array([None] * 400, pa.string())})
    (feature,) = compare_json(cli, *pair(tmp_path, base, cur))["features"]
    assert ("all_null", 1.0) == (feature["status"], feature["null_rate_current"])


def test_all_null_numeric_column_is_all_null(cli: Cli, tmp_path: Path) -> None:
    """A DOUBLE column null on every current row: all_null."""
    base = pd.DataFrame({"x": np.linspace(0, 1, 400)})
    cur = pa.table({"x": pa.array([None] * 400, pa.float64())})
    (feature,) = compare_json(cli, *pair(tmp_path, base, cur))["features"]
    assert "all_null" == feature["status"]


def test_constant_columns_are_constant_with_score_zero(cli: Cli, tmp_path: Path) -> None:
    """Constant numeric and text columns: status constant, score 0 (never NaN)."""
    frame = pd.DataFrame({"n": [7.5] * 300, "t": ["same"] * 300})
    features = by_name(compare_json(cli, *pair(tmp_path, frame, frame)))
    assert {("constant", 0.0)} == {(f["status"], f["score"]) for f in features.values()}


def nan_inf_samples() -> tuple[np.ndarray, np.ndarray]:
    """Baseline with 60 NaN; current with 150 NaN, 20 +inf and 5 -inf, 3000 rows each."""
    rng = np.random.default_rng(6)
    b, c = rng.normal(0, 1, 3000), rng.normal(0, 1, 3000)
    b[:60] = np.nan
    c[:150], c[150:170], c[170:175] = np.nan, np.inf, -np.inf
    return b, c


def check_nan_inf(feature: dict[str, Any], b: np.ndarray, c: np.ndarray) -> None:
    """NaN counted as null, inf counted apart and excluded, the rest equal to scipy."""
    assert {"baseline": 0, "current": 25} == feature["tests"]["non_finite"]
    assert (60 / 3000, 150 / 3000) == (pytest.approx(feature["null_rate_baseline"]),
                                       pytest.approx(feature["null_rate_current"]))
    assert_close_tests(ref_numeric(b, c), feature["tests"])
    assert "ok" == feature["status"]


def test_nan_and_infinities_in_csv(cli: Cli, tmp_path: Path) -> None:
    """CSV 'nan' is null, 'inf'/'-inf' are counted in tests.non_finite and left out of the tests;
    the output is strict JSON (no NaN/Infinity)."""
    b, c = nan_inf_samples()
    for name, values in (("base.csv", b), ("cur.csv", c)):
        (tmp_path / name).write_text("x\n" + "\n".join(repr(float(v)) for v in values) + "\n",
                                     encoding="utf-8")
    (feature,) = compare_json(cli, tmp_path / "base.csv", tmp_path / "cur.csv")["features"]
    check_nan_inf(feature, b, c)


def test_nan_values_in_parquet_are_null(cli: Cli, tmp_path: Path) -> None:
    """Parquet holding NaN values (numpy/Spark/polars writers): NaN is null, not an error."""
    b, c = nan_inf_samples()
    files = pair(tmp_path, pa.table({"x": pa.array(b)}), pa.table({"x": pa.array(c)}))
    (feature,) = compare_json(cli, *files)["features"]
    check_nan_inf(feature, b, c)


def test_nan_as_null_and_infinities_in_parquet(cli: Cli, tmp_path: Path) -> None:
    """pandas writes NaN as Parquet null; +-inf stays and is counted apart."""
    b, c = nan_inf_samples()
    files = pair(tmp_path, pd.DataFrame({"x": b}), pd.DataFrame({"x": c}))
    (feature,) = compare_json(cli, *files)["features"]
    check_nan_inf(feature, b, c)


def test_100k_distinct_categories_fold_and_finish_fast(cli: Cli, tmp_path: Path) -> None:
    """100k distinct baseline categories: tests over the 50 kept + other + unseen, in seconds."""
    n = 100_000
    base = [f"sku-{i:06d}" for i in range(n)]
    rng = np.random.default_rng(12)
    cur = [base[i] for i in rng.permutation(n)[:90_000]] + [f"new-{i}" for i in range(10_000)]
    files = pair(tmp_path, pd.DataFrame({"sku": base}), pd.DataFrame({"sku": cur}))
    started = time.monotonic()
    doc = compare_json(cli, *files)
    elapsed = time.monotonic() - started
    (feature,) = doc["features"]
    assert elapsed < 10.0
    assert_close_tests(ref_categorical(base, cur, max_categories=50), feature["tests"])
    assert 0.1 == pytest.approx(feature["tests"]["unseen_share"])
    assert "drift" == feature["status"]


@pytest.mark.parametrize("name", ["prix_été", "店舗", "price; DROP TABLE x--", 'a"b', "select",
                                  "it's", "Mixed Case"])
def test_odd_column_names_work_and_appear_verbatim(cli: Cli, tmp_path: Path, name: str) -> None:
    """Non-ASCII, SQL-looking and quoting names are plain column names in and out."""
    rng = np.random.default_rng(1)
    base = pd.DataFrame({name: rng.normal(size=500), f"{name}_cat": rng.choice(["p", "q"], 500)})
    cur = pd.DataFrame({name: rng.normal(1.0, 1, 500), f"{name}_cat": rng.choice(["p", "q"], 500)})
    doc = compare_json(cli, *pair(tmp_path, base, cur))
    assert [name, f"{name}_cat"] == [f["feature"] for f in doc["features"]]
    assert ["drift", "ok"] == [f["status"] for f in doc["features"]]
    assert [name] == doc["dataset"]["drifted_features"]
    table = cli("drift", "compare", *pair(tmp_path, base, cur))
    assert name[:28] in table.out


def test_window_smaller_than_min_rows_is_insufficient_data(cli: Cli, tmp_path: Path) -> None:
    """A 60-row current file (< min_rows 100): every feature insufficient_data."""
    base, cur = mixed_frames()
    doc = compare_json(cli, *pair(tmp_path, base, cur.iloc[:60]))
    assert {"insufficient_data"} == {f["status"] for f in doc["features"]}
    assert all("fewer than 100 non-null rows" in f["reason"] for f in doc["features"])
    assert "insufficient_data" == doc["dataset"]["verdict"]


def test_glob_matching_nothing_is_an_error_naming_the_pattern(cli: Cli, tmp_path: Path) -> None:
    """A glob with no match: exit 2 naming the pattern."""
    base, _ = pair(tmp_path, *mixed_frames())
    pattern = str(tmp_path / "nowhere-*.parquet")
    assert_usage_error(cli("drift", "compare", base, pattern), f"no file matches '{pattern}'")


def test_mixed_csv_and_parquet_is_an_error(cli: Cli, tmp_path: Path) -> None:
    """One pattern matching .csv and .parquet files: exit 2."""
    base, cur = mixed_frames()
    write(tmp_path / "part-1.csv", base)
    write(tmp_path / "part-2.parquet", base)
    cur_file = write(tmp_path / "cur.parquet", cur)
    assert_usage_error(cli("drift", "compare", tmp_path / "part-*", cur_file),
                       "expected only .parquet or only .csv files")


def test_unknown_categorical_column_is_an_error(cli: Cli, tmp_path: Path) -> None:
    """--categorical naming a column the baseline lacks: exit 2 naming it."""
    files = pair(tmp_path, *mixed_frames())
    assert_usage_error(cli("drift", "compare", *files, "--categorical", "nope"), "'nope'")


@pytest.mark.parametrize(("text", "needle"), [
    ("[defaults]\npsi_drfit = 0.3\n", "defaults.psi_drfit: unknown"),
    ("[defaults]\npsi_drift = 'high'\n", "defaults.psi_drift='high': must be float"),
    ("[defaults\n", "not valid TOML"),
    (None, "policy file not found"),
])
def test_bad_policy_is_exit_2_naming_the_file(cli: Cli, tmp_path: Path, text: str | None,
                                              needle: str) -> None:
    """Unknown key, wrong type, bad TOML, missing file: exit 2 with the file name."""
    files = pair(tmp_path, *mixed_frames())
    policy = tmp_path / "policy.toml"
    if text is not None:
        policy.write_text(text, encoding="utf-8")
    assert_usage_error(cli("drift", "compare", *files, "--policy", policy),
                       f"{policy}: {needle}")
