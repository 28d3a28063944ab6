"""Plotly figures for the audit view, built from governance data (no streamlit here)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from app.figures import NEUTRAL
from governance.audit import trail
from governance.audit.trail import TimelineEvent
from governance.audit.view import EventCount

FAILED, STEP, LINK = "#D62728", "#4C78A8", "#C7C7C7"
ENVIRONMENT_COLOURS = {"prod": "#F58518", "uat": "#4C78A8", "global": NEUTRAL}


def _layout(fig: go.Figure, title: str, height: int) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": 15}}, template="plotly_white", height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10}, showlegend=True,
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.0, "xanchor": "right", "x": 1.0})
    return fig


def timeline(events: Sequence[TimelineEvent], title: str) -> go.Figure | None:
    """The story on a time axis, one row per step, failures in red.

    Runs of one step (weeks of drift checks) are condensed (:func:`trail.condense`): one
    marker at the run's first entry and a bar to its last, labelled with the count. Rows keep
    the order in which steps first happen (top to bottom), so a healthy story reads as a
    staircase.

    Returns:
        The figure, or ``None`` when there is nothing to draw.
    """
    if not events:
        return None
    runs = trail.condense(events)
    steps = list(dict.fromkeys(e.step for e in runs))
    fig = go.Figure(go.Scatter(
        x=[e.time for e in runs], y=[e.step for e in runs], mode="lines",
        line={"color": LINK, "width": 1}, hoverinfo="skip", showlegend=False))
    spans = [e for e in runs if e.last_time is not None]
    if spans:
        xs: list[object] = []
        ys: list[object] = []
        for e in spans:
            xs += [e.time, e.last_time, None]
            ys += [e.step, e.step, None]
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", line={"color": STEP, "width": 6},
                                 opacity=0.35, hoverinfo="skip", showlegend=False))
    for failed in (False, True):
        chosen = [e for e in runs if e.failed == failed]
        if not chosen:
            continue
        fig.add_trace(go.Scatter(
            x=[e.time for e in chosen], y=[e.step for e in chosen], mode="markers+text",
            name="failed" if failed else "step",
            text=[f"×{e.count}" if e.count > 1 else "" for e in chosen],
            textposition="top right",
            marker={"size": 13 if failed else 11, "color": FAILED if failed else STEP,
                    "symbol": "x" if failed else "circle"},
            customdata=[[f"{e.seq}–{e.last_seq}" if e.last_seq else str(e.seq), e.actor,
                         e.environment, e.summary] for e in chosen],
            hovertemplate="#%{customdata[0]} · %{y} · %{x}<br>%{customdata[1]} "
                          "(%{customdata[2]})<br>%{customdata[3]}<extra></extra>"))
    fig.update_yaxes(categoryorder="array", categoryarray=steps, autorange="reversed",
                     title=None)
    fig.update_xaxes(title="time (UTC)")
    return _layout(fig, title, height=max(260, 60 + 34 * len(steps)))


def event_counts(counts: Sequence[EventCount]) -> go.Figure | None:
    """Ledger entries per event type, stacked by environment, largest on top."""
    if not counts:
        return None
    totals: dict[str, int] = {}
    for c in counts:
        totals[c.event_type] = totals.get(c.event_type, 0) + c.n
    order = sorted(totals, key=lambda t: (-totals[t], t))
    fig = go.Figure()
    for env in dict.fromkeys(c.environment for c in counts):
        mine = {c.event_type: c.n for c in counts if c.environment == env}
        fig.add_trace(go.Bar(
            y=[t for t in order if t in mine], x=[mine[t] for t in order if t in mine],
            name=env, orientation="h", marker_color=ENVIRONMENT_COLOURS.get(env, NEUTRAL),
            hovertemplate="%{y} · " + env + ": %{x}<extra></extra>"))
    fig.update_layout(barmode="stack")
    fig.update_yaxes(categoryorder="array", categoryarray=order, autorange="reversed",
                     title=None)
    fig.update_xaxes(title="entries")
    return _layout(fig, "Ledger entries per event type", height=max(260, 60 + 26 * len(order)))
