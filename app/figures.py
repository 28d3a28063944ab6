"""Plotly figures for the drift explorer, built from governance data (no streamlit here).

Every per-window builder takes an engine :class:`~governance.drift.engine.FeatureResult`, so
stored results and ad-hoc checks draw the same way, and returns ``None`` when the result has no
chart payload (constant, all-null, too few rows, schema problems): the page then shows the
reason instead of an empty axis. Colours are fixed per side (baseline blue, current orange) so
every chart reads the same.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from governance.approvals_view import Comparison
from governance.drift.engine import OTHER, UNSEEN, FeatureResult
from governance.drift.explore import SCORE_THRESHOLD, FeatureHistory, Heatmap

BASELINE, CURRENT, UNSEEN_COLOUR, THRESHOLD = "#4C78A8", "#F58518", "#D62728", "#6F6F6F"
STATUS_COLOURS = {"drift": "#D62728", "warn": "#E8A33D", "ok": "#54A24B", "constant": "#54A24B"}
NEUTRAL = "#9D9D9D"
# Heatmap: green below the warn band, amber in it, red from the drift threshold (score 1.0) up;
# the colour scale spans scores 0..2, so 1.0 sits in the middle where the colour breaks.
HEAT_MAX = 2.0
HEAT_SCALE = [(0.0, "#E5F5E0"), (0.2499, "#A1D99B"), (0.25, "#FFE8A3"), (0.4999, "#F5B041"),
              (0.5, "#F4A582"), (0.75, "#D6604D"), (1.0, "#8E0B1E")]
METRIC_NAMES = {"score": "drift score", "psi": "PSI", "js": "JS distance",
                "wasserstein_norm": "Wasserstein / std", "unseen_share": "unseen share"}
_SHORT = {"drift": "DRIFT", "warn": "warn", "ok": "ok", "constant": "const",
          "insufficient_data": "few rows", "all_null": "all null", "schema_missing": "missing",
          "schema_type_changed": "retyped"}


def _layout(fig: go.Figure, title: str, **extra: Any) -> go.Figure:
    layout: dict[str, Any] = {
        "title": {"text": title, "font": {"size": 15}}, "template": "plotly_white",
        "margin": {"l": 10, "r": 10, "t": 50, "b": 10}, "height": 340,
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right",
                   "x": 1.0}}
    fig.update_layout({**layout, **extra})
    return fig


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def _shares(counts: Sequence[float]) -> list[float]:
    total = float(sum(counts))
    return [c / total if total else 0.0 for c in counts]


def bin_labels(edges: Sequence[float]) -> list[str]:
    """Labels of the bins ``(-inf, e1], (e1, e2], ..., (ek, inf)`` the engine counts on."""
    if not edges:
        return ["all values"]
    inner = [f"{_fmt(a)}–{_fmt(b)}" for a, b in itertools.pairwise(edges)]
    return [f"≤ {_fmt(edges[0])}", *inner, f"> {_fmt(edges[-1])}"]


def heatmap(data: Heatmap) -> go.Figure:
    """Score per feature per window; colour follows the status band, darker = larger score."""
    z: list[list[float | None]] = []
    text: list[list[str]] = []
    for scores, statuses in zip(data.scores, data.statuses, strict=True):
        z.append([_heat(s, st) for s, st in zip(scores, statuses, strict=True)])
        text.append([_cell(s, st) for s, st in zip(scores, statuses, strict=True)])
    hover = [[f"{st or 'not checked'} · score {'—' if s is None else f'{s:.2f}'}"
              for s, st in zip(scores, statuses, strict=True)]
             for scores, statuses in zip(data.scores, data.statuses, strict=True)]
    fig = go.Figure(go.Heatmap(
        z=z, x=[w.isoformat() for w in data.windows], y=list(data.features), text=text,
        # Scores as cell text stay legible up to about 16 weeks; beyond, hover only.
        customdata=hover, texttemplate="%{text}" if len(data.windows) <= 16 else None,
        textfont={"size": 11},
        hovertemplate="%{y} · week of %{x}<br>%{customdata}<extra></extra>",
        zmin=0.0, zmax=HEAT_MAX, colorscale=HEAT_SCALE, xgap=2, ygap=2,
        colorbar={"title": {"text": "score"}, "tickvals": [0, 0.5, 1, 1.5, 2],
                  "ticktext": ["0", "0.5 warn", "1 drift", "1.5", "≥ 2"], "thickness": 12}))
    fig.update_xaxes(type="category", title_text="window (week starting)")
    fig.update_yaxes(autorange="reversed")
    return _layout(fig, "Drift score per feature per window (1.0 = drift threshold)",
                   height=max(260, 90 + 26 * len(data.features)), plot_bgcolor="#EEEEEE",
                   margin={"l": 10, "r": 40, "t": 50, "b": 10})


def _heat(score: float | None, status: str | None) -> float | None:
    """Clamp into the status's colour band so the colour never contradicts the verdict."""
    if status in ("schema_missing", "schema_type_changed"):
        return HEAT_MAX
    if score is None or status is None:
        return None
    if status == "drift":
        return min(max(score, SCORE_THRESHOLD), HEAT_MAX)
    if status == "warn":
        return min(max(score, 0.5), 0.999)
    return min(score, 0.499)


def _cell(score: float | None, status: str | None) -> str:
    if status is None:
        return ""
    if score is None or status not in ("drift", "warn", "ok"):
        return _SHORT.get(status, status)
    return f"<b>{score:.1f}</b>" if status == "drift" else f"{score:.1f}"


def bins_histogram(result: FeatureResult) -> go.Figure | None:
    """Baseline vs current share of rows per frozen baseline bin (numeric features)."""
    chart = result.chart
    if "categories" in chart or not chart.get("baseline"):
        return None
    labels = bin_labels(chart["edges"])
    fig = go.Figure([
        go.Bar(x=labels, y=_shares(chart["baseline"]), name="baseline", marker_color=BASELINE),
        go.Bar(x=labels, y=_shares(chart["current"]), name="current", marker_color=CURRENT),
    ])
    fig.update_yaxes(tickformat=".0%", title_text="share of rows")
    fig.update_xaxes(title_text="frozen baseline bin (deciles at training time)", type="category")
    return _layout(fig, f"{result.feature}: baseline vs current per bin", barmode="group")


def ecdf(result: FeatureResult) -> go.Figure | None:
    """Both empirical CDFs, with the KS distance drawn where the gap is largest."""
    chart = result.chart
    if not chart.get("ecdf_x") or "ecdf_baseline" not in chart:
        return None
    xs, base, cur = list(chart["ecdf_x"]), list(chart["ecdf_baseline"]), list(chart["ecdf_current"])
    ks_x, ks_b, ks_c = chart.get("ks_x"), chart.get("ks_baseline"), chart.get("ks_current")
    if ks_x is not None and ks_b is not None and ks_c is not None and ks_x not in xs:
        # The grid holds exact ECDF values, so adding the exact value at ks_x keeps the steps
        # true and makes the KS segment end on both curves.
        at = sum(x < ks_x for x in xs)
        xs.insert(at, ks_x)
        base.insert(at, ks_b)
        cur.insert(at, ks_c)
    fig = go.Figure([
        go.Scatter(x=xs, y=base, name="baseline", mode="lines", line_shape="hv",
                   line={"color": BASELINE, "width": 2}),
        go.Scatter(x=xs, y=cur, name="current", mode="lines", line_shape="hv",
                   line={"color": CURRENT, "width": 2}),
    ])
    title = f"{result.feature}: cumulative distribution (ECDF)"
    if ks_x is not None and ks_b is not None and ks_c is not None:
        d = float(result.tests.get("ks", {}).get("statistic", abs(ks_c - ks_b)))
        fig.add_trace(go.Scatter(x=[ks_x, ks_x], y=[ks_b, ks_c], name=f"KS distance D = {d:.3f}",
                                 mode="lines+markers", line={"color": "#222222", "dash": "dot"},
                                 marker={"size": 7}))
        fig.add_annotation(x=ks_x, y=(ks_b + ks_c) / 2, text=f"D = {d:.3f}", showarrow=True,
                           arrowhead=0, ax=45, ay=0, bgcolor="white")
        title += f", KS D = {d:.3f}"
    fig.update_yaxes(range=[0, 1.02], tickformat=".0%", title_text="share of rows ≤ x")
    fig.update_xaxes(title_text=result.feature)
    return _layout(fig, title)


def psi_contributions(result: FeatureResult) -> go.Figure | None:
    """Each bin's (or category's) term of the PSI sum, largest in the feature's status colour."""
    chart = result.chart
    terms = chart.get("psi_terms")
    if not terms:
        return None
    if "categories" in chart:
        keep = _kept(chart)
        labels = [category_labels(chart)[i] for i in keep]
        terms = [terms[i] for i in keep]
    else:
        labels = bin_labels(chart.get("edges", []))
    top = max(range(len(terms)), key=lambda i: terms[i])
    colours = [STATUS_COLOURS.get(result.status, NEUTRAL) if i == top else "#B7C4D6"
               for i in range(len(terms))]
    fig = go.Figure(go.Bar(x=labels, y=terms, name="PSI term", marker_color=colours,
                           hovertemplate="%{x}: %{y:.4f}<extra></extra>"))
    fig.update_xaxes(type="category")
    fig.update_yaxes(title_text="(cur − base) · ln(cur / base)", tickformat="~g")
    total = float(result.tests.get("psi", sum(terms)))
    unit = "category" if "categories" in chart else "bin"
    return _layout(fig, f"{result.feature}: PSI contribution per {unit} (total {total:.3f})")


def category_labels(chart: Mapping[str, Any]) -> list[str]:
    """Category names with the engine's sentinels spelled out (unseen shows examples)."""
    examples = list(chart.get("unseen_examples", []))
    shown = ", ".join(examples[:3]) + (", …" if len(examples) > 3 else "")
    names = {OTHER: "other (rare baseline)", UNSEEN: f"unseen: {shown}" if shown else "unseen"}
    return [names.get(c, c) for c in chart["categories"]]


def _kept(chart: Mapping[str, Any]) -> list[int]:
    """Indexes worth drawing: the sentinel buckets are always in the payload, often empty."""
    return [i for i, c in enumerate(chart["categories"])
            if c not in (OTHER, UNSEEN) or chart["baseline"][i] > 0 or chart["current"][i] > 0]


def category_bars(result: FeatureResult) -> go.Figure | None:
    """Baseline vs current share per category; the unseen bucket is red and labelled."""
    chart = result.chart
    if not chart.get("categories"):
        return None
    labels = category_labels(chart)
    base, cur = _shares(chart["baseline"]), _shares(chart["current"])
    keep = _kept(chart)
    unseen = [i for i in keep if chart["categories"][i] == UNSEEN]
    x = [labels[i] for i in keep]
    fig = go.Figure([
        go.Bar(x=x, y=[base[i] for i in keep], name="baseline", marker_color=BASELINE),
        go.Bar(x=x, y=[cur[i] for i in keep], name="current",
               marker_color=[UNSEEN_COLOUR if i in unseen else CURRENT for i in keep]),
    ])
    for i in unseen:
        # Two short lines right above the bar: a wide label would cover the neighbours.
        fig.add_annotation(x=labels[i], y=cur[i], text=f"<b>new</b><br>{cur[i]:.1%}",
                           showarrow=False, yanchor="bottom", font={"color": UNSEEN_COLOUR})
    top = max([base[i] for i in keep] + [cur[i] for i in keep] + [0.01])
    fig.update_yaxes(tickformat=".0%", title_text="share of non-null rows",
                     range=[0, top * 1.25])
    fig.update_xaxes(type="category")
    return _layout(fig, f"{result.feature}: baseline vs current per category", barmode="group")


def detail_figures(result: FeatureResult) -> list[go.Figure]:
    """The per-window charts that apply to the result's type, in display order."""
    if result.type == "numeric":
        built = [bins_histogram(result), ecdf(result), psi_contributions(result)]
    else:
        built = [category_bars(result), psi_contributions(result)]
    return [f for f in built if f is not None]


def _windows(history: FeatureHistory) -> list[str]:
    return [p.window[0].isoformat() for p in history.points]


def score_history(history: FeatureHistory) -> go.Figure | None:
    """Score per window, markers in status colours, with the drift threshold at 1.0."""
    return metric_history(history, "score")


def metric_history(history: FeatureHistory, metric: str) -> go.Figure | None:
    """One stored metric (``score``, ``psi``, ``js``, ...) per window with its drift threshold."""
    points = [(w, getattr(p, metric), p.status)
              for w, p in zip(_windows(history), history.points, strict=True)]
    if not any(v is not None for _, v, _ in points):
        return None
    limit = history.threshold(metric)
    # The score decides the verdict, so its markers wear the status colour; a single test's
    # value may sit under its threshold in a drifted window, so it is only marked when over.
    colours = [STATUS_COLOURS.get(s, NEUTRAL) if metric == "score"
               else (STATUS_COLOURS["drift"] if v is not None and v >= limit else "#555555")
               for _, v, s in points]
    fig = go.Figure(go.Scatter(
        x=[w for w, _, _ in points], y=[v for _, v, _ in points], name=metric,
        mode="lines+markers", line={"color": "#555555"}, customdata=[s for _, _, s in points],
        marker={"size": 10, "color": colours},
        hovertemplate="week of %{x}: %{y:.3f} (%{customdata})<extra></extra>"))
    fig.add_hline(y=limit, line={"color": THRESHOLD, "dash": "dash"},
                  annotation_text=f"drift threshold {limit:g}", annotation_position="top left")
    fig.update_xaxes(type="category", title_text="window (week starting)")
    name = METRIC_NAMES.get(metric, metric)
    fig.update_yaxes(rangemode="tozero", title_text=name)
    return _layout(fig, f"{history.feature}: {name} over time", showlegend=False)


def null_rate_history(history: FeatureHistory) -> go.Figure | None:
    """Current null rate per window against the baseline's, with the drift band around it."""
    xs = _windows(history)
    base = [p.null_rate_baseline for p in history.points]
    cur = [p.null_rate_current for p in history.points]
    if not any(v is not None for v in base + cur):
        return None
    band = history.threshold("null_rate")
    upper = [None if b is None else min(b + band, 1.0) for b in base]
    lower = [None if b is None else max(b - band, 0.0) for b in base]
    fig = go.Figure([
        go.Scatter(x=xs, y=upper, mode="lines", line={"width": 0}, showlegend=False,
                   hoverinfo="skip"),
        go.Scatter(x=xs, y=lower, mode="lines", line={"width": 0}, fill="tonexty",
                   fillcolor="rgba(76,120,168,0.12)", name=f"baseline ± {band:g} (drift band)",
                   hoverinfo="skip"),
        go.Scatter(x=xs, y=base, name="baseline", mode="lines",
                   line={"color": BASELINE, "dash": "dash"}),
        go.Scatter(x=xs, y=cur, name="current", mode="lines+markers",
                   line={"color": CURRENT}, marker={"size": 8}),
    ])
    fig.update_xaxes(type="category", title_text="window (week starting)")
    fig.update_yaxes(tickformat=".0%", rangemode="tozero", title_text="null rate")
    return _layout(fig, f"{history.feature}: null rate over time")


def approval_metrics(comparison: Comparison) -> go.Figure | None:
    """Champion vs candidate per harness metric, one small panel each (metrics have different
    scales); the policy's deciding metric comes first and is marked."""
    from plotly.subplots import make_subplots

    rows = [m for m in comparison.metrics if m.champion is not None or m.candidate is not None]
    if not rows:
        return None
    titles = [f"<b>{m.metric}</b> (decides)" if m.metric == comparison.primary_metric
              else m.metric for m in rows]
    fig = make_subplots(rows=1, cols=len(rows), subplot_titles=titles,
                        horizontal_spacing=min(0.08, 0.5 / len(rows)))
    for i, m in enumerate(rows, start=1):
        for label, value, colour in ((comparison.champion_label, m.champion, BASELINE),
                                     (comparison.candidate_label, m.candidate, CURRENT)):
            fig.add_trace(go.Bar(
                x=[label.split(" (")[0]], y=[value], name=label, marker_color=colour,
                showlegend=i == 1, legendgroup=label,
                text=[None if value is None else f"{value:.4g}"], textposition="auto",
                hovertemplate=f"{m.metric} · {label}: %{{y:.4g}}<extra></extra>"), row=1, col=i)
    fig.update_yaxes(rangemode="tozero", tickformat="~g")
    fig = _layout(fig, f"Champion vs candidate on {comparison.harness} "
                  f"v{comparison.harness_version}", margin={"l": 10, "r": 10, "t": 80, "b": 40})
    # Below the panels: at the top right the legend covered the last panels' titles.
    fig.update_layout(legend={"orientation": "h", "x": 0.5, "xanchor": "center", "y": -0.08,
                              "yanchor": "top"})
    return fig
