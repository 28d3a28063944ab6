"""The lineage graph: raw tables → feature tables → training sets → model versions (uat, prod).

Table edges are Unity Catalog's (``system.access.table_lineage``, or the local tables with its
columns). UC has no node type for a model version, so those come from the ledger: each
``model_trained`` / ``candidate_trained`` entry names the table a UAT version was trained on,
and each ``model_promoted`` entry the UAT version a prod version was copied from.

Lineage rows are data, not a promise: they can hold cycles (a MERGE that reads its own target,
A → B → A). Every walk here keeps a visited set or works on strongly connected components, so it
terminates on any input; cycles are returned for display, never raised.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance import graphs
from governance.graphs import Cycle, Point
from governance.warehouse import Session, Warehouse

RAW, FEATURE, TRAINING, HOLDOUT = "raw_table", "feature_table", "training_set", "evaluation_holdout"
MODEL_UAT, MODEL_PROD = "model_uat", "model_prod"
KINDS = (RAW, FEATURE, TRAINING, HOLDOUT, MODEL_UAT, MODEL_PROD)
KIND_LABELS = {RAW: "raw table", FEATURE: "feature table", TRAINING: "training set",
               HOLDOUT: "evaluation holdout", MODEL_UAT: "model version (uat)",
               MODEL_PROD: "model version (prod)"}
WRITES, TRAINED_ON, EVALUATED_ON, PROMOTED = "writes", "trained on", "evaluated on", "promoted to"


@dataclass(frozen=True)
class TableLink:
    """One table-level lineage row: ``target`` was written from ``source``."""

    source: str
    target: str
    entity_type: str = "JOB"
    entity_id: str = ""
    created_by: str = ""
    event_time: datetime | None = None


@dataclass(frozen=True)
class TrainedVersion:
    """A UAT model version from the ledger; ``training_table`` is ``None`` when unrecorded."""

    model: str
    version: str
    training_table: str | None
    holdout_table: str | None = None
    run_id: str = ""
    dataset_digest: str = ""
    incident_id: str | None = None
    actor: str = ""
    event_time: datetime | None = None


@dataclass(frozen=True)
class PromotedVersion:
    """A prod model version from a ``model_promoted`` entry; ``champion`` if the latest one."""

    model: str
    prod_version: str
    uat_version: str
    approval_id: str = ""
    prod_run_id: str = ""
    source_run_id: str = ""
    model_digest: str = ""
    reason: str = ""
    actor: str = ""
    event_time: datetime | None = None
    champion: bool = False


@dataclass(frozen=True)
class Node:
    """A table or a model version.

    Attributes:
        id: A table's full name, or ``<model> v<version> (uat|prod)``.
        kind: One of :data:`KINDS`.
        model: The model, for model versions.
        version: The version in its own registry, for model versions.
        details: ``(field, value)`` pairs for the details panel, in display order.
    """

    id: str
    kind: str
    model: str | None = None
    version: str | None = None
    details: tuple[tuple[str, str], ...] = ()

    @property
    def kind_label(self) -> str:
        """The kind in words (``raw table``, ``model version (prod)``...)."""
        return KIND_LABELS[self.kind]


@dataclass(frozen=True)
class Link:
    """A directed edge of the graph; ``detail`` names the job or ledger entry behind it."""

    source: str
    target: str
    relation: str
    detail: str = ""


@dataclass(frozen=True)
class LineageGraph:
    """Nodes, edges and the cycles among them."""

    nodes: tuple[Node, ...]
    links: tuple[Link, ...]
    cycles: tuple[Cycle, ...] = ()

    @functools.cached_property
    def _index(self) -> dict[str, Node]:
        return {n.id: n for n in self.nodes}

    @property
    def empty(self) -> bool:
        """True when nothing is recorded: no lineage rows and no model versions."""
        return not self.nodes

    @property
    def edges(self) -> list[graphs.Edge]:
        """The links as ``(source, target)`` pairs."""
        return [(link.source, link.target) for link in self.links]

    def node(self, node_id: str) -> Node | None:
        """The node named ``node_id``, or ``None``."""
        return self._index.get(node_id)

    @property
    def models(self) -> tuple[str, ...]:
        """Models with at least one version in the graph, sorted."""
        return tuple(sorted({n.model for n in self.nodes if n.model}))

    def upstream(self, node_id: str) -> frozenset[str]:
        """Every node with a path to ``node_id`` (itself excluded unless on a cycle)."""
        return frozenset(graphs.reach(graphs.adjacency(self.edges, reverse=True), [node_id]))


@dataclass(frozen=True)
class Gap:
    """A model version whose lineage does not reach a raw table."""

    node: str
    model: str
    version: str
    environment: str
    training_table: str | None
    reason: str


def model_node(model: str, version: str, environment: str) -> str:
    """The node id of a model version: ``demand_forecast v2 (uat)``."""
    return f"{model} v{version} ({environment})"


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "—"


def _version_key(version: str) -> tuple[int, str]:
    return (int(version), version) if version.isdigit() else (1 << 62, version)


def build(links: Iterable[TableLink], trained: Iterable[TrainedVersion],
          promoted: Iterable[PromotedVersion]) -> LineageGraph:
    """Assemble the graph from lineage rows and the ledger's model versions (pure).

    A table's kind: a training set or evaluation holdout if a model version names it so;
    otherwise a raw table when nothing else writes it (a self-loop does not count), else a
    feature table.
    """
    table_links = sorted(set(links), key=lambda t: (t.source, t.target, t.entity_id))
    trained_by_key = {(t.model, t.version): t for t in trained}
    promotions = sorted(promoted, key=lambda p: (p.model, _version_key(p.prod_version)))
    edges: list[Link] = []
    writers: dict[str, TableLink] = {}
    for t in table_links:
        edges.append(Link(t.source, t.target, WRITES, f"{t.entity_type} {t.entity_id}".strip()))
        if t.source != t.target:
            latest = writers.get(t.target)
            if latest is None or (t.event_time or datetime.min) >= (latest.event_time
                                                                      or datetime.min):
                writers[t.target] = t
    for p in promotions:  # a promotion of a version with no training record still names it
        trained_by_key.setdefault((p.model, p.uat_version),
                                  TrainedVersion(p.model, p.uat_version, None))
    champions = {(p.model, p.uat_version) for p in promotions if p.champion}
    model_nodes: list[Node] = []
    training: set[str] = set()
    holdout: set[str] = set()
    for key in sorted(trained_by_key, key=lambda k: (k[0], _version_key(k[1]))):
        v = trained_by_key[key]
        uid = model_node(v.model, v.version, "uat")
        model_nodes.append(Node(uid, MODEL_UAT, v.model, v.version, (
            ("model", v.model), ("uat version", v.version),
            ("training table", v.training_table or "— not recorded"),
            ("evaluation holdout", v.holdout_table or "—"), ("run id", v.run_id or "—"),
            ("dataset digest", v.dataset_digest or "—"), ("incident", v.incident_id or "—"),
            ("trained by", v.actor or "—"), ("trained at", _when(v.event_time)),
            ("source of the prod champion", "yes" if key in champions else "no"))))
        if v.training_table:
            training.add(v.training_table)
            edges.append(Link(v.training_table, uid, TRAINED_ON, v.run_id))
        if v.holdout_table:
            holdout.add(v.holdout_table)
            edges.append(Link(v.holdout_table, uid, EVALUATED_ON, v.incident_id or ""))
    for p in promotions:
        pid = model_node(p.model, p.prod_version, "prod")
        model_nodes.append(Node(pid, MODEL_PROD, p.model, p.prod_version, (
            ("model", p.model), ("prod version", p.prod_version),
            ("promoted from", model_node(p.model, p.uat_version, "uat")),
            ("champion", "yes" if p.champion else "no"), ("approval id", p.approval_id or "—"),
            ("prod run id", p.prod_run_id or "—"), ("source run id", p.source_run_id or "—"),
            ("model digest", p.model_digest or "—"), ("reason", p.reason or "—"),
            ("promoted by", p.actor or "—"), ("promoted at", _when(p.event_time)))))
        edges.append(Link(model_node(p.model, p.uat_version, "uat"), pid, PROMOTED,
                          p.approval_id))
    tables = sorted({n for t in table_links for n in (t.source, t.target)} | training | holdout)
    nodes = [Node(name, _table_kind(name, training, holdout, writers),
                  details=_table_details(name, writers.get(name))) for name in tables]
    all_nodes = tuple(nodes + model_nodes)
    unique_edges = tuple(dict.fromkeys(edges))
    pairs = [(e.source, e.target) for e in unique_edges]
    return LineageGraph(all_nodes, unique_edges, graphs.find_cycles([n.id for n in all_nodes],
                                                                    pairs))


def _table_kind(name: str, training: set[str], holdout: set[str],
                writers: Mapping[str, TableLink]) -> str:
    if name in training:
        return TRAINING
    if name in holdout:
        return HOLDOUT
    return FEATURE if name in writers else RAW


def _table_details(name: str, writer: TableLink | None) -> tuple[tuple[str, str], ...]:
    if writer is None:
        return (("table", name), ("written by", "— no upstream lineage"))
    return (("table", name), ("written by", f"{writer.entity_type} {writer.entity_id}".strip()),
            ("created by", writer.created_by or "—"),
            ("last lineage event", _when(writer.event_time)))


def for_model(graph: LineageGraph, model: str) -> LineageGraph:
    """The part of ``graph`` behind one model: its versions and everything upstream of them."""
    own = {n.id for n in graph.nodes if n.model == model}
    keep = own | graphs.reach(graphs.adjacency(graph.edges, reverse=True), own)
    return LineageGraph(
        tuple(n for n in graph.nodes if n.id in keep),
        tuple(e for e in graph.links if e.source in keep and e.target in keep),
        tuple(c for c in graph.cycles if keep.intersection(c.nodes)))


def completeness(graph: LineageGraph) -> tuple[Gap, ...]:
    """Model versions (uat and prod) whose lineage does not reach a raw table.

    A UAT version needs a recorded training table from which lineage edges lead back to at
    least one raw table; a prod version inherits the verdict of the UAT version it was copied
    from.
    """
    parents = graphs.adjacency(graph.edges, reverse=True)
    inbound: dict[tuple[str, str], list[str]] = {}  # (target, relation) -> sources, in order
    for e in graph.links:
        inbound.setdefault((e.target, e.relation), []).append(e.source)
    uat_reason: dict[str, tuple[str | None, str]] = {}
    for node in graph.nodes:
        if node.kind != MODEL_UAT:
            continue
        tables = inbound.get((node.id, TRAINED_ON), [])
        if not tables:
            uat_reason[node.id] = (None, "no training table recorded in the ledger")
            continue
        first = tables[0]
        upstream = graphs.reach(parents, [first])
        if any((n := graph.node(u)) is not None and n.kind == RAW for u in upstream):
            continue
        cyclic = [c for c in graph.cycles if upstream.intersection(c.nodes)]
        if not upstream - {first}:
            why = f"training table {first} has no upstream table lineage"
        elif cyclic:
            why = (f"lineage above training table {first} is a cycle "
                   f"({cyclic[0].describe()}) with no raw table")
        else:
            why = f"no path from training table {first} to a raw table"
        uat_reason[node.id] = (first, why)
    gaps = []
    for node in graph.nodes:
        model, version = str(node.model), str(node.version)
        if node.kind == MODEL_UAT and node.id in uat_reason:
            table, why = uat_reason[node.id]
            gaps.append(Gap(node.id, model, version, "uat", table, why))
        elif node.kind == MODEL_PROD:
            source = next(iter(inbound.get((node.id, PROMOTED), [])), None)
            if source in uat_reason:
                table, why = uat_reason[source]
                gaps.append(Gap(node.id, model, version, "prod", table,
                                f"promoted from {source}: {why}"))
    return tuple(sorted(gaps, key=lambda g: (g.model, g.environment != "uat",
                                             _version_key(g.version))))


def layout(graph: LineageGraph) -> dict[str, Point]:
    """Stable positions for the figure: layers by depth from the raw sources."""
    rank = {n.id: KINDS.index(n.kind) for n in graph.nodes}
    return graphs.layout([n.id for n in graph.nodes], graph.edges, rank)


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def load(session: Session) -> LineageGraph:
    """Read table lineage and the ledger's model versions, and build the graph."""
    links = [TableLink(r["source"], r["target"], _text(r["entity_type"]), _text(r["entity_id"]),
                       _text(r["created_by"]), r["event_time"])
             for r in session.fetch_rows("lineage/table_edges")]
    trained = [TrainedVersion(r["model_name"], str(r["uat_version"]), r["training_table"] or None,
                              r["holdout_table"] or None, _text(r["run_id"]),
                              _text(r["dataset_digest"]), r["incident_id"], _text(r["actor"]),
                              r["event_time"])
               for r in session.fetch_rows("lineage/trained_versions")]
    promoted = [PromotedVersion(r["model_name"], str(r["prod_version"]), _text(r["uat_version"]),
                                _text(r["approval_id"]), _text(r["prod_run_id"]),
                                _text(r["source_run_id"]), _text(r["model_digest"]),
                                _text(r["reason"]), _text(r["actor"]), r["event_time"],
                                bool(r["is_champion"]))
                for r in session.fetch_rows("lineage/promoted_versions")]
    return build(links, trained, promoted)


def read_graph(warehouse: Warehouse) -> LineageGraph:
    """:func:`load` in its own short unit of work (what the app calls)."""
    with warehouse.session() as session:
        return load(session)
