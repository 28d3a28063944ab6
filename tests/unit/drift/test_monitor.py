"""The monitor: idempotent windows, backfill, incidents with cool-down, atomic units of work.

The shared demo (eight weekly windows already checked by the seed; drift from 2026-10-05 in
demand_forecast and basket_propensity) is only read. Every test that runs the monitor works
on a private copy and tampers with it through raw SQL.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest

from governance import ledger
from governance.backends.duckdb import DuckDBSession
from governance.drift import engine, monitor
from governance.drift.policy import Policy
from governance.settings import Settings
from tests.unit.drift.conftest import CliRun, DemoCopy, read_demo

Cli = Callable[..., CliRun]
MODELS = ("basket_propensity", "demand_forecast", "price_elasticity")
DRIFTING = ("basket_propensity", "demand_forecast")
FEATURES = {"basket_propensity": 8, "demand_forecast": 12, "price_elasticity": 8}
WINDOWS = [date(2026, 9, 7 + 7 * i) if i < 4 else date(2026, 10, 5 + 7 * (i - 4))
           for i in range(8)]
LAST = WINDOWS[-1]  # 2026-10-26 .. 2026-11-01
LEDGER_ROWS = ("SELECT seq, event_time, actor, environment, event_type, subject, payload, hash "
               "FROM governance.ledger ORDER BY seq")


def counts(copy: DemoCopy) -> tuple[int, int, int, int]:
    """Stored feature results, window verdicts, ledger entries and incidents."""
    return (copy.scalar("SELECT count(*) FROM governance.drift_results"),
            copy.scalar("SELECT count(*) FROM governance.drift_windows"),
            copy.scalar("SELECT count(*) FROM governance.ledger"),
            copy.scalar("SELECT count(*) FROM governance.drift_incidents"))


def verdicts(copy: DemoCopy) -> set[tuple[Any, ...]]:
    """(model, window, verdict, drifted features) of every stored window verdict."""
    return set(copy.sql("SELECT model_name, window_start, verdict, drifted_features "
                        "FROM governance.drift_windows"))


def results(copy: DemoCopy, since: date = WINDOWS[0]) -> set[tuple[Any, ...]]:
    """(model, feature, window, status, score) of every stored result from ``since``."""
    return set(copy.sql("SELECT model_name, feature, window_start, status, round(score, 12) "
                        "FROM governance.drift_results WHERE window_start >= ?", [since]))


def incidents(copy: DemoCopy) -> list[tuple[Any, ...]]:
    """(id, model, status, updated_at, first_window, last_window), oldest first."""
    return copy.sql("SELECT incident_id, model_name, status, updated_at, first_window, "
                    "last_window FROM governance.drift_incidents ORDER BY opened_at, incident_id")


def drift_entries(rows: list[tuple[Any, ...]]) -> list[ledger.LedgerEntry]:
    """The drift_detected entries among ledger rows."""
    return [e for e in map(ledger._entry_from_row, rows) if e.type == "drift_detected"]


def forget(copy: DemoCopy, since: date, model: str | None = None) -> int:
    """Delete stored results and window verdicts from ``since`` (optionally one model); return
    how many feature results went."""
    where = "window_start >= ?" + (" AND model_name = ?" if model else "")
    params: list[Any] = [since, model] if model else [since]
    n = copy.scalar(f"SELECT count(*) FROM governance.drift_results WHERE {where}", params)
    copy.sql(f"DELETE FROM governance.drift_results WHERE {where}", params)
    copy.sql(f"DELETE FROM governance.drift_windows WHERE {where}", params)
    return int(n)


# --------------------------------------------------------------------------------------------
# The seeded demo (read only)
# --------------------------------------------------------------------------------------------


def test_demo_has_eight_windows_per_model(demo_settings: Settings) -> None:
    """The seed's backfill stored every complete Monday-Sunday window for every model, with a
    drift verdict exactly for the drifting models from 2026-10-05."""
    rows = read_demo(demo_settings, "SELECT model_name, window_start, window_end, count(*) "
                                    "FROM governance.drift_results WHERE model_version = '1' "
                                    "GROUP BY ALL ORDER BY ALL")
    expected = [(m, w, date.fromordinal(w.toordinal() + 6), FEATURES[m])
                for m in MODELS for w in WINDOWS]
    assert expected == rows
    stored = read_demo(demo_settings, "SELECT model_name, window_start, verdict FROM "
                                      "governance.drift_windows WHERE model_version = '1' "
                                      "ORDER BY ALL")
    assert [(m, w) for m in MODELS for w in WINDOWS] == [(m, w) for m, w, _ in stored]
    # basket_propensity v2 (promoted by the demo) was checked on the weeks after its training
    # data only (it learnt from everything up to 2026-10-18)
    assert [("basket_propensity", w) for w in WINDOWS[-2:]] == read_demo(
        demo_settings, "SELECT model_name, window_start FROM governance.drift_windows "
                       "WHERE model_version = '2' ORDER BY ALL")
    drifting = {(m, w) for m in DRIFTING for w in WINDOWS[4:]}
    assert drifting == {(m, w) for m, w, verdict in stored if verdict == "drift"}


def test_one_open_incident_per_drifting_model(demo_settings: Settings) -> None:
    """demand_forecast and basket_propensity: one incident each covering the drifted weeks
    (the demo answered both: one awaits approval, one was promoted); none for
    price_elasticity."""
    rows = read_demo(demo_settings, "SELECT model_name, incident_id, status, first_window, "
                                    "last_window, drifted_features FROM "
                                    "governance.drift_incidents ORDER BY model_name")
    assert list(DRIFTING) == [r[0] for r in rows]
    statuses = {"demand_forecast": "awaiting_approval", "basket_propensity": "promoted"}
    for model, incident_id, status, first, last, drifted in rows:
        assert (f"INC-{model}-20261005", statuses[model]) == (incident_id, status)
        assert (date(2026, 10, 5), date(2026, 11, 1)) == (first, last)
        assert json.loads(drifted)


def test_every_drift_detected_entry_names_incident_and_features(demo_settings: Settings) -> None:
    """Each drift_detected entry names its incident and exactly the window's drifted features;
    the ledger chain verifies."""
    rows = read_demo(demo_settings, LEDGER_ROWS)
    assert ledger.verify_rows(rows).intact
    # the champions the incidents were opened on (v1); the demo's promoted basket_propensity v2
    # was checked afterwards, in its incident's cool-down
    entries = [e for e in drift_entries(rows) if e.subject.endswith("/1")]
    assert 8 == len(entries)
    for entry in entries:
        model = entry.subject.split("/")[0]
        start = date.fromisoformat(entry.payload["window"][0])
        drifted = {f for (f,) in read_demo(
            demo_settings, "SELECT feature FROM governance.drift_results WHERE model_name = ? "
                           "AND window_start = ? AND status = 'drift'", [model, start])}
        assert f"INC-{model}-20261005" == entry.payload["incident_id"]
        assert drifted == set(entry.payload["drifted_features"])
        assert drifted
        assert entry.payload["incident_action"] in ("opened", "updated")


# --------------------------------------------------------------------------------------------
# Idempotency and backfill (copies)
# --------------------------------------------------------------------------------------------


def test_run_twice_stores_nothing_new_the_second_time(demo_copy: DemoCopy, cli: Cli) -> None:
    """`monitor run` checks the latest window once; the second run stores nothing."""
    before = counts(demo_copy)
    deleted = forget(demo_copy, LAST)
    first = cli("monitor", "run", "--no-response")
    assert 0 == first.code
    assert 3 == first.out.count("2026-10-26..2026-11-01")
    after_first = counts(demo_copy)
    # The champions' results come back (basket_propensity's v1 ones do not: v2 is champion
    # now), plus 2 drift_detected entries (demand_forecast, basket_propensity v2).
    basket = FEATURES["basket_propensity"]
    assert (before[0] - basket, before[1] - 1, before[2] + 2, before[3]) == after_first
    assert sum(FEATURES.values()) + basket == deleted
    second = cli("monitor", "run", "--no-response")
    assert 0 == second.code
    assert 3 == second.out.count("already checked (nothing stored)")
    assert after_first == counts(demo_copy)


def test_backfill_of_the_full_range_stores_nothing_new(demo_copy: DemoCopy, cli: Cli) -> None:
    """Every window was checked by the seed: backfill adds no result, entry or incident (8
    windows each for the v1 champions, 2 after the training data of basket_propensity v2)."""
    before = counts(demo_copy)
    run = cli("monitor", "backfill", "--since", "2026-09-07")
    assert 0 == run.code
    assert 8 + 8 + 2 == run.out.count("already checked (nothing stored)")
    assert before == counts(demo_copy)


def test_backfill_recreates_deleted_windows_and_updates_the_open_incident(
        demo_copy: DemoCopy, cli: Cli) -> None:
    """Delete demand_forecast's last two windows: backfill recreates exactly them, updates
    (never reopens) its incident, and writes one drift_detected per drifted window."""
    since = WINDOWS[-2]
    want, want_verdicts = results(demo_copy, since), verdicts(demo_copy)
    before_incidents = incidents(demo_copy)
    n_results, n_windows, n_ledger, n_incidents = counts(demo_copy)
    deleted = forget(demo_copy, since, "demand_forecast")
    assert FEATURES["demand_forecast"] * 2 == deleted
    run = cli("monitor", "backfill", "--since", "2026-09-07")
    assert 0 == run.code
    assert 8 + 8 + 2 - 2 == run.out.count("already checked")
    assert want == results(demo_copy, since)
    assert want_verdicts == verdicts(demo_copy)
    assert (n_results, n_windows, n_ledger + 2, n_incidents) == counts(demo_copy)
    after = incidents(demo_copy)
    assert [r[:3] for r in before_incidents] == [r[:3] for r in after]
    changed = {a[0] for a, b in zip(after, before_incidents, strict=True) if a[3] > b[3]}
    assert {"INC-demand_forecast-20261005"} == changed
    new = drift_entries(demo_copy.sql(LEDGER_ROWS))[-2:]
    assert {("updated", "INC-demand_forecast-20261005")} == {
        (e.payload["incident_action"], e.payload["incident_id"]) for e in new}
    assert 0 == cli("ledger", "verify").code


def test_window_option_checks_the_window_containing_that_day(
        demo_copy: DemoCopy, cli: Cli) -> None:
    """--window 2026-10-07 re-checks 2026-10-05..2026-10-11 and nothing else."""
    start = date(2026, 10, 5)
    want = results(demo_copy)
    demo_copy.sql("DELETE FROM governance.drift_results WHERE window_start = ? "
                  "AND model_name <> 'basket_propensity'", [start])
    run = cli("monitor", "run", "--window", "2026-10-07", "--no-response")
    assert 0 == run.code
    # basket_propensity's champion (v2) learnt from that week: it is skipped, not re-checked
    assert 2 == run.out.count("2026-10-05..2026-10-11")
    assert "basket_propensity    2026-10-07  skipped: v2 was trained on data up to 2026-10-18" \
        in run.out
    assert want == results(demo_copy)
    again = cli("monitor", "run", "--window", "2026-10-11", "--model", "price_elasticity")
    assert ["price_elasticity", "2026-10-05..2026-10-11", "already", "checked", "(nothing",
            "stored)"] == again.out.split()


@pytest.mark.parametrize("day", ["2026-12-01", "2026-09-01"])
def test_day_outside_every_complete_window_is_exit_2(
        demo_copy: DemoCopy, cli: Cli, day: str) -> None:
    """A day after (or before) the log's complete windows: exit 2, one clear error line."""
    before = counts(demo_copy)
    run = cli("monitor", "run", "--window", day)
    assert 2 == run.code
    assert run.err.startswith(f"error: {day} is not in a complete window of prod.inference.")
    assert "Traceback" not in run.err
    assert before == counts(demo_copy)


def test_unknown_model_is_exit_2(demo_copy: DemoCopy, cli: Cli) -> None:
    """--model naming no production model: exit 2 naming it."""
    run = cli("monitor", "run", "--model", "nope")
    assert (2, "") == (run.code, run.out)
    assert "error: no production model named 'nope'" in run.err


def test_bad_window_date_is_a_usage_error(demo_copy: DemoCopy, cli: Cli,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """--window that is not a date: argparse exit 2 naming the value."""
    with pytest.raises(SystemExit) as info:
        cli("monitor", "run", "--window", "last-week")
    assert 2 == info.value.code
    assert "not an ISO date: 'last-week'" in capsys.readouterr().err


def test_watch_runs_the_monitor_max_runs_times(demo_copy: DemoCopy, cli: Cli) -> None:
    """`monitor watch --every 1s --max-runs 2` runs twice, sleeping between runs."""
    before = counts(demo_copy)
    started = time.monotonic()
    run = cli("monitor", "watch", "--every", "1s", "--max-runs", "2")
    assert 0 == run.code
    assert time.monotonic() - started >= 1.0
    assert 2 * len(MODELS) == run.out.count("2026-10-26..2026-11-01  already checked")
    assert before == counts(demo_copy)


# --------------------------------------------------------------------------------------------
# Small windows
# --------------------------------------------------------------------------------------------


def test_window_below_min_rows_is_stored_as_insufficient_data(demo_copy: DemoCopy) -> None:
    """A week with 50 inference rows: every feature insufficient_data, no ledger entry."""
    start, end = date(2026, 9, 14), date(2026, 9, 20)
    demo_copy.sql("DELETE FROM prod_inference.price_elasticity WHERE event_date BETWEEN ? AND ? "
                  "AND request_id NOT IN (SELECT request_id FROM prod_inference.price_elasticity "
                  "WHERE event_date BETWEEN ? AND ? ORDER BY request_id LIMIT 50)",
                  [start, end, start, end])
    forget(demo_copy, start, "price_elasticity")
    n_ledger = counts(demo_copy)[2]
    (outcome,) = monitor.run(demo_copy.warehouse, Policy(), model="price_elasticity",
                             window=date(2026, 9, 15))
    assert (True, "insufficient_data") == (outcome.checked, outcome.verdict)
    stored = demo_copy.sql("SELECT DISTINCT status, n_current FROM governance.drift_results "
                           "WHERE model_name = 'price_elasticity' AND window_start = ?", [start])
    assert [("insufficient_data", 50)] == stored
    assert n_ledger == counts(demo_copy)[2]


def test_window_with_no_rows_is_stored_as_insufficient_data(demo_copy: DemoCopy) -> None:
    """A week missing from the log: every feature insufficient_data, nothing crashes."""
    start = date(2026, 9, 14)
    demo_copy.sql("DELETE FROM prod_inference.price_elasticity WHERE event_date BETWEEN ? AND ?",
                  [start, date(2026, 9, 20)])
    forget(demo_copy, start, "price_elasticity")
    (outcome,) = monitor.run(demo_copy.warehouse, Policy(), model="price_elasticity",
                             window=date(2026, 9, 15))
    assert "insufficient_data" == outcome.verdict


def test_missing_and_retyped_inference_columns_are_schema_problems(demo_copy: DemoCopy) -> None:
    """A feature dropped from the inference log and one arriving as text: schema_missing and
    schema_type_changed are stored, the window drifts and opens an incident naming them."""
    demo_copy.sql("ALTER TABLE prod_inference.price_elasticity DROP COLUMN brand_tier")
    demo_copy.sql("ALTER TABLE prod_inference.price_elasticity ALTER competitor_price_index "
                  "TYPE VARCHAR")
    forget(demo_copy, LAST, "price_elasticity")
    (outcome,) = monitor.run(demo_copy.warehouse, Policy(), model="price_elasticity")
    assert ("drift", "opened") == (outcome.verdict, outcome.incident_action)
    stored = dict(demo_copy.sql("SELECT feature, status FROM governance.drift_results WHERE "
                                "model_name = 'price_elasticity' AND window_start = ?", [LAST]))
    assert ("schema_missing", "schema_type_changed") == (stored["brand_tier"],
                                                         stored["competitor_price_index"])
    assert FEATURES["price_elasticity"] == len(stored)
    entry = drift_entries(demo_copy.sql(LEDGER_ROWS))[-1]
    assert ["brand_tier", "competitor_price_index"] == sorted(entry.payload["schema_problems"])
    assert outcome.incident_id == entry.payload["incident_id"]


# --------------------------------------------------------------------------------------------
# Incidents: one per model, cool-down
# --------------------------------------------------------------------------------------------


def close_incident(copy: DemoCopy, model: str, updated: str) -> None:
    """Close a model's incident as of a date (what a triage action would record)."""
    copy.sql("UPDATE governance.drift_incidents SET status = 'closed', updated_at = ? "
             "WHERE model_name = ?", [datetime.fromisoformat(updated), model])


def test_no_new_incident_within_the_cool_down(demo_copy: DemoCopy, cli: Cli) -> None:
    """Closed on 2026-10-28, cool-down 7 days: the drifted window ending 2026-11-01 stores its
    results and a drift_detected entry that says cool-down, but opens no incident."""
    close_incident(demo_copy, "demand_forecast", "2026-10-28")
    before = incidents(demo_copy)
    forget(demo_copy, LAST, "demand_forecast")
    run = cli("monitor", "run", "--model", "demand_forecast")
    assert 0 == run.code
    assert "cool-down until 2026-11-04" in run.out
    assert before == incidents(demo_copy)
    entry = drift_entries(demo_copy.sql(LEDGER_ROWS))[-1]
    assert (None, "cool-down until 2026-11-04") == (entry.payload["incident_id"],
                                                   entry.payload["incident_action"])
    assert entry.payload["drifted_features"]
    assert FEATURES["demand_forecast"] == demo_copy.scalar(
        "SELECT count(*) FROM governance.drift_results WHERE model_name = 'demand_forecast' "
        "AND window_start = ?", [LAST])


def test_new_incident_after_the_cool_down(demo_copy: DemoCopy, cli: Cli) -> None:
    """Closed on 2026-10-20: by the window ending 2026-11-01 the cool-down is over; a new
    incident opens and the closed one is left alone."""
    close_incident(demo_copy, "demand_forecast", "2026-10-20")
    (closed,) = [r for r in incidents(demo_copy) if r[1] == "demand_forecast"]
    forget(demo_copy, LAST, "demand_forecast")
    run = cli("monitor", "run", "--model", "demand_forecast", "--no-response")
    assert 0 == run.code
    assert "incident INC-demand_forecast-20261026 opened" in run.out
    rows = [r for r in incidents(demo_copy) if r[1] == "demand_forecast"]
    assert closed == rows[0]
    assert ("INC-demand_forecast-20261026", "open", LAST, date(2026, 11, 1)) == (
        rows[1][0], rows[1][2], rows[1][4], rows[1][5])
    entry = drift_entries(demo_copy.sql(LEDGER_ROWS))[-1]
    assert ("INC-demand_forecast-20261026", "opened") == (entry.payload["incident_id"],
                                                         entry.payload["incident_action"])
    assert 0 == cli("ledger", "verify").code


def test_reopened_incident_gets_a_new_id_and_leaves_the_closed_one_alone(
        demo_copy: DemoCopy) -> None:
    """Close long ago, re-check all windows: a new, distinct incident; the closed one intact."""
    close_incident(demo_copy, "demand_forecast", "2026-09-01")
    (closed,) = [r for r in incidents(demo_copy) if r[1] == "demand_forecast"]
    forget(demo_copy, WINDOWS[0], "demand_forecast")
    monitor.run(demo_copy.warehouse, Policy(), model="demand_forecast", since=WINDOWS[0])
    rows = [r for r in incidents(demo_copy) if r[1] == "demand_forecast"]
    assert 2 == len({r[0] for r in rows})
    assert closed in rows


def test_rechecking_an_older_window_keeps_the_incident_span(demo_copy: DemoCopy) -> None:
    """Re-check 2026-10-12 after 2026-11-01 was stored: the incident still ends 2026-11-01."""
    forget(demo_copy, date(2026, 10, 12), "demand_forecast")
    monitor.run(demo_copy.warehouse, Policy(), model="demand_forecast", since=date(2026, 10, 19))
    monitor.run(demo_copy.warehouse, Policy(), model="demand_forecast", window=date(2026, 10, 14))
    (row,) = [r for r in incidents(demo_copy) if r[1] == "demand_forecast"]
    assert (date(2026, 10, 5), date(2026, 11, 1)) == (row[4], row[5])


# --------------------------------------------------------------------------------------------
# A failing window leaves nothing behind
# --------------------------------------------------------------------------------------------


class Boom(RuntimeError):
    """Injected failure."""


def fail_on_insert(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """Make the ``after + 1``-th drift/insert_result statement raise."""
    original = DuckDBSession.execute
    seen = {"n": 0}

    def execute(self: DuckDBSession, name: str, params: Any = None) -> None:
        if name == "drift/insert_result":
            seen["n"] += 1
            if seen["n"] > after:
                raise Boom(f"injected failure after {after} features")
        original(self, name, params)

    monkeypatch.setattr(DuckDBSession, "execute", execute)


def fail_on_ledger(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """Make the ledger append (after every result row was inserted) raise."""
    del after

    def append(*args: Any, **kwargs: Any) -> None:
        raise Boom("injected ledger failure")

    monkeypatch.setattr(ledger, "append", append)


def fail_after_compare(monkeypatch: pytest.MonkeyPatch, after: int) -> None:
    """Make the monitor's comparison raise once every feature has been computed."""
    del after
    original = engine.compare

    def compare(*args: Any, **kwargs: Any) -> Any:
        original(*args, **kwargs)
        raise Boom("injected engine failure")

    monkeypatch.setattr(engine, "compare", compare)


@pytest.mark.parametrize("inject", [fail_on_insert, fail_on_ledger, fail_after_compare])
def test_failure_mid_window_leaves_no_partial_rows(
        demo_copy: DemoCopy, monkeypatch: pytest.MonkeyPatch,
        inject: Callable[[pytest.MonkeyPatch, int], None]) -> None:
    """The window's unit of work rolls back whole; the next run completes it."""
    forget(demo_copy, LAST, "demand_forecast")
    before, before_incidents = counts(demo_copy), incidents(demo_copy)
    with monkeypatch.context() as patch:
        inject(patch, 5)
        with pytest.raises(Boom, match="injected"):
            monitor.run(demo_copy.warehouse, Policy(), model="demand_forecast")
    assert before == counts(demo_copy)
    assert before_incidents == incidents(demo_copy)
    (outcome,) = monitor.run(demo_copy.warehouse, Policy(), model="demand_forecast")
    assert (True, "drift", "updated") == (outcome.checked, outcome.verdict,
                                          outcome.incident_action)
    assert (before[0] + FEATURES["demand_forecast"], before[1] + 1, before[2] + 1, before[3]) \
        == counts(demo_copy)
    assert ledger.verify_rows(demo_copy.sql(LEDGER_ROWS)).intact


def test_failure_while_workers_run_reports_the_original_error(
        demo_copy: DemoCopy, monkeypatch: pytest.MonkeyPatch) -> None:
    """A categorical feature fails while a numeric column is still being read: the caller sees
    that failure, and nothing is stored."""
    forget(demo_copy, LAST, "demand_forecast")
    before = counts(demo_copy)
    started = threading.Event()
    fetch = DuckDBSession.fetch_column
    compare_feature = engine.compare_feature

    def slow_fetch(self: DuckDBSession, name: str, params: Any = None) -> Any:
        if threading.current_thread() is not threading.main_thread() and not started.is_set():
            started.set()  # a slow column: the worker is inside DuckDB for about a second
            self._con.execute("SELECT sum(i) FROM range(1500000000) t(i)").fetchall()
        return fetch(self, name, params)

    def failing(reader: Any, spec: engine.FeatureSpec, *args: Any, **kwargs: Any) -> Any:
        if spec.kind != "numeric":
            assert started.wait(10)
            time.sleep(0.3)  # the worker is now inside its slow DuckDB call
            raise Boom("injected engine failure")
        return compare_feature(reader, spec, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(DuckDBSession, "fetch_column", slow_fetch)
        patch.setattr(engine, "compare_feature", failing)
        with pytest.raises(Boom, match="injected"):
            monitor.run(demo_copy.warehouse, Policy(), model="demand_forecast")
    assert before == counts(demo_copy)
