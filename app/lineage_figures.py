"""Plotly figures and small tables for the lineage page, from governance data (no streamlit).

Nodes are drawn one trace per kind so the legend doubles as the colour key, and each point
carries its node id in ``customdata``: a click on the chart hands that id back to the page
(:func:`clicked_node`). Edges are grey lines with an arrow at the target; edges on a cycle are
red so a loop in the lineage is visible where it is.
"""

from __future__ import annotations

import bisect
from collections.abc import Mapping, Sequence
from typing import Any

import plotly.graph_objects as go

from governance.graphs import Cycle, Point
from governance.lineage_columns import ColumnLineage
from governance.lineage_graph import (
    FEATURE,
    HOLDOUT,
    KIND_LABELS,
    KINDS,
    MODEL_PROD,
    MODEL_UAT,
    RAW,
    TRAINING,
    Gap,
    LineageGraph,
    Node,
)

KIND_COLOURS = {RAW: "#4C78A8", FEATURE: "#72B7B2", TRAINING: "#F58518", HOLDOUT: "#B279A2",
                MODEL_UAT: "#9ACD80", MODEL_PROD: "#2E7D32"}
EDGE, CYCLE_EDGE = "#B0B0B0", "#D62728"
#: Beyond this many edges arrows (one annotation each) slow the browser; plain lines remain.
MAX_ARROWS = 300
#: How far (in rows) an edge that skips a layer bends away from the straight line.
BEND = 0.3


def short_label(node_id: str, kind: str) -> str:
    """What a node shows on the chart: a table's own name, a model version's full id."""
    return node_id if kind in (MODEL_UAT, MODEL_PROD) else node_id.rsplit(".", 1)[-1]


def _cycle_edges(cycles: Sequence[Cycle]) -> set[tuple[str, str]]:
    members = [set(c.nodes) for c in cycles]
    return {(a, b) for m in members for a in m for b in m}


class _Layers:
    """The nodes' heights per layer (x), sorted, so routing an edge never scans every node."""

    def __init__(self, positions: Mapping[str, Point]) -> None:
        by_x: dict[float, list[float]] = {}
        for p in positions.values():
            by_x.setdefault(p.x, []).append(p.y)
        self.xs = sorted(by_x)
        self.ys = {x: sorted(ys) for x, ys in by_x.items()}

    def clearance(self, y: float, low_x: float, high_x: float) -> float:
        """Distance from height ``y`` to the nearest node strictly between two layers."""
        best = 1.0
        for x in self.xs[bisect.bisect_right(self.xs, low_x):bisect.bisect_left(self.xs, high_x)]:
            ys = self.ys[x]
            i = bisect.bisect_left(ys, y)
            for j in (i - 1, i):
                if 0 <= j < len(ys):
                    best = min(best, abs(y - ys[j]))
        return best


def _route(a: Point, b: Point, layers: _Layers) -> list[Point]:
    """An edge's polyline: straight between neighbouring layers; bent when it skips one, to
    whichever side keeps it farthest from the nodes of the layers it passes."""
    if abs(b.x - a.x) <= 1:
        return [a, b]
    mid_x, mid_y = (a.x + b.x) / 2, (a.y + b.y) / 2
    low, high = min(a.x, b.x), max(a.x, b.x)
    bend = max((mid_y + BEND, mid_y - BEND, mid_y + 0.5, mid_y - 0.5),
               key=lambda y: (min(layers.clearance(y, low, high), 0.5), -abs(y - mid_y)))
    return [a, Point(mid_x, bend), b]


def _edges(fig: go.Figure, edges: Sequence[tuple[str, str]], positions: Mapping[str, Point],
           cycles: Sequence[Cycle]) -> None:
    on_cycle = _cycle_edges(cycles)
    layers = _Layers(positions)
    routes = {(s, t): _route(positions[s], positions[t], layers) for s, t in edges}
    for colour, wanted in ((EDGE, False), (CYCLE_EDGE, True)):
        xs: list[float | None] = []
        ys: list[float | None] = []
        for source, target in edges:
            if ((source, target) in on_cycle) != wanted:
                continue
            route = routes[(source, target)]
            xs += [p.x for p in route] + [None]
            ys += [p.y for p in route] + [None]
        if xs:
            fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", hoverinfo="skip",
                                     showlegend=wanted, name="cycle edge" if wanted else "edge",
                                     line={"color": colour, "width": 2.5 if wanted else 1.2}))
    if len(edges) <= MAX_ARROWS:
        for source, target in edges:
            if source == target:
                continue
            a, b = routes[(source, target)][-2:]
            fig.add_annotation(x=b.x, y=b.y, ax=a.x, ay=a.y, xref="x", yref="y", axref="x",
                               ayref="y", showarrow=True, arrowhead=2, arrowsize=1.2,
                               arrowwidth=1, standoff=9, text="",
                               arrowcolor=CYCLE_EDGE if (source, target) in on_cycle else EDGE)


def _layout(fig: go.Figure, title: str, positions: Mapping[str, Point]) -> go.Figure:
    rows = max((p.y for p in positions.values()), default=0.0) - min(
        (p.y for p in positions.values()), default=0.0)
    right = max((p.x for p in positions.values()), default=0.0)
    fig.update_layout(
        title={"text": title, "font": {"size": 15}}, template="plotly_white",
        height=int(max(380, 60 * (rows + 3))), margin={"l": 10, "r": 10, "t": 50, "b": 10},
        xaxis={"visible": False, "range": [-0.6, right + 0.6]}, yaxis={"visible": False},
        clickmode="event+select", hovermode="closest",
        # Below the plot: above it the legend covers the title in a narrow column.
        legend={"orientation": "h", "yanchor": "top", "y": -0.02, "xanchor": "left", "x": 0.0})
    return fig


def _hover(node: Node) -> str:
    lines = [f"<b>{node.id}</b>", node.kind_label]
    lines += [f"{k}: {v}" for k, v in node.details[:6] if k not in ("table", "model")]
    return "<br>".join(lines)


def graph_figure(graph: LineageGraph, positions: Mapping[str, Point],
                 selected: str | None = None) -> go.Figure:
    """The lineage graph: one marker trace per node kind, edges as arrows, cycles in red.

    Args:
        graph: The (possibly per-model) graph.
        positions: From :func:`governance.lineage_graph.layout`.
        selected: A node to ring, e.g. the one whose details are open.
    """
    fig = go.Figure()
    _edges(fig, graph.edges, positions, graph.cycles)
    cyclic = {n for c in graph.cycles for n in c.nodes}
    for kind in KINDS:
        nodes = [n for n in graph.nodes if n.kind == kind]
        if not nodes:
            continue
        champions = [dict(n.details).get("champion") == "yes" for n in nodes]
        fig.add_trace(go.Scatter(
            x=[positions[n.id].x for n in nodes], y=[positions[n.id].y for n in nodes],
            mode="markers+text", name=KIND_LABELS[kind],
            text=[short_label(n.id, kind) for n in nodes], textposition="bottom center",
            textfont={"size": 10}, customdata=[n.id for n in nodes],
            hovertext=[_hover(n) for n in nodes], hoverinfo="text",
            marker={"size": [22 if c else 16 for c in champions],
                    "symbol": ["star" if c else "circle" for c in champions],
                    "color": KIND_COLOURS[kind],
                    "line": {"width": [3 if n.id in cyclic or n.id == selected else 1
                                       for n in nodes],
                             "color": [CYCLE_EDGE if n.id in cyclic else "#333333"
                                       for n in nodes]}}))
    return _layout(fig, "Lineage: raw tables → features → training sets → model versions",
                   positions)


def column_figure(lineage: ColumnLineage, positions: Mapping[str, Point]) -> go.Figure:
    """Column lineage of one feature: columns coloured by their table's kind."""
    fig = go.Figure()
    _edges(fig, [(li.source, li.target) for li in lineage.links], positions, lineage.cycles)
    for kind in KINDS:
        nodes = [n for n in lineage.nodes if n.kind == kind]
        if not nodes:
            continue
        fig.add_trace(go.Scatter(
            x=[positions[n.id].x for n in nodes], y=[positions[n.id].y for n in nodes],
            mode="markers+text", name=KIND_LABELS[kind], customdata=[n.id for n in nodes],
            text=[f"{n.table.rsplit('.', 1)[-1]}.{n.column}" for n in nodes],
            textposition="bottom center", textfont={"size": 10},
            hovertext=[f"<b>{n.column}</b><br>{n.table}<br>{KIND_LABELS[kind]}" for n in nodes],
            hoverinfo="text", marker={"size": 14, "color": KIND_COLOURS[kind],
                                      "line": {"width": 1, "color": "#333333"}}))
    return _layout(fig, f"Column lineage of {lineage.model}.{lineage.feature}", positions)


def clicked_node(event: Mapping[str, Any] | None) -> str | None:
    """The node id of the first clicked point in a ``st.plotly_chart`` selection event."""
    selection = (event or {}).get("selection") or {}
    for point in selection.get("points") or ():
        data = point.get("customdata")
        if isinstance(data, list):
            data = data[0] if data else None
        if isinstance(data, str) and data:
            return data
    return None


def detail_rows(node: Node) -> list[dict[str, str]]:
    """The details panel of one node as table rows."""
    return [{"field": "kind", "value": node.kind_label},
            *({"field": k, "value": v} for k, v in node.details)]


def gap_rows(gaps: Sequence[Gap]) -> list[dict[str, str]]:
    """The completeness report as table rows."""
    return [{"model": g.model, "environment": g.environment, "version": g.version,
             "training table": g.training_table or "—", "problem": g.reason} for g in gaps]


def column_rows(lineage: ColumnLineage) -> list[dict[str, str]]:
    """The feature's column edges as table rows (raw sources first)."""
    nodes = {n.id: n for n in lineage.nodes}
    return [{"source table": nodes[li.source].table, "source column": nodes[li.source].column,
             "target table": nodes[li.target].table, "target column": nodes[li.target].column,
             "written by": li.entity or "—", "created by": li.created_by or "—"}
            for li in sorted(lineage.links, key=lambda li: (li.target, li.source))]
