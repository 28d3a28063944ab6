"""The lineage graph on a fresh store: nodes, edges, cycles, gaps, column lineage, layout."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest

from governance import graphs, ledger, lineage, lineage_columns, lineage_graph
from governance.lineage import Edge
from governance.lineage_graph import (
    FEATURE,
    HOLDOUT,
    MODEL_PROD,
    MODEL_UAT,
    RAW,
    TRAINING,
    LineageGraph,
)
from governance.warehouse import Warehouse

NOW = datetime(2026, 10, 1, 9, 0, 0)
SALES, STORES = "prod.retail.sales", "prod.retail.stores"
FEATURES = "prod.features.demand_features"
TRAIN_V1, TRAIN_V2 = "uat.training.demand_v1", "uat.training.demand_v2"
HOLD_V2, LOG = "uat.evaluation.demand_holdout", "prod.inference.demand"


def _edge(source: str, target: str, *columns: tuple[str, str], job: str = "pipeline") -> Edge:
    return Edge(source, target, "JOB", job, f"{job}-run", "system:test", tuple(columns))


def _trained(wh: Warehouse, model: str, version: str, table: str | None) -> None:
    payload = {"run_id": f"run-{model}-{version}", "dataset_digest": f"digest-{version}"}
    if table is not None:
        payload["training_table"] = table
    with wh.session() as s:
        ledger.append(s, actor="system:test", environment="uat", event_type="model_trained",
                      subject=f"{model}/{version}", payload=payload, now=NOW)


def _candidate(wh: Warehouse, model: str, version: str, table: str, incident: str) -> None:
    with wh.session() as s:
        ledger.append(s, actor="system:drift-response", environment="uat",
                      event_type="candidate_trained", subject=incident, now=NOW,
                      payload={"model": model, "uat_version": version, "run_id": "run-cand",
                               "training_table": table, "dataset_digest": "digest-cand"})


def _promoted(wh: Warehouse, model: str, uat: str, prod: str, approval: str) -> None:
    with wh.session() as s:
        ledger.append(s, actor="system:promotion-job", environment="prod",
                      event_type="model_promoted", subject=model, now=NOW,
                      payload={"uat_version": uat, "prod_version": prod, "approval_id": approval,
                               "prod_run_id": f"prod-run-{prod}", "source_run_id": "src",
                               "model_digest": "md", "reason": "approved"})


def _lineage(wh: Warehouse, *edges: Edge) -> None:
    with wh.session() as s:
        lineage.record(s, edges, NOW)


@pytest.fixture
def demand(warehouse: Warehouse) -> Warehouse:
    """Two raw tables → a feature table → v1 and v2 training sets; v1 and v2 promoted."""
    _lineage(warehouse,
             _edge(SALES, FEATURES, ("price", "price"), ("units", "units")),
             _edge(STORES, FEATURES, ("region", "region")),
             _edge(FEATURES, TRAIN_V1, ("price", "price"), job="train"),
             _edge(FEATURES, TRAIN_V2, ("price", "price"), job="refresh"),
             _edge(LOG, TRAIN_V2, ("price", "price"), job="refresh"),
             _edge(LOG, HOLD_V2, ("price", "price"), job="refresh"))
    _trained(warehouse, "demand", "1", TRAIN_V1)
    _promoted(warehouse, "demand", "1", "1", "bootstrap-demand")
    _candidate(warehouse, "demand", "2", TRAIN_V2, "INC-demand-1")
    _promoted(warehouse, "demand", "2", "2", "APR-demand-1")
    return warehouse


def _graph(wh: Warehouse) -> LineageGraph:
    return lineage_graph.read_graph(wh)


def test_nodes_have_the_kind_of_their_place_in_the_flow(demand: Warehouse) -> None:
    """Raw, feature, training set, uat and prod model versions, from lineage and the ledger."""
    graph = _graph(demand)
    kinds = {n.id: n.kind for n in graph.nodes}
    assert {SALES: RAW, STORES: RAW, LOG: RAW, FEATURES: FEATURE, TRAIN_V1: TRAINING,
            TRAIN_V2: TRAINING, HOLD_V2: FEATURE, "demand v1 (uat)": MODEL_UAT,
            "demand v2 (uat)": MODEL_UAT, "demand v1 (prod)": MODEL_PROD,
            "demand v2 (prod)": MODEL_PROD} == kinds
    assert ("demand",) == graph.models
    assert () == graph.cycles


def test_edges_run_from_tables_to_training_to_uat_to_prod(demand: Warehouse) -> None:
    """Table lineage edges plus trained-on and promoted-to edges from the ledger."""
    graph = _graph(demand)
    relations = {(e.source, e.target): e.relation for e in graph.links}
    assert "writes" == relations[(SALES, FEATURES)]
    assert "writes" == relations[(FEATURES, TRAIN_V1)]
    assert "trained on" == relations[(TRAIN_V1, "demand v1 (uat)")]
    assert "trained on" == relations[(TRAIN_V2, "demand v2 (uat)")]
    assert "promoted to" == relations[("demand v2 (uat)", "demand v2 (prod)")]
    assert 10 == len(graph.links)
    assert {SALES, STORES, FEATURES, TRAIN_V1, "demand v1 (uat)"} == graph.upstream(
        "demand v1 (prod)")


def test_model_version_details_name_run_digest_approval_and_champion(demand: Warehouse) -> None:
    """The click panel's details: run id, dataset digest, approval id, champion-ness."""
    graph = _graph(demand)
    v2 = dict(graph.node("demand v2 (prod)").details)  # type: ignore[union-attr]
    assert "yes" == v2["champion"]
    assert "APR-demand-1" == v2["approval id"]
    assert "prod-run-2" == v2["prod run id"]
    assert "no" == dict(graph.node("demand v1 (prod)").details)["champion"]  # type: ignore[union-attr]
    uat = dict(graph.node("demand v2 (uat)").details)  # type: ignore[union-attr]
    assert ("run-cand", "digest-cand", TRAIN_V2, "INC-demand-1") == (
        uat["run id"], uat["dataset digest"], uat["training table"], uat["incident"])
    table = dict(graph.node(FEATURES).details)  # type: ignore[union-attr]
    assert "JOB pipeline" == table["written by"]
    assert "system:test" == table["created by"]


def test_holdout_of_a_response_is_an_evaluation_holdout(demand: Warehouse) -> None:
    """The drift response's holdout table (on its response row) is its own node kind."""
    with demand.session() as s:
        s.execute("response/start", {"incident_id": "INC-demand-1", "model_name": "demand",
                                     "champion_version": "1", "requested_by": "system:test",
                                     "lease_owner": "o", "lease_until": NOW, "now": NOW})
        s.execute("response/record_step", {
            "incident_id": "INC-demand-1", "step": "refresh_staged", "failed_step": None,
            "problems": "[]", "cutoff": None, "dataset_table": TRAIN_V2, "dataset_digest": "d",
            "dataset_rows": 1, "holdout_table": HOLD_V2, "holdout_digest": "h",
            "candidate_version": None, "candidate_run_id": None, "approval_id": None,
            "now": NOW})
    graph = _graph(demand)
    assert HOLDOUT == graph.node(HOLD_V2).kind  # type: ignore[union-attr]
    assert (HOLD_V2, "demand v2 (uat)", "evaluated on") in {
        (e.source, e.target, e.relation) for e in graph.links}


def test_complete_lineage_has_no_gaps(demand: Warehouse) -> None:
    """Every version reaches a raw table: the report is empty."""
    assert () == lineage_graph.completeness(_graph(demand))


def test_versions_without_upstream_lineage_are_reported(demand: Warehouse) -> None:
    """No training table recorded; a training table nothing wrote; the prod copy of each."""
    _trained(demand, "orphan", "1", None)
    _promoted(demand, "orphan", "1", "1", "bootstrap-orphan")
    _trained(demand, "bare", "3", "uat.training.bare_v3")
    _promoted(demand, "ghost", "7", "1", "bootstrap-ghost")  # uat v7 was never trained
    gaps = {g.node: g for g in lineage_graph.completeness(_graph(demand))}
    assert {"orphan v1 (uat)", "orphan v1 (prod)", "bare v3 (uat)", "ghost v7 (uat)",
            "ghost v1 (prod)"} == set(gaps)
    assert "no training table recorded" in gaps["orphan v1 (uat)"].reason
    assert gaps["orphan v1 (prod)"].reason.startswith("promoted from orphan v1 (uat)")
    assert "prod" == gaps["orphan v1 (prod)"].environment
    bare = gaps["bare v3 (uat)"]
    assert ("uat.training.bare_v3", "3") == (bare.training_table, bare.version)
    assert "has no upstream table lineage" in bare.reason


def _within(seconds: float, work: object) -> object:
    """Run ``work`` on a thread; fail (instead of hanging the suite) if it does not end."""
    out: list[object] = []
    thread = threading.Thread(target=lambda: out.append(work()), daemon=True)  # type: ignore[operator]
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "lineage walk did not terminate"
    return out[0]


def test_cycles_are_reported_and_never_loop(warehouse: Warehouse) -> None:
    """A → B → A above a training table, and a self-loop: reported, build ends, gap named."""
    a, b, t = "prod.features.a", "prod.features.b", "uat.training.cyc_v1"
    _lineage(warehouse, _edge(a, b, ("x", "x")), _edge(b, a, ("x", "x")),
             _edge(b, t, ("x", "x")), _edge(SALES, SALES), _edge(SALES, FEATURES))
    _trained(warehouse, "cyc", "1", t)
    graph = _within(10, lambda: _graph(warehouse))
    assert isinstance(graph, LineageGraph)
    assert [(a, b), (SALES,)] == [c.nodes for c in graph.cycles]
    assert (a, b, a) == graph.cycles[0].path
    assert f"{SALES} → {SALES}" == graph.cycles[1].describe()
    assert RAW == graph.node(SALES).kind  # type: ignore[union-attr]  # a self-loop is no writer
    (gap,) = lineage_graph.completeness(graph)
    assert "cyc v1 (uat)" == gap.node
    assert f"is a cycle ({a} → {b} → {a})" in gap.reason
    columns = _within(10, lambda: lineage_columns.read_column_lineage(warehouse, graph, "cyc",
                                                                      "x"))
    assert isinstance(columns, lineage_columns.ColumnLineage)
    assert [(f"{a}.x", f"{b}.x")] == [c.nodes for c in columns.cycles]
    positions = lineage_graph.layout(graph)
    assert positions[a].x == positions[b].x  # one cycle, one layer


def test_for_model_keeps_only_what_feeds_that_model(demand: Warehouse) -> None:
    """Another model's tables and versions drop out of the per-model view."""
    _lineage(demand, _edge("prod.retail.sessions", "uat.training.basket_v1"))
    _trained(demand, "basket", "1", "uat.training.basket_v1")
    graph = _graph(demand)
    assert ("basket", "demand") == graph.models
    only = lineage_graph.for_model(graph, "basket")
    assert {"prod.retail.sessions", "uat.training.basket_v1", "basket v1 (uat)"} == {
        n.id for n in only.nodes}
    assert 2 == len(only.links)


def test_column_lineage_of_one_feature(demand: Warehouse) -> None:
    """price: training sets ← feature table ← sales, and v2 also ← the inference log."""
    graph = _graph(demand)
    columns = lineage_columns.read_column_lineage(demand, graph, "demand", "price")
    assert {(f"{FEATURES}.price", f"{TRAIN_V1}.price"), (f"{FEATURES}.price", f"{TRAIN_V2}.price"),
            (f"{LOG}.price", f"{TRAIN_V2}.price"), (f"{SALES}.price", f"{FEATURES}.price")} == {
        (li.source, li.target) for li in columns.links}
    assert (f"{LOG}.price", f"{SALES}.price") == tuple(sorted(columns.raw_columns))
    assert "JOB pipeline" == next(li.entity for li in columns.links
                                  if li.target == f"{FEATURES}.price")
    assert lineage_columns.read_column_lineage(demand, graph, "demand", "nope").empty
    # Not a registered model: the features are the columns lineage records.
    assert ("price",) == lineage_columns.read_features(demand, graph, "demand")


def test_layout_is_layered_by_depth_and_deterministic(demand: Warehouse) -> None:
    """x = depth from the raw tables; the same store gives the same positions every time."""
    graph = _graph(demand)
    first, again = lineage_graph.layout(graph), lineage_graph.layout(_graph(demand))
    assert first == again
    assert {0.0} == {first[n].x for n in (SALES, STORES, LOG)}
    assert 1.0 == first[FEATURES].x
    assert 2.0 == first[TRAIN_V2].x
    assert (3.0, 4.0) == (first["demand v2 (uat)"].x, first["demand v2 (prod)"].x)
    assert len({(p.x, p.y) for p in first.values()}) == len(first)  # no two nodes overlap
    shuffled = lineage_graph.LineageGraph(tuple(reversed(graph.nodes)),
                                          tuple(reversed(graph.links)))
    assert first == lineage_graph.layout(shuffled)


def test_empty_store_gives_an_empty_graph(warehouse: Warehouse) -> None:
    """No lineage and no ledger entries: an empty graph, no gaps, nothing raised."""
    graph = _graph(warehouse)
    assert graph.empty
    assert () == lineage_graph.completeness(graph)
    assert {} == lineage_graph.layout(graph)


def test_long_chains_do_not_hit_the_recursion_limit() -> None:
    """Cycle search and layering are iterative: 5,000 tables in one chain plus a back edge."""
    chain = [(f"t{i}", f"t{i + 1}") for i in range(5_000)] + [("t5000", "t0")]
    (cycle,) = graphs.find_cycles([], chain)
    assert 5_001 == len(cycle.nodes)
    assert {0} == set(graphs.layers([], chain).values())
