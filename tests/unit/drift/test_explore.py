"""The drift explorer's data layer on the shared seeded demo workspace (read-only)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from governance import ledger
from governance.drift import explore
from governance.drift.engine import FeatureResult
from governance.drift.policy import DatasetRule, Policy
from governance.errors import DataError
from governance.settings import Settings
from governance.warehouse import Warehouse, open_warehouse

FIRST, DRIFT_FROM = date(2026, 9, 7), date(2026, 10, 5)
WEEKS = [FIRST + timedelta(days=7 * i) for i in range(8)]
PLANTED = {
    "demand_forecast": {"price", "discount_pct", "promo_flag", "region"},
    "basket_propensity": {"days_since_last_visit", "device"},
    "price_elasticity": set(),
}


@pytest.fixture
def wh(demo_settings: Settings) -> Warehouse:
    """The shared demo workspace."""
    return open_warehouse(demo_settings)


def _stored_rows(wh: Warehouse) -> int:
    rows = explore.read(wh, lambda s: s.fetch_rows("drift/window_summary"))
    return sum(int(r["n_features"]) for r in rows)


def test_monitored_models_are_the_three_champions(wh: Warehouse) -> None:
    """Every production champion is listed, alphabetically."""
    assert ["basket_propensity", "demand_forecast", "price_elasticity"] == explore.read(
        wh, explore.monitored_models)


@pytest.mark.parametrize("model", sorted(PLANTED))
def test_windows_are_the_eight_weeks_newest_first(wh: Warehouse, model: str) -> None:
    """Eight Monday-to-Sunday windows; the planted models drift from 2026-10-05 on, in exactly
    the planted features."""
    # v1 only: the demo later promotes basket_propensity v2, which the monitor then checks on
    # the two weeks after its training data
    summaries = [w for w in explore.read(wh, lambda s: explore.windows(s, model))
                 if w.model_version == "1"]
    assert WEEKS[::-1] == [w.start for w in summaries]
    assert all(w.end == w.start + timedelta(days=6) for w in summaries)
    for w in summaries:
        drifting = w.start >= DRIFT_FROM and bool(PLANTED[model])
        assert ("drift" if drifting else "ok") == w.verdict, w.start
        assert (PLANTED[model] if drifting else set()) == set(w.drifted)
        assert len(w.drifted) == w.n_drift
        assert w.max_score is not None


def test_window_verdicts_agree_with_the_monitors_ledger_entries(wh: Warehouse) -> None:
    """The re-derived verdict is drift exactly where the monitor wrote drift_detected."""
    entries = explore.read(wh, lambda s: list(ledger.entries(s, event_type="drift_detected")))
    logged = {(e.subject.split("/")[0], date.fromisoformat(e.payload["window"][0]))
              for e in entries}
    derived = {(m, w.start) for m in PLANTED
               for w in explore.read(wh, lambda s, m=m: explore.windows(s, m))
               if w.verdict == "drift"}
    assert logged == derived


def test_window_verdict_follows_the_policy_given(wh: Warehouse) -> None:
    """Under a stricter dataset rule four of twelve drifted features are only a warning."""
    strict = Policy(dataset=DatasetRule(drift_share=0.5, importance=1.0))
    summaries = explore.read(wh, lambda s: explore.windows(s, "demand_forecast", strict))
    assert {"warn"} == {w.verdict for w in summaries if w.start >= DRIFT_FROM}


def test_every_complete_week_is_checked(wh: Warehouse) -> None:
    """The demo backfill covered the whole log, so nothing is left to preview."""
    assert [] == explore.read(wh, lambda s: explore.unchecked_windows(s, "demand_forecast"))


def test_heatmap_is_features_by_windows_worst_first(wh: Warehouse) -> None:
    """Twelve features by eight windows; the planted features are the four worst rows."""
    grid = explore.read(wh, lambda s: explore.heatmap(s, "demand_forecast"))
    assert tuple(WEEKS) == grid.windows
    assert 12 == len(grid.features) == len(grid.scores) == len(grid.statuses)
    assert all(8 == len(row) for row in grid.scores + grid.statuses)
    assert PLANTED["demand_forecast"] == set(grid.features[:4])
    price = grid.statuses[grid.features.index("price")]
    assert ("ok",) * 4 + ("drift",) * 4 == price


def test_results_flag_exactly_the_planted_features(wh: Warehouse) -> None:
    """At the first drifted window the planted features are drift and ranked on top."""
    stored = explore.read(wh, lambda s: explore.feature_results(s, "demand_forecast", DRIFT_FROM))
    results = [s.result for s in stored]
    assert 12 == len(results)
    assert PLANTED["demand_forecast"] == {r.feature for r in results if r.status == "drift"}
    assert {"drift"} == {r.status for r in results[:4]}
    scores = [r.score for r in results]
    assert sorted(scores, key=lambda x: -(x or 0)) == scores
    assert {(DRIFT_FROM, DRIFT_FROM + timedelta(days=6))} == {s.window for s in stored}
    by_name = {r.feature: r for r in results}
    region, price = by_name["region"], by_name["price"]
    assert "Online-Hub" in region.chart["unseen_examples"]
    assert "unseen_share" in region.reason
    assert {"chart", "reason"}.isdisjoint(region.tests)
    assert 10 == len(price.chart["baseline"]) == len(price.chart["edges"]) + 1
    assert price.importance is not None


def test_results_of_an_unchecked_window_are_empty(wh: Warehouse) -> None:
    """A window the monitor never stored has no results (not an error)."""
    assert [] == explore.read(
        wh, lambda s: explore.feature_results(s, "demand_forecast", date(2027, 1, 4)))


def test_history_of_price_is_ok_then_drift(wh: Warehouse) -> None:
    """Price: ok for four weeks, then drift for four, with the policy's thresholds."""
    past = explore.read(wh, lambda s: explore.history(s, "demand_forecast", "price"))
    assert ["ok"] * 4 + ["drift"] * 4 == [p.status for p in past.points]
    assert WEEKS == [p.window[0] for p in past.points]
    assert "numeric" == past.type
    assert all(p.psi is not None and p.js is None for p in past.points)
    assert all((p.score or 0) >= 1.0 for p in past.points[4:])
    assert 1.0 == past.threshold("score")
    assert 0.2 == past.threshold("psi")
    assert 0.1 == past.threshold("null_rate")
    assert 0.05 == past.threshold("unseen_share")


def test_history_of_nulls_shows_the_null_rate_jump(wh: Warehouse) -> None:
    """days_since_last_visit: the current null rate jumps in the drifted weeks."""
    past = explore.read(
        wh, lambda s: explore.history(s, "basket_propensity", "days_since_last_visit"))
    before = [p.null_rate_current or 0 for p in past.points[:4]]
    after = [p.null_rate_current or 0 for p in past.points[4:]]
    assert max(before) + 0.1 <= min(after)


def test_history_of_an_unknown_feature_is_a_data_error(wh: Warehouse) -> None:
    """No stored rows for the feature: a DataError naming it, with a fix."""
    with pytest.raises(DataError, match=r"demand_forecast\.nope") as info:
        explore.read(wh, lambda s: explore.history(s, "demand_forecast", "nope"))
    assert "monitor run" in info.value.hint


def test_check_now_stores_nothing_and_agrees_with_the_stored_verdict(wh: Warehouse) -> None:
    """The preview reports per feature, writes no row and reaches the stored verdict."""
    before = _stored_rows(wh)
    calls: list[tuple[str, int, int]] = []
    window = (DRIFT_FROM, DRIFT_FROM + timedelta(days=6))
    result = explore.check_now(wh, "demand_forecast", window,
                               progress=lambda r, done, total: calls.append((r.feature, done,
                                                                             total)))
    assert before == _stored_rows(wh)
    (stored,) = [w for w in explore.read(wh, lambda s: explore.windows(s, "demand_forecast"))
                 if w.start == DRIFT_FROM]
    assert stored.verdict == result.verdict == "drift"
    assert set(stored.drifted) == set(result.drifted_features)
    assert list(range(1, 13)) == [done for _, done, _ in calls]
    assert {12} == {total for _, _, total in calls}
    assert {r.feature for r in result.features} == {name for name, _, _ in calls}


def test_check_now_refuses_an_unknown_model(wh: Warehouse) -> None:
    """Only production models can be previewed."""
    with pytest.raises(DataError, match="no production model named 'nope'"):
        explore.check_now(wh, "nope", (DRIFT_FROM, DRIFT_FROM + timedelta(days=6)))


def _result(feature: str, status: str, score: float | None) -> FeatureResult:
    return FeatureResult(feature, "numeric", status, score, 1, 1, 0.0, 0.0, {})


def test_ranked_puts_scores_first_and_serious_unscored_before_thin_data() -> None:
    """Highest score first; unscored last, schema problems before too-few-rows."""
    results = [_result("a", "insufficient_data", None), _result("b", "ok", 0.1),
               _result("c", "schema_missing", None), _result("d", "drift", 2.0),
               _result("e", "warn", 0.7), _result("f", "constant", 0.0)]
    assert ["d", "e", "b", "f", "c", "a"] == [r.feature for r in explore.ranked(results)]
