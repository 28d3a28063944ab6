"""Export: what a pack holds for a promoted version, a bootstrap version and an incident, and
how export refuses a tampered store or survives missing runs and lineage cycles."""

from __future__ import annotations

import json

import pytest

from governance import ledger
from governance.errors import DataError, LedgerError
from governance.evidence import layout, summary
from governance.evidence.pack import EvidencePack, export_incident, export_version
from governance.evidence.verify import verify_pack
from governance.settings import Settings
from governance.warehouse import Warehouse, open_warehouse

from .conftest import BASKET_INCIDENT, DEMAND_INCIDENT, EXPORTER, doc, lines, read_pack, run_sql


def _seqs_of(settings: Settings, event_type: str, subject: str) -> list[int]:
    with open_warehouse(settings).session() as session:
        return [e.seq for e in ledger.entries(session, event_type=event_type)
                if e.subject == subject]


@pytest.mark.parametrize("which", ["promoted", "bootstrap", "incident"])
def test_every_pack_verifies_and_holds_every_file(packs: dict[str, EvidencePack],
                                                  which: str) -> None:
    pack = packs[which]
    result = verify_pack(pack.data)
    assert result.ok, result.problems
    assert (result.entries, result.head_seq, result.head_hash) == (
        pack.entries, pack.head_seq, pack.head_hash)
    assert set(read_pack(pack.data)) == {*layout.FILES, layout.MANIFEST}
    manifest = doc(pack.data, layout.MANIFEST)
    assert isinstance(manifest, dict)
    assert manifest["exported_by"] == EXPORTER
    assert manifest["exported_at"].endswith("Z")
    assert manifest["format"] == layout.FORMAT


def test_pack_names(packs: dict[str, EvidencePack]) -> None:
    assert packs["promoted"].filename == "evidence-basket_propensity-v2.zip"
    assert packs["incident"].filename == f"evidence-{DEMAND_INCIDENT}.zip"


def test_promoted_version_tells_the_whole_story(packs: dict[str, EvidencePack],
                                               demo_settings: Settings) -> None:
    data = packs["promoted"].data
    timeline = doc(data, layout.TIMELINE)
    assert isinstance(timeline, list)
    steps = [t["type"] for t in timeline]
    for step in ("drift_detected", "refresh_staged", "candidate_trained", "candidate_evaluated",
                 "approval_requested", "approval_decided", "promotion_started",
                 "model_promoted"):
        assert step in steps
    approvals = doc(data, layout.APPROVALS)["approvals"]  # type: ignore[index]
    (approval,) = approvals
    assert approval["state"] == "promoted"
    (signature,) = approval["signatures"]
    assert signature["claims"]["email"] == "alice@retail.example"
    assert signature["claims"]["iss"]
    assert signature["claims"]["sub"]
    roles = {e["role"]: e for e in doc(data, layout.EVALUATIONS)["evaluations"]}  # type: ignore[index]
    assert set(roles) == {"champion", "candidate"}
    assert roles["candidate"]["metrics"]["auc"] > 0
    assert roles["champion"]["holdout_digest"] == roles["candidate"]["holdout_digest"]
    drift = doc(data, layout.DRIFT)
    assert isinstance(drift, dict)
    assert drift["incident"]["incident_id"] == BASKET_INCIDENT
    assert drift["windows"]
    assert all(w["model_version"] == "1" for w in drift["windows"])
    assert {w["verdict"] for w in drift["windows"]} == {"drift"}
    assert drift["results"]
    # The digests are the hash-chained ones: the refresh entry of the ledger names them.
    (staged,) = [e for e in lines(read_pack(data)[layout.ENTRIES])
                 if e["type"] == "refresh_staged"]
    sets = doc(data, layout.DATASETS)
    assert isinstance(sets, dict)
    assert isinstance(staged["payload"], dict)
    assert sets["training"]["digest"] == staged["payload"]["dataset_digest"]
    assert sets["holdout"]["digest"] == staged["payload"]["holdout_digest"]
    assert sets["disagreements"] == []
    walk = doc(data, layout.LINEAGE)
    assert isinstance(walk, dict)
    assert "prod.retail.customer_sessions" in walk["raw_tables"]
    assert walk["cycles"] == []
    assert walk["no_lineage"] == []
    assert walk["columns"]
    runs = doc(data, layout.MLFLOW)
    assert isinstance(runs, dict)
    assert runs["missing_runs"] == []
    assert len(runs["runs"]) >= 3
    page = read_pack(data)[layout.SUMMARY].decode()
    assert "alice@retail.example" in page
    assert packs["promoted"].head_hash in page


def test_entries_are_verbatim_and_the_chain_reaches_the_head(
        packs: dict[str, EvidencePack], demo_settings: Settings) -> None:
    files = read_pack(packs["promoted"].data)
    proof = json.loads(files[layout.PROOF])
    with open_warehouse(demo_settings).session() as session:
        stored = {e.seq: e for e in ledger.entries(session)}
    for line in files[layout.ENTRIES].decode().splitlines():
        entry = json.loads(line)
        assert entry == stored[entry["seq"]].to_json()
    assert proof["anchor_hash"] == stored[proof["anchor_seq"]].hash
    assert proof["head_seq"] == max(stored)
    assert proof["head_hash"] == stored[max(stored)].hash
    chain = lines(files[layout.CHAIN])
    assert [e["seq"] for e in chain] == list(range(proof["anchor_seq"] + 1, max(stored) + 1))


def test_bootstrap_version_names_its_training_data(packs: dict[str, EvidencePack]) -> None:
    data = packs["bootstrap"].data
    types = [e["type"] for e in lines(read_pack(data)[layout.ENTRIES])]
    assert types == ["model_trained", "model_promoted"]
    sets = doc(data, layout.DATASETS)
    assert isinstance(sets, dict)
    assert sets["training"]["table"] == "uat.training.basket_propensity_v1"
    assert len(sets["training"]["digest"]) == 64
    assert sets["holdout"] is None
    assert doc(data, layout.APPROVALS)["approvals"] == []  # type: ignore[index]
    assert doc(data, layout.DRIFT)["incident"] is None  # type: ignore[index]
    assert "prod.retail.customer_sessions" in doc(data, layout.LINEAGE)["raw_tables"]  # type: ignore[index]


def test_incident_pack_of_a_pending_request(packs: dict[str, EvidencePack]) -> None:
    data = packs["incident"].data
    manifest = doc(data, layout.MANIFEST)
    assert isinstance(manifest, dict)
    assert manifest["kind"] == "incident"
    assert manifest["version"] is None
    (approval,) = doc(data, layout.APPROVALS)["approvals"]  # type: ignore[index]
    assert approval["state"] == "pending"
    assert approval["signatures"] == []
    assert len(doc(data, layout.EVALUATIONS)["evaluations"]) == 2  # type: ignore[index]


def test_unknown_subjects_are_data_errors(demo_settings: Settings) -> None:
    warehouse = open_warehouse(demo_settings)
    with pytest.raises(DataError, match="nope v2"):
        export_version(warehouse, "nope", "2", exported_by=EXPORTER)
    with pytest.raises(DataError, match="basket_propensity v9"):
        export_version(warehouse, "basket_propensity", "9", exported_by=EXPORTER)
    with pytest.raises(DataError, match="INC-nope"):
        export_incident(warehouse, "INC-nope", exported_by=EXPORTER)


def test_a_tampered_store_is_refused_naming_the_entry(store: Warehouse,
                                                      demo_settings: Settings) -> None:
    (seq,) = _seqs_of(demo_settings, "candidate_evaluated", BASKET_INCIDENT)
    run_sql(store, "UPDATE governance.ledger SET payload = replace(payload, '\"auc\"', "
            "'\"AUC\"') WHERE seq = ?", [seq])
    with pytest.raises(LedgerError, match=f"broken at entry {seq}") as caught:
        export_version(store, "basket_propensity", "2", exported_by=EXPORTER)
    assert "refusing to export" in str(caught.value)
    # Any pack from this store is refused, even one whose story is elsewhere in the chain.
    with pytest.raises(LedgerError, match=f"entry {seq}"):
        export_version(store, "demand_forecast", "1", exported_by=EXPORTER)


def test_a_deleted_row_is_refused(store: Warehouse) -> None:
    run_sql(store, "DELETE FROM governance.ledger WHERE seq = 5")
    with pytest.raises(LedgerError, match="entry 5"):
        export_incident(store, DEMAND_INCIDENT, exported_by=EXPORTER)


def test_a_missing_mlflow_run_is_listed_not_a_crash(store: Warehouse,
                                                    packs: dict[str, EvidencePack]) -> None:
    candidate = doc(packs["promoted"].data, layout.EVALUATIONS)["evaluations"]  # type: ignore[index]
    run_id = next(e["mlflow_run_id"] for e in candidate if e["role"] == "candidate")
    run_sql(store, "DELETE FROM mlflow.runs_latest WHERE run_id = ?", [run_id])
    pack = export_version(store, "basket_propensity", "2", exported_by=EXPORTER)
    runs = doc(pack.data, layout.MLFLOW)
    assert isinstance(runs, dict)
    (missing,) = runs["missing_runs"]
    assert missing["run_id"] == run_id
    assert any("candidate_trained" not in w and "ledger seq" in w
               for w in missing["referenced_by"])
    assert run_id not in {r["run_id"] for r in runs["runs"]}
    assert verify_pack(pack.data).ok
    assert f"Run {run_id} is referenced" in read_pack(pack.data)[layout.SUMMARY].decode()


def test_a_lineage_cycle_is_noted_not_followed(store: Warehouse) -> None:
    edge = ("INSERT INTO lineage.table_lineage (source_table_full_name, target_table_full_name, "
            "entity_type, entity_id, event_time) VALUES (?, ?, 'JOB', 'loop', now())")
    # features <- sessions <- features, and a table written from itself.
    run_sql(store, edge, ["prod.features.basket_propensity_features",
                          "prod.retail.customer_sessions"])
    run_sql(store, edge, ["prod.retail.customer_sessions", "prod.retail.customer_sessions"])
    pack = export_version(store, "basket_propensity", "2", exported_by=EXPORTER)
    walk = doc(pack.data, layout.LINEAGE)
    assert isinstance(walk, dict)
    cycles = {tuple(c) for c in walk["cycles"]}
    assert ("prod.features.basket_propensity_features", "prod.retail.customer_sessions",
            "prod.features.basket_propensity_features") in cycles
    assert ("prod.retail.customer_sessions", "prod.retail.customer_sessions") in cycles
    assert "Lineage cycle" in read_pack(pack.data)[layout.SUMMARY].decode()
    assert verify_pack(pack.data).ok


def test_summary_escapes_user_text(packs: dict[str, EvidencePack]) -> None:
    files = read_pack(packs["promoted"].data)
    manifest = json.loads(files[layout.MANIFEST])
    docs = {n: json.loads(files[n]) for n in (layout.TIMELINE, layout.APPROVALS,
                                                layout.EVALUATIONS, layout.DRIFT,
                                                layout.DATASETS, layout.LINEAGE,
                                                layout.MLFLOW, layout.PROOF)}
    evil = "<script>alert('x')</script>"
    docs[layout.APPROVALS]["approvals"][0]["comment"] = evil
    docs[layout.TIMELINE][0]["actor"] = evil
    manifest["exported_by"] = evil
    page = summary.render(manifest, docs, "pack.zip").decode()
    assert "<script" not in page
    assert "&lt;script&gt;" in page
