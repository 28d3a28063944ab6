"""Figure builders and display tables, on chart payloads the engine computes from seeded data."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
import plotly.graph_objects as go
import pytest

from app import figures, tables
from governance.drift import engine
from governance.drift.explore import FeatureHistory, Heatmap, HistoryPoint, WindowSummary
from governance.drift.policy import Thresholds

RNG = np.random.default_rng(7)


def _numeric(sample: np.ndarray) -> engine.Numeric:
    values, counts = np.unique(np.round(sample, 2), return_counts=True)
    return engine.Numeric(len(sample), 0, 0, values, counts.astype(np.int64))


@pytest.fixture(scope="module")
def price() -> engine.FeatureResult:
    """A numeric feature whose current window shifted up by half a std."""
    base, cur = _numeric(RNG.normal(10, 2, 5000)), _numeric(RNG.normal(11, 2, 2000))
    tests = engine.numeric_tests(base, cur, None)
    chart = tests.pop("_chart")
    return engine.FeatureResult("price", "numeric", "drift", 2.5, 5000, 2000, 0.0, 0.0, tests,
                                "psi", 0.1, chart)


@pytest.fixture(scope="module")
def region() -> engine.FeatureResult:
    """A categorical feature with a category the baseline never had."""
    base = engine.Categorical(1000, 0, {"North": 500, "South": 500})
    cur = engine.Categorical(1000, 0, {"North": 400, "South": 400, "Online-Hub": 200})
    tests = engine.categorical_tests(base, cur, max_categories=50)
    chart = tests.pop("_chart")
    return engine.FeatureResult("region", "categorical", "drift", 4.0, 1000, 1000, 0.0, 0.0,
                                tests, "unseen_share", None, chart)


def _names(fig: go.Figure) -> list[str]:
    return [t.name for t in fig.data]


def test_histogram_has_one_bar_per_frozen_bin_as_shares(price: engine.FeatureResult) -> None:
    """Baseline and current bars, one per bin (edges + 1), each side summing to 1."""
    fig = figures.bins_histogram(price)
    assert isinstance(fig, go.Figure)
    assert ["baseline", "current"] == _names(fig)
    n_bins = len(price.chart["edges"]) + 1
    for trace in fig.data:
        assert n_bins == len(trace.x) == len(trace.y)
        assert 1.0 == pytest.approx(sum(trace.y))
    assert "baseline vs current" in fig.layout.title.text


def test_ecdf_marks_the_ks_distance(price: engine.FeatureResult) -> None:
    """Both ECDFs plus a vertical KS segment at ks_x of length D, annotated with D."""
    fig = figures.ecdf(price)
    assert isinstance(fig, go.Figure)
    assert ["baseline", "current"] == _names(fig)[:2]
    d = price.tests["ks"]["statistic"]
    (segment,) = [t for t in fig.data if t.name.startswith("KS distance")]
    assert (price.chart["ks_x"],) * 2 == tuple(segment.x)
    assert d == pytest.approx(abs(segment.y[1] - segment.y[0]))
    assert [f"D = {d:.3f}"] == [a.text for a in fig.layout.annotations]
    # The segment ends on both curves: the exact ECDF values at ks_x are on the step lines.
    base = fig.data[0]
    assert price.chart["ks_baseline"] == base.y[list(base.x).index(price.chart["ks_x"])]


def test_psi_contributions_sum_to_the_psi(price: engine.FeatureResult,
                                          region: engine.FeatureResult) -> None:
    """One bar per bin or non-empty category; the bars add up to the PSI in the title."""
    for result in (price, region):
        fig = figures.psi_contributions(result)
        assert isinstance(fig, go.Figure)
        (bars,) = fig.data
        assert result.tests["psi"] == pytest.approx(sum(bars.y))
        assert f"{result.tests['psi']:.3f}" in fig.layout.title.text
    assert len(price.chart["psi_terms"]) == len(figures.psi_contributions(price).data[0].x)
    assert ["North", "South", "unseen: Online-Hub"] == list(
        figures.psi_contributions(region).data[0].x)


def test_category_bars_highlight_and_name_the_unseen_bucket(
        region: engine.FeatureResult) -> None:
    """The unseen bucket is labelled with its examples and drawn red; empty 'other' is gone."""
    fig = figures.category_bars(region)
    assert isinstance(fig, go.Figure)
    assert ["baseline", "current"] == _names(fig)
    base, cur = fig.data
    assert ["North", "South", "unseen: Online-Hub"] == list(cur.x)
    assert [figures.CURRENT, figures.CURRENT, figures.UNSEEN_COLOUR] == list(cur.marker.color)
    assert 0.2 == pytest.approx(cur.y[2])
    assert 0.0 == base.y[2]
    assert ["<b>new</b><br>20.0%"] == [a.text for a in fig.layout.annotations]


def test_category_bars_without_unseen_rows_show_only_real_categories() -> None:
    """A boolean with no new values: two bars per side, nothing highlighted."""
    base = engine.Categorical(100, 0, {"false": 80, "true": 20})
    cur = engine.Categorical(100, 0, {"false": 50, "true": 50})
    tests = engine.categorical_tests(base, cur, max_categories=50)
    result = engine.FeatureResult("promo_flag", "boolean", "drift", 1.5, 100, 100, 0.0, 0.0,
                                  tests, "psi", None, tests.pop("_chart"))
    fig = figures.category_bars(result)
    assert isinstance(fig, go.Figure)
    assert ["false", "true"] == list(fig.data[1].x)
    assert figures.UNSEEN_COLOUR not in list(fig.data[1].marker.color)
    assert () == fig.layout.annotations


def test_detail_figures_follow_the_feature_type(price: engine.FeatureResult,
                                                region: engine.FeatureResult) -> None:
    """Numeric: histogram, ECDF, PSI terms; categorical: category bars, PSI terms."""
    assert 3 == len(figures.detail_figures(price))
    assert 2 == len(figures.detail_figures(region))
    assert figures.bins_histogram(region) is None
    assert figures.ecdf(region) is None
    assert figures.category_bars(price) is None


@pytest.mark.parametrize(("kind", "status"), [
    ("numeric", "constant"), ("numeric", "insufficient_data"), ("categorical", "all_null"),
    ("boolean", "schema_missing"),
])
def test_results_without_a_chart_give_no_figure(kind: str, status: str) -> None:
    """Degenerate results carry no chart payload: every builder says None, nothing raises."""
    result = engine.FeatureResult("x", kind, status, None, 10, 0, None, None, {}, "why")
    assert [] == figures.detail_figures(result)
    for build in (figures.bins_histogram, figures.ecdf, figures.psi_contributions,
                  figures.category_bars):
        assert build(result) is None


def test_payload_stored_before_ecdf_curves_still_draws_the_histogram(
        price: engine.FeatureResult) -> None:
    """Older stored charts lack the ECDF curves: no ECDF figure, the rest still draws."""
    old = {k: v for k, v in price.chart.items()
           if k not in ("ecdf_baseline", "ecdf_current", "ks_x", "ks_baseline", "ks_current")}
    result = engine.FeatureResult("price", "numeric", "drift", 2.0, 1, 1, 0.0, 0.0,
                                  price.tests, "", None, old)
    assert figures.ecdf(result) is None
    assert 2 == len(figures.detail_figures(result))


def test_bin_labels_follow_the_engine_bin_convention() -> None:
    """(-inf, e1], (e1, e2], (e2, inf); one bin when there are no edges."""
    assert ["≤ 1", "1–2.5", "> 2.5"] == figures.bin_labels([1.0, 2.5])
    assert ["all values"] == figures.bin_labels([])


def test_heatmap_colours_follow_the_status_band() -> None:
    """Drift cells sit at or over 1.0, warn in [0.5, 1), ok under 0.5; schema problems are
    full red; unscored and missing cells are blank."""
    grid = Heatmap(("a", "b"), (date(2026, 9, 7), date(2026, 9, 14), date(2026, 9, 21)),
                   ((0.9, 1.4, None), (1.2, None, None)),
                   (("ok", "warn", "insufficient_data"), ("drift", "schema_missing", None)))
    fig = figures.heatmap(grid)
    (trace,) = fig.data
    assert [[0.499, 0.999, None], [1.2, figures.HEAT_MAX, None]] == [list(r) for r in trace.z]
    assert ["0.9", "1.4", "few rows"] == list(trace.text[0])
    assert ["<b>1.2</b>", "missing", ""] == list(trace.text[1])
    assert ["2026-09-07", "2026-09-14", "2026-09-21"] == list(trace.x)
    assert "1.0 = drift threshold" in fig.layout.title.text


def _history(null_now: list[float | None], status: list[str]) -> FeatureHistory:
    start = date(2026, 9, 7)
    points = tuple(HistoryPoint((start + timedelta(days=7 * i), start + timedelta(days=7 * i + 6)),
                                s, 0.5 + i, 0.05 * i, None, 0.1, None, 0.01, n)
                   for i, (n, s) in enumerate(zip(null_now, status, strict=True)))
    return FeatureHistory("visits", "numeric", Thresholds(), points)


def test_history_figures_draw_their_threshold_lines() -> None:
    """Score at 1.0 and PSI at psi_drift as dashed lines; null rate with baseline and band."""
    past = _history([0.01, 0.3], ["ok", "drift"])
    score = figures.score_history(past)
    assert isinstance(score, go.Figure)
    assert [1.0] == [s.y0 for s in score.layout.shapes]
    assert [figures.STATUS_COLOURS["ok"], figures.STATUS_COLOURS["drift"]] == list(
        score.data[0].marker.color)
    psi = figures.metric_history(past, "psi")
    assert isinstance(psi, go.Figure)
    assert [0.2] == [s.y0 for s in psi.layout.shapes]
    nulls = figures.null_rate_history(past)
    assert isinstance(nulls, go.Figure)
    assert {"baseline", "current"} <= set(_names(nulls))
    assert figures.metric_history(past, "js") is None  # never computed for a numeric feature


def test_feature_table_badges_and_blanks() -> None:
    """Status badges in capitals for drift; tests of other types are missing, not zero."""
    rows = [engine.FeatureResult("price", "numeric", "drift", 2.0, 10, 10, 0.0, 0.0,
                                 {"psi": 0.3, "ks": {"statistic": 0.2, "p_value": 0.0}}, "psi"),
            engine.FeatureResult("x", "numeric", "schema_missing", None, 0, 0, None, None, {})]
    frame: Any = tables.feature_table(rows).data
    assert ["DRIFT", "SCHEMA: missing"] == list(frame["status"])
    assert frame["js"].isna().all()
    assert 0.3 == frame.loc[0, "psi"]
    assert "< 1e-300" == tables._p_value(0.0)


def test_window_label_names_the_verdict() -> None:
    """Checked windows show verdict and drift count; others say they are not checked."""
    start = date(2026, 10, 5)
    summary = WindowSummary(start, start + timedelta(days=6), "1", 12, 4, 0, 4.6, "drift",
                            ("price",), None)  # type: ignore[arg-type]
    assert "2026-10-05 → 10-11 · DRIFT · 4/12 drifted" == tables.window_label(
        summary, start, start + timedelta(days=6))
    assert tables.window_label(None, start, start).endswith("not checked yet")
