"""Baseline profiles: frozen decile edges equal numpy, stored once, and used by the monitor."""

from __future__ import annotations

import json
from datetime import date, datetime

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from governance.backends.duckdb import DuckDBSession
from governance.drift import monitor, profile
from governance.drift.engine import FeatureSpec
from governance.drift.policy import Policy
from governance.errors import DataError
from governance.ledger import canonical_json
from governance.settings import Settings
from governance.warehouse import Warehouse
from tests.unit.drift.conftest import DECILES, DemoCopy, read_demo, ref_psi

NOW = datetime(2026, 9, 1, 12, 0, 0)


def training_table() -> tuple[pa.Table, np.ndarray]:
    """A training table with ties, NaN, NULL and inf in the numeric column; and its finite
    values."""
    rng = np.random.default_rng(17)
    x = np.round(rng.gamma(2.0, 3.0, 5000), 1)
    x[:1600] = 0.0  # 32% ties at one value: some deciles coincide and are de-duplicated
    x[1600:1620] = np.nan
    x[1620:1625] = np.inf
    values = [*x.tolist(), None, None, None]
    cat = rng.choice(["north", "south", "east", "west", "été"], 5003).tolist()
    cat[:100] = [None] * 100
    table = pa.table({"spend": pa.array(values, pa.float64()), "region": pa.array(cat),
                      "member": pa.array((rng.random(5003) < 0.4).tolist())})
    return table, x[np.isfinite(x)]


def build() -> tuple[list[profile.FeatureProfile], np.ndarray]:
    """Profile the training table through an in-memory DuckDB session."""
    table, finite = training_table()
    con = duckdb.connect(":memory:")
    try:
        con.register("_t", table)
        con.execute("CREATE TABLE main.train AS SELECT * FROM _t")
        specs = [FeatureSpec("spend", "numeric", 0.5), FeatureSpec("region", "categorical", 0.3),
                 FeatureSpec("member", "boolean", None)]
        return profile.build_profile(DuckDBSession(con), "main.train", specs), finite
    finally:
        con.close()


def test_numeric_edges_equal_numpy_deciles_deduplicated() -> None:
    """Edges = np.unique(np.quantile(finite values, 0.1..0.9)); NaN/NULL null, inf apart."""
    profiles, finite = build()
    spend = profiles[0]
    expected = np.unique(np.quantile(finite, DECILES))
    assert len(expected) < 9  # the ties really collapse some edges
    assert expected.tolist() == list(spend.edges)
    assert ("spend", "numeric", 0.5, 5003) == (spend.feature, spend.kind, spend.importance,
                                               spend.n_rows)
    assert 23 / 5003 == pytest.approx(spend.null_rate, rel=1e-12)
    assert float(np.mean(finite)) == pytest.approx(spend.summary["mean"], rel=1e-12)
    assert float(np.std(finite)) == pytest.approx(spend.summary["std"], rel=1e-12)
    assert (float(finite.min()), float(finite.max()), 5) == (
        spend.summary["min"], spend.summary["max"], spend.summary["non_finite"])


def test_categorical_profile_keeps_counts_and_null_rate() -> None:
    """Categorical/boolean profiles: no edges, null rate, top categories with counts."""
    profiles, _ = build()
    table, _ = training_table()
    region, member = profiles[1], profiles[2]
    col = [v for v in table.column("region").to_pylist() if v is not None]
    counts = {k: col.count(k) for k in set(col)}
    assert ((), 100 / 5003) == (region.edges, pytest.approx(region.null_rate, rel=1e-12))
    assert counts == region.summary["categories"]
    assert 5 == region.summary["distinct"]
    assert {"false", "true"} == set(member.summary["categories"])


def test_store_then_load_round_trips(warehouse: Warehouse) -> None:
    """load() returns exactly what store() wrote, per feature."""
    profiles, _ = build()
    with warehouse.session() as session:
        profile.store(session, "m", "3", "run-1", profiles, NOW)
    with warehouse.session() as session:
        loaded = profile.load(session, "m", "3")
        assert {} == profile.load(session, "m", "4")
    assert {p.feature: p for p in profiles} == loaded


def test_document_is_the_json_of_every_feature() -> None:
    """to_document is the MLflow artifact: a JSON list of every feature's profile."""
    profiles, _ = build()
    doc = json.loads(profile.to_document(profiles))
    assert [p.to_json() for p in profiles] == doc
    assert "été" in profile.to_document(profiles)  # not escaped


def test_a_version_profile_is_frozen_once(warehouse: Warehouse) -> None:
    """Storing a second, different profile for the same version never moves the bins."""
    profiles, _ = build()
    moved = [profile.FeatureProfile(p.feature, p.kind, p.importance, p.n_rows, p.null_rate,
                                    tuple(e + 1.0 for e in p.edges), p.summary) for p in profiles]
    with warehouse.session() as session:
        profile.store(session, "m", "1", "run-1", profiles, NOW)
    try:
        with warehouse.session() as session:
            profile.store(session, "m", "1", "run-2", moved, NOW)
    except DataError:
        pass
    with warehouse.session() as session:
        assert profiles[0].edges == profile.load(session, "m", "1")["spend"].edges
        rows = session.fetch_rows("baselines/for_version", {"model_name": "m",
                                                             "model_version": "1"})
    assert len(profiles) == len(rows)


# --------------------------------------------------------------------------------------------
# The demo: profiles frozen at training time and used by every monitored window
# --------------------------------------------------------------------------------------------


def test_demo_stores_one_profile_row_per_model_version_feature(demo_settings: Settings) -> None:
    """Each (model, version, feature) has exactly one profile row, for every model feature."""
    rows = read_demo(demo_settings, "SELECT model_name, model_version, feature, count(*) "
                                    "FROM governance.model_baselines GROUP BY ALL")
    assert all(1 == n for *_, n in rows)
    features = dict(read_demo(demo_settings, "SELECT model_name, features FROM governance.models"))
    for model, listed in features.items():
        assert set(json.loads(listed)) == {f for m, _, f, _ in rows if m == model}


def test_demo_edges_equal_numpy_deciles_of_the_training_table(demo_settings: Settings) -> None:
    """Every stored numeric edge list = np.unique(np.quantile(training column, deciles))."""
    rows = read_demo(demo_settings, "SELECT model_name, feature, profile FROM "
                                    "governance.model_baselines WHERE feature_type = 'numeric' "
                                    "AND model_version = '1'")
    assert len(rows) >= 10
    for model, feature, doc in rows:
        ((values,),) = [read_demo(demo_settings, f'SELECT list(CAST("{feature}" AS DOUBLE)) '
                                                 f"FROM uat_training.{model}_v1")[0]]
        x = np.array([v for v in values if v is not None], dtype=float)
        x = x[np.isfinite(x)]
        assert np.unique(np.quantile(x, DECILES)).tolist() == json.loads(doc)["edges"], feature


def test_monitor_bins_every_window_on_the_frozen_edges(demo_settings: Settings) -> None:
    """Each stored numeric window result was binned on its profile's edges (bins never move)."""
    edges = {(m, f): json.loads(doc)["edges"] for m, f, doc in read_demo(
        demo_settings, "SELECT model_name, feature, profile FROM governance.model_baselines "
                       "WHERE feature_type = 'numeric' AND model_version = '1'")}
    results = read_demo(demo_settings, "SELECT model_name, feature, window_start, tests FROM "
                                       "governance.drift_results WHERE feature_type = 'numeric' "
                                       "AND model_version = '1'")
    assert len(results) == 8 * len(edges)
    for model, feature, window, tests in results:
        chart = json.loads(tests)["chart"]
        assert edges[(model, feature)] == chart["edges"], (model, feature, window)
        assert len(chart["edges"]) + 1 == len(chart["baseline"]) == len(chart["current"])


def test_demo_profile_is_logged_to_the_training_run(demo_settings: Settings) -> None:
    """baseline_profile.json in each training run's artifacts equals the stored profile: the
    three v1 runs and the two drift candidates'."""
    runs = read_demo(demo_settings, "SELECT DISTINCT run_id, run_id FROM "
                                    "governance.model_baselines")
    assert 5 == len(runs)
    for run_id, _ in runs:
        (artifact,) = (demo_settings.home / "mlflow").rglob(f"{run_id}/**/baseline_profile.json")
        logged = {p["feature"]: p for p in json.loads(artifact.read_text(encoding="utf-8"))}
        stored = {f: json.loads(doc) for f, doc in read_demo(
            demo_settings, "SELECT feature, profile FROM governance.model_baselines "
                           "WHERE run_id = ?", [run_id])}
        assert stored == logged


def test_monitor_reads_the_stored_edges_not_the_training_table(demo_copy: DemoCopy) -> None:
    """Replace a frozen edge list in the store: the next window is binned on exactly those
    edges (the training table is not re-binned), and its PSI follows from them."""
    window = date(2026, 10, 26)
    (doc,) = demo_copy.sql("SELECT profile FROM governance.model_baselines WHERE "
                           "model_name = 'demand_forecast' AND feature = 'price'")[0]
    frozen = json.loads(doc)
    frozen["edges"] = [3.0, 5.0, 8.0, 13.0]
    demo_copy.sql("UPDATE governance.model_baselines SET profile = ? WHERE "
                  "model_name = 'demand_forecast' AND feature = 'price'",
                  [canonical_json(frozen)])
    for table in ("drift_results", "drift_windows"):
        demo_copy.sql(f"DELETE FROM governance.{table} WHERE model_name = 'demand_forecast' "
                      "AND window_start = ?", [window])
    monitor.run(demo_copy.warehouse, Policy(), model="demand_forecast")
    (tests,) = demo_copy.sql("SELECT tests FROM governance.drift_results WHERE model_name = "
                             "'demand_forecast' AND feature = 'price' AND window_start = ?",
                             [window])[0]
    stored = json.loads(tests)
    edges = np.array(frozen["edges"])
    ((train,),) = demo_copy.sql("SELECT list(price) FROM uat_training.demand_forecast_v1")
    ((live,),) = demo_copy.sql("SELECT list(price) FROM prod_inference.demand_forecast WHERE "
                               "event_date BETWEEN ? AND ?", [window, date(2026, 11, 1)])
    expected = np.bincount(np.searchsorted(edges, np.array(train, float), side="left"),
                           minlength=5)
    actual = np.bincount(np.searchsorted(edges, np.array(live, float), side="left"),
                         minlength=5)
    assert frozen["edges"] == stored["chart"]["edges"]
    assert (expected.tolist(), actual.tolist()) == (stored["chart"]["baseline"],
                                                    stored["chart"]["current"])
    assert ref_psi(expected, actual) == pytest.approx(stored["psi"], rel=1e-12)
