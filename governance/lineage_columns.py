"""Column lineage of one model feature, from ``system.access.column_lineage``.

The walk starts at the feature's column in every table a version of the model was trained or
evaluated on (the ``trained on`` / ``evaluated on`` links of the lineage graph) and follows
column edges upstream, renames included (``label`` → ``units_sold``), to the raw columns.
Visited columns are never expanded twice, so cyclic lineage rows end the walk too.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance import graphs
from governance.graphs import Cycle, Point
from governance.lineage_graph import (
    EVALUATED_ON,
    KINDS,
    RAW,
    TRAINED_ON,
    LineageGraph,
    for_model,
)
from governance.warehouse import Session, Warehouse

#: Guards a pathological store (a table written from thousands of columns) from a runaway walk.
MAX_COLUMNS = 2_000


@dataclass(frozen=True)
class ColumnNode:
    """One column of one table; ``kind`` is the table's kind in the lineage graph."""

    id: str
    table: str
    column: str
    kind: str


@dataclass(frozen=True)
class ColumnLink:
    """``target`` column was derived from ``source`` column (node ids) by ``entity``."""

    source: str
    target: str
    entity: str
    created_by: str
    event_time: datetime | None


@dataclass(frozen=True)
class ColumnLineage:
    """The upstream column lineage of one feature of one model.

    Attributes:
        model: The model.
        feature: The feature (column name in the model's training tables).
        nodes: Every column reached, starting columns first.
        links: Column edges among them.
        cycles: Column cycles found (never followed twice).
        truncated: True when the walk stopped at :data:`MAX_COLUMNS` columns.
    """

    model: str
    feature: str
    nodes: tuple[ColumnNode, ...]
    links: tuple[ColumnLink, ...]
    cycles: tuple[Cycle, ...] = ()
    truncated: bool = False

    @property
    def empty(self) -> bool:
        """True when no column edge leads into the feature."""
        return not self.links

    @property
    def raw_columns(self) -> tuple[str, ...]:
        """Ids of the columns nothing else writes: where the feature comes from."""
        written = {link.target for link in self.links if link.source != link.target}
        return tuple(n.id for n in self.nodes if n.id not in written)


def column_id(table: str, column: str) -> str:
    """The node id of a column: ``catalog.schema.table.column``."""
    return f"{table}.{column}"


def start_tables(graph: LineageGraph, model: str) -> tuple[str, ...]:
    """Tables the model's versions were trained or evaluated on, sorted."""
    own = {n.id for n in graph.nodes if n.model == model}
    return tuple(sorted({e.source for e in graph.links if e.target in own
                         and e.relation in (TRAINED_ON, EVALUATED_ON)}))


def features(session: Session, graph: LineageGraph, model: str) -> tuple[str, ...]:
    """A model's features: as registered, else the columns lineage records in its tables."""
    for row in session.fetch_rows("models/list"):
        if row["model_name"] == model:
            return tuple(json.loads(row["features"]))
    columns = {r["target_column"] for table in start_tables(graph, model)
               for r in session.fetch_rows("lineage/column_edges", {"target": table})}
    return tuple(sorted(columns))


def column_lineage(session: Session, graph: LineageGraph, model: str,
                   feature: str) -> ColumnLineage:
    """Walk the feature's column lineage upstream from the model's training tables."""
    scope = for_model(graph, model)
    kinds = {n.id: n.kind for n in scope.nodes}
    into: dict[str, list[dict[str, Any]]] = {}
    nodes: dict[str, ColumnNode] = {}
    links: list[ColumnLink] = []
    starts = [(t, feature) for t in start_tables(graph, model)]
    queue = deque(starts)
    seen = set(starts)
    truncated = False
    while queue:
        table, column = queue.popleft()
        nodes[column_id(table, column)] = ColumnNode(column_id(table, column), table, column,
                                                     kinds.get(table, RAW))
        if table not in into:
            into[table] = session.fetch_rows("lineage/column_edges", {"target": table})
        for row in into[table]:
            if row["target_column"] != column:
                continue
            source = (str(row["source"]), str(row["source_column"]))
            links.append(ColumnLink(column_id(*source), column_id(table, column),
                                    f"{row['entity_type'] or ''} {row['entity_id'] or ''}".strip(),
                                    str(row["created_by"] or ""),
                                    row["event_time"]))
            if source not in seen:
                if len(seen) >= MAX_COLUMNS:
                    truncated = True
                    continue
                seen.add(source)
                queue.append(source)
    reached = tuple(nodes.values())
    # Links to columns cut off by MAX_COLUMNS would point at nothing; drop them.
    kept = tuple(dict.fromkeys(li for li in links if li.source in nodes))
    cycles = graphs.find_cycles(nodes, [(li.source, li.target) for li in kept])
    return ColumnLineage(model, feature, reached, kept, cycles, truncated)


def read_column_lineage(warehouse: Warehouse, graph: LineageGraph, model: str,
                        feature: str) -> ColumnLineage:
    """:func:`column_lineage` in its own short unit of work."""
    with warehouse.session() as session:
        return column_lineage(session, graph, model, feature)


def read_features(warehouse: Warehouse, graph: LineageGraph, model: str) -> tuple[str, ...]:
    """:func:`features` in its own short unit of work."""
    with warehouse.session() as session:
        return features(session, graph, model)


def layout(lineage: ColumnLineage) -> dict[str, Point]:
    """Stable positions: raw columns on the left, the model's columns on the right."""
    rank = {n.id: KINDS.index(n.kind) for n in lineage.nodes}
    return graphs.layout([n.id for n in lineage.nodes],
                         [(li.source, li.target) for li in lineage.links], rank,
                         align_sinks=True)
