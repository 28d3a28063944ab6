"""The large demo's synthetic history, at a reduced size: chain, shapes, rules, determinism.

The full million-entry workspace is built by hand (see docs/benchmarks.md), never here.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import duckdb
import pytest

from governance import envguard, ledger, schema
from governance.demo import large
from governance.demo.large_write import Events, write_chain
from governance.settings import Settings, load_settings
from governance.warehouse import Warehouse, open_warehouse

SPEC = large.LargeSpec(models=12, ledger_entries=20_000, drift_results=6_000, without_lineage=2)


@pytest.fixture(scope="module")
def history() -> large.History:
    """A small synthetic history."""
    return large.generate(42, SPEC)


@pytest.fixture(scope="module")
def written(history: large.History, tmp_path_factory: pytest.TempPathFactory) -> Warehouse:
    """A workspace holding only the small history."""
    home = tmp_path_factory.mktemp("large") / "home"
    wh = open_warehouse(load_settings({"GOV_HOME": str(home)}, {}), create=True)
    with envguard.prod_writes("governance.demo.seed", "test of the large demo"), \
            wh.session() as session:
        schema.ensure_schema(session)
        session.execute("demo/prod_schemas")
        large.write(session, history)
    return wh


def _con(wh: Warehouse) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(wh.path), read_only=True)  # type: ignore[attr-defined]


def test_the_history_is_one_valid_chain_in_time_order(written: Warehouse) -> None:
    """Every entry chains to the previous one, and time never goes back with seq."""
    with written.session() as session:
        check = ledger.verify(session)
    assert check.intact, check.summary()
    assert SPEC.ledger_entries == check.entries
    con = _con(written)
    try:
        backwards = con.execute(
            "SELECT count(*) FROM (SELECT event_time < lag(event_time) OVER (ORDER BY seq) b "
            "FROM governance.ledger) WHERE b").fetchone()
        last = con.execute("SELECT max(event_time) FROM governance.ledger").fetchone()
    finally:
        con.close()
    assert (0,) == backwards
    assert last is not None
    assert last[0] < large.HISTORY_END


def test_fast_hashing_matches_ledger_entry_hash(tmp_path: Path) -> None:
    """The chain written in bulk is byte for byte what ledger.append would write."""
    events = Events()
    first = events.add(large.HISTORY_END, "user:ä@x", "uat", "thing_done", "m/1",
                       {"b": [1, 2.5, None], "a": "ü", "n": {"z": 1, "y": True}})
    events.add(large.HISTORY_END, "system:x", "prod", "thing_checked", "m/1",
               {"of": large.large_write.Ref("hash", first),
                "seq": large.large_write.Ref("seq", first)})
    wh = open_warehouse(load_settings({"GOV_HOME": str(tmp_path)}, {}), create=True)
    with wh.session() as session:
        schema.ensure_schema(session)
        chain = write_chain(session, events)
        stored = list(ledger.entries(session))
    assert [1, 2] == [e.seq for e in stored]
    prev = ledger.GENESIS
    for entry in stored:
        assert entry.hash == ledger.entry_hash(prev, entry.body())
        prev = entry.hash
    assert {"of": stored[0].hash, "seq": 1} == stored[1].payload
    assert chain.head == stored[-1].hash


def _keys_by_type(entries: list[ledger.LedgerEntry]) -> dict[str, set[frozenset[str]]]:
    out: dict[str, set[frozenset[str]]] = defaultdict(set)
    for e in entries:
        out[e.type].add(frozenset(e.payload))
    return out


def test_payloads_have_the_keys_the_real_demo_writes(written: Warehouse,
                                                      demo_settings: Settings) -> None:
    """Per event type, the synthetic payload keys are a shape the real code writes."""
    real_wh = open_warehouse(demo_settings)
    with real_wh.session() as session:
        real = _keys_by_type(list(ledger.entries(session)))
    with written.session() as session:
        synthetic = _keys_by_type(list(ledger.entries(session, limit=10**7)))
    # Signed-but-not-final and failed promotions are not in the small demo: their keys come
    # from the code that writes them (approvals._sign, promotion_job).
    real["approval_signed"] = real["approval_decided"]
    real["promotion_failed"] = {frozenset({"approval_id", "model", "error"})}
    for event_type, shapes in synthetic.items():
        assert shapes <= real[event_type], event_type
    assert {"drift_detected", "model_promoted", "approval_decided", "candidate_evaluated",
            "refresh_staged", "candidate_trained", "approval_requested", "promotion_started",
            "promotion_completed", "model_trained"} <= set(synthetic)


def _rows(wh: Warehouse, sql: str) -> list[dict[str, Any]]:
    con = _con(wh)
    try:
        cur = con.execute(sql)
        names = [d[0] for d in cur.description or ()]
        return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    finally:
        con.close()


def test_table_documents_match_the_real_shapes(written: Warehouse,
                                               demo_settings: Settings) -> None:
    """approvals.detail, drift tests, claims and run tags use the real keys."""
    real_wh = open_warehouse(demo_settings)
    queries = {
        "detail": "SELECT detail AS d FROM governance.approvals WHERE state = 'promoted'",
        "claims": "SELECT claims AS d FROM governance.approval_signatures",
        "numeric": "SELECT tests AS d FROM governance.drift_results "
                   "WHERE feature_type = 'numeric' AND status <> 'insufficient_data'",
        "categorical": "SELECT tests AS d FROM governance.drift_results "
                       "WHERE feature_type = 'categorical' AND status <> 'insufficient_data'",
    }
    for what, sql in queries.items():
        real = {frozenset(json.loads(r["d"])) for r in _rows(real_wh, sql)}
        synthetic = {frozenset(json.loads(r["d"])) for r in _rows(written, sql)}
        assert synthetic, what
        assert synthetic <= real, what
    tags = "SELECT DISTINCT map_keys(tags) AS k FROM mlflow.runs_latest"
    real_tags = {frozenset(r["k"]) - {"mlflow.user"} for r in _rows(real_wh, tags)}
    for row in _rows(written, tags):
        assert frozenset(row["k"]) - {"mlflow.user"} in real_tags


def test_separation_of_duties_in_every_approval(written: Warehouse) -> None:
    """No signer is the requester or the candidate run's author; four eyes are two people."""
    rows = _rows(written, """
        SELECT a.approval_id, a.requested_by, s.signer, r.created_by AS author
        FROM governance.approvals a
        JOIN governance.approval_signatures s USING (approval_id)
        JOIN mlflow.runs_latest r ON r.run_id = json_extract_string(a.detail,
                                                                    '$.candidate.run_id')""")
    assert rows
    signers: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        assert row["signer"] != row["requested_by"]
        assert row["signer"] != row["author"]
        signers[row["approval_id"]].append(row["signer"])
    assert all(len(set(s)) == len(s) for s in signers.values())
    assert any(r["requested_by"].startswith("user:") for r in rows)


def test_prod_versions_increase_per_model(written: Warehouse) -> None:
    """Each model's promotions number its prod versions 1, 2, 3, ... in ledger order."""
    with written.session() as session:
        promoted = list(ledger.entries(session, event_type="model_promoted"))
    by_model: dict[str, list[int]] = defaultdict(list)
    for entry in promoted:
        by_model[entry.subject].append(int(entry.payload["prod_version"]))
    assert len(by_model) == SPEC.models
    for versions in by_model.values():
        assert versions == list(range(1, len(versions) + 1))


def test_the_mix_of_outcomes_is_there(written: Warehouse) -> None:
    """Promoted, rejected (with a comment) and pending requests, failed then retried runs."""
    states = {r["state"]: r["n"] for r in _rows(
        written, "SELECT state, count(*) n FROM governance.approvals GROUP BY state")}
    assert {"promoted", "rejected"} <= set(states)
    assert not _rows(written, "SELECT 1 FROM governance.approvals "
                              "WHERE state = 'rejected' AND coalesce(comment, '') = ''")
    failed = _rows(written, "SELECT subject FROM governance.ledger "
                            "WHERE event_type = 'promotion_failed'")
    retried = _rows(written, "SELECT subject FROM governance.ledger WHERE event_type = "
                             "'promotion_completed'")
    assert {r["subject"] for r in failed} & {r["subject"] for r in retried} or not failed


def test_some_models_have_no_lineage(written: Warehouse, history: large.History) -> None:
    """The completeness report has models with no upstream lineage to show."""
    without = {m.name for m in history.models if not m.has_lineage}
    assert len(without) == SPEC.without_lineage
    traced = {r["t"].split(".")[-1].split("_v")[0] for r in _rows(
        written, "SELECT DISTINCT target_table_full_name t FROM lineage.table_lineage "
                 "WHERE target_table_schema = 'training'")}
    assert not without & traced
    assert traced


def test_the_same_seed_gives_the_same_history(history: large.History) -> None:
    """Deterministic from the seed: same entries, same rows."""
    again = large.generate(42, SPEC)
    assert history.events == again.events
    assert history.tables == again.tables
    assert large.generate(7, SPEC).events != history.events


def test_mirror_resync_keeps_the_history_runs(written: Warehouse) -> None:
    """Re-mirroring an environment drops only runs the mirror itself copied."""
    with written.session() as session:
        before = session.fetch_rows("mlflow/run_count")
        session.execute("mlflow/forget_runs", {"workspace_id": "uat"})
        assert before == session.fetch_rows("mlflow/run_count")
