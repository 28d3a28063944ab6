"""verify_pack cross-checks the context files against the hash-chained ledger entries.

Every test edits a fact the way a forger would: in the file *and* in the manifest's sha256
list (:func:`forge`), so the manifest check passes and only the cross-check can catch it. Facts
the ledger does not record still pass such an edit: the last tests pin that limit down, so it
stays visible (``docs/evidence.md``, "What it does not prove").
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from governance.evidence import layout
from governance.evidence.pack import EvidencePack
from governance.evidence.verify import verify_pack

from .conftest import Edit, assert_named, entry, lines, names, problems, read_pack, rezip


@pytest.fixture
def promoted(packs: dict[str, EvidencePack]) -> bytes:
    return packs["promoted"].data


def _approval(doc: Any) -> dict[str, Any]:
    return doc["approvals"][0]  # type: ignore[no-any-return]


def _role(doc: Any, role: str) -> dict[str, Any]:
    return next(r for r in doc["evaluations"] if r["role"] == role)


@pytest.mark.parametrize("which", ["promoted", "bootstrap", "incident"])
def test_untouched_packs_verify_even_when_rewritten(packs: dict[str, EvidencePack],
                                                    which: str) -> None:
    data = packs[which].data
    assert verify_pack(data).ok
    for name in (layout.APPROVALS, layout.EVALUATIONS, layout.DRIFT, layout.DATASETS,
                 layout.LINEAGE, layout.MLFLOW, layout.TIMELINE):
        assert problems(data, name, lambda doc: None) == (), name  # forge itself is neutral


def test_the_brief_example_word_for_word(promoted: bytes) -> None:
    decided = entry(promoted, "approval_decided")
    found = problems(promoted, layout.APPROVALS, lambda doc: _approval(doc).update(
        decided_by="user:mallory@retail.example"))
    assert found == (f"approvals.json: APR-basket_propensity-20261005 decided_by "
                     f"'user:mallory@retail.example' but ledger entry {decided['seq']} "
                     "(approval_decided) says 'user:alice@retail.example'",)


def _sig(doc: Any) -> dict[str, Any]:
    return _approval(doc)["signatures"][0]  # type: ignore[no-any-return]


@pytest.mark.parametrize(("edit", "field", "event_type"), [
    (lambda d: _approval(d).update(comment="looked fine to me"), "comment", "approval_decided"),
    (lambda d: _approval(d).update(state="rejected"), "state", "promotion_completed"),
    (lambda d: _approval(d).update(candidate_version="3"), "candidate_version",
     "approval_requested"),
    (lambda d: _approval(d).update(champion_version="0"), "champion_version",
     "approval_requested"),
    (lambda d: _approval(d).update(requested_by="user:bob@retail.example"), "requested_by",
     "approval_requested"),
    (lambda d: _approval(d)["detail"]["evaluation"]["candidate"]["metrics"].update(auc=0.99),
     "detail.evaluation.candidate.metrics.auc", "candidate_evaluated"),
    (lambda d: _approval(d)["detail"]["dataset"].update(dataset_digest="0" * 64),
     "detail.dataset.dataset_digest", "refresh_staged"),
    (lambda d: _sig(d).update(signer="user:mallory@retail.example"), "signer",
     "approval_decided"),
    (lambda d: _sig(d).update(decision="reject"), "decision", "approval_decided"),
    (lambda d: _sig(d).update(comment="rubber stamp"), "comment", "approval_decided"),
    (lambda d: _sig(d)["claims"].update(email="mallory@retail.example"), "claims.email",
     "approval_decided"),
    (lambda d: _sig(d)["claims"].update(groups=["model-approvers", "admins"]), "claims.groups",
     "approval_decided"),
])
def test_edited_approval_facts_are_named(promoted: bytes, edit: Edit, field: str,
                                         event_type: str) -> None:
    seq = entry(promoted, event_type)["seq"]
    assert_named(problems(promoted, layout.APPROVALS, edit), layout.APPROVALS, field, seq,
                 event_type)


def test_removed_or_misplaced_signatures_and_requests(promoted: bytes) -> None:
    decided = entry(promoted, "approval_decided")
    found = problems(promoted, layout.APPROVALS, lambda d: _approval(d)["signatures"].clear())
    assert found == (f"approvals.json: APR-basket_propensity-20261005 has no signature for "
                     f"ledger entry {decided['seq']} (approval_decided)",)
    found = problems(promoted, layout.APPROVALS, lambda d: _sig(d).update(ledger_seq=3))
    assert "names ledger entry 3, which is no signature" in found[0]
    requested = entry(promoted, "approval_requested")
    found = problems(promoted, layout.APPROVALS, lambda d: d["approvals"].clear())
    assert found == ("approvals.json: has no request APR-basket_propensity-20261005, which "
                     f"ledger entry {requested['seq']} (approval_requested) records",)


def test_a_pending_request_may_not_claim_a_decision(packs: dict[str, EvidencePack]) -> None:
    data = packs["incident"].data
    requested = entry(data, "approval_requested")
    found = problems(data, layout.APPROVALS, lambda d: _approval(d).update(
        state="approved", decided_by="user:mallory@retail.example"))
    assert found == tuple(
        f"approvals.json: APR-demand_forecast-20261005 {key} {value!r} but the ledger records "
        f"no decision (request: ledger entry {requested['seq']} (approval_requested))"
        for key, value in (("state", "approved"), ("decided_by", "user:mallory@retail.example")))


@pytest.mark.parametrize(("edit", "field", "event_type"), [
    (lambda d: _role(d, "candidate")["metrics"].update(auc=0.99), "metrics.auc",
     "candidate_evaluated"),
    (lambda d: _role(d, "champion")["metrics"].update(auc=0.5), "metrics.auc",
     "candidate_evaluated"),
    (lambda d: _role(d, "champion").update(harness="lenient-harness"), "harness",
     "candidate_evaluated"),
    (lambda d: _role(d, "candidate").update(holdout_digest="0" * 64), "holdout_digest",
     "candidate_evaluated"),
    (lambda d: _role(d, "candidate").update(model_version="9"), "model_version",
     "candidate_evaluated"),
    (lambda d: _role(d, "candidate").update(mlflow_run_id="f" * 32), "mlflow_run_id",
     "candidate_trained"),
])
def test_edited_evaluation_facts_are_named(promoted: bytes, edit: Edit, field: str,
                                           event_type: str) -> None:
    seq = entry(promoted, event_type)["seq"]
    assert_named(problems(promoted, layout.EVALUATIONS, edit), layout.EVALUATIONS, field, seq,
                 event_type)


@pytest.mark.parametrize(("edit", "field", "event_type"), [
    (lambda d: d["training"].update(digest="0" * 64), "digest", "refresh_staged"),
    (lambda d: d["holdout"].update(table="uat.evaluation.easy"), "table", "refresh_staged"),
    (lambda d: d.update(cutoff="2026-12-31"), "cutoff", "refresh_staged"),
    (lambda d: d.update(sources=["prod.features.other"]), "sources", "refresh_staged"),
    (lambda d: d["observations"][2].update(digest="0" * 64), "digest", "candidate_trained"),
])
def test_edited_dataset_facts_are_named(promoted: bytes, edit: Edit, field: str,
                                        event_type: str) -> None:
    seq = entry(promoted, event_type)["seq"]
    assert_named(problems(promoted, layout.DATASETS, edit), layout.DATASETS, field, seq,
                 event_type)


def test_bootstrap_digest_is_the_training_entrys(packs: dict[str, EvidencePack]) -> None:
    data = packs["bootstrap"].data
    trained = entry(data, "model_trained")
    found = problems(data, layout.DATASETS, lambda d: d["training"].update(digest="0" * 64))
    assert_named(found, layout.DATASETS, "digest", trained["seq"], "model_trained")


def _window(doc: Any, index: int = 0) -> dict[str, Any]:
    return doc["windows"][index]  # type: ignore[no-any-return]


@pytest.mark.parametrize("which", ["promoted", "incident"])
@pytest.mark.parametrize(("edit", "field"), [
    (lambda d: _window(d).update(verdict="ok"), "verdict"),
    (lambda d: _window(d).update(score=0.01), "score"),
    (lambda d: _window(d).update(drifted_features=["region"]), "drifted_features"),
    (lambda d: d["incident"].update(score=0.2), "score"),
    (lambda d: d["incident"].update(first_window="2026-10-12"), "first_window"),
])
def test_edited_drift_facts_are_named(packs: dict[str, EvidencePack], which: str, edit: Edit,
                                      field: str) -> None:
    data = packs[which].data
    found = problems(data, layout.DRIFT, edit)
    detected = [e["seq"] for e in lines(read_pack(data)[layout.ENTRIES])
                if e["type"] == "drift_detected"]
    assert found
    assert any(names(p, layout.DRIFT, field, seq, "drift_detected")
               for p in found for seq in detected), found


def test_a_removed_drift_window_is_named(promoted: bytes) -> None:
    first = next(e for e in lines(read_pack(promoted)[layout.ENTRIES])
                 if e["type"] == "drift_detected")
    found = problems(promoted, layout.DRIFT, lambda d: d["windows"].pop(0))
    start, end = first["payload"]["window"]  # type: ignore[index]
    assert found == (f"drift.json: has no window {start}–{end}, which ledger entry "
                     f"{first['seq']} (drift_detected) records",)


@pytest.mark.parametrize(("key", "value"), [
    ("actor", "user:mallory@retail.example"), ("time", "2020-01-01T00:00:00.000000Z"),
    ("type", "approval_decided"), ("environment", "uat"),
])
def test_edited_timeline_step_is_named(promoted: bytes, key: str, value: str) -> None:
    first = lines(read_pack(promoted)[layout.ENTRIES])[0]
    found = problems(promoted, layout.TIMELINE, lambda d: d[0].update({key: value}))
    assert found == (f"timeline.json: step seq {first['seq']} {key} {value!r} but ledger entry "
                     f"{first['seq']} ({first['type']}) says {first[key]!r}",)


def test_a_dropped_timeline_step_is_named(promoted: bytes) -> None:
    first = lines(read_pack(promoted)[layout.ENTRIES])[0]
    found = problems(promoted, layout.TIMELINE, lambda d: d.pop(0))
    assert found == (f"timeline.json: has no step for ledger entry {first['seq']} "
                     f"({first['type']})",)


def test_runs_the_ledger_names_must_be_listed(promoted: bytes) -> None:
    promoted_entry = entry(promoted, "model_promoted")
    prod_run = promoted_entry["payload"]["prod_run_id"]
    found = problems(promoted, layout.MLFLOW, lambda d: d.update(
        runs=[r for r in d["runs"] if r["run_id"] != prod_run]))
    assert found == (f"mlflow.json: run {prod_run} (payload.prod_run_id of ledger entry "
                     f"{promoted_entry['seq']} (model_promoted)) is in neither runs nor "
                     "missing_runs",)


def test_lineage_must_start_at_the_ledgers_tables(promoted: bytes) -> None:
    staged = entry(promoted, "refresh_staged")
    table = staged["payload"]["dataset_table"]
    found = problems(promoted, layout.LINEAGE, lambda d: d["roots"].remove(table))
    assert found == (f"lineage.json: roots do not include the training table {table!r} that "
                     f"ledger entry {staged['seq']} (refresh_staged) names",)


@pytest.mark.parametrize(("name", "edit"), [
    (layout.LINEAGE, lambda d: d["columns"][0].update(source_column="made_up")),
    (layout.LINEAGE, lambda d: d["tables"].clear()),
    (layout.MLFLOW, lambda d: d["runs"][0].update(status="FAILED")),
    (layout.MLFLOW, lambda d: d["missing_runs"].append(d["runs"].pop(0))),
    (layout.DRIFT, lambda d: d["results"][0].update(score=0.0, status="ok")),
    (layout.APPROVALS, lambda d: _approval(d).update(requested_at="2020-01-01T00:00:00Z")),
    (layout.EVALUATIONS, lambda d: _role(d, "candidate").update(evaluated_at="2020-01-01")),
    (layout.TIMELINE, lambda d: d[0].update(summary="nothing to see")),
])
def test_documented_limit_facts_the_ledger_does_not_record_pass(promoted: bytes, name: str,
                                                                edit: Edit) -> None:
    """NOT proven, on purpose visible: a forger who rewrites such a fact and the manifest
    passes; only the published head (and a second pack or the store) can tell."""
    assert problems(promoted, name, edit) == ()


def test_garbage_entries_are_problems_not_crashes(promoted: bytes) -> None:
    files = read_pack(promoted)
    garbage = b"".join(json.dumps({**e, "payload": [1], "subject": 7}).encode() + b"\n"
                       for e in lines(files[layout.ENTRIES]))
    result = verify_pack(rezip({**files, layout.ENTRIES: garbage, layout.CHAIN: garbage},
                               rehash=True))
    assert not result.ok
    assert any(p.startswith(f"{layout.CHAIN}: entry ") for p in result.problems)


def test_timeline_time_is_compared_as_an_instant(promoted: bytes) -> None:
    """Export writes whole seconds without a fraction, the entry always with six digits."""
    first = lines(read_pack(promoted)[layout.ENTRIES])[0]
    same = str(first["time"]).replace("Z", "+00:00")
    assert problems(promoted, layout.TIMELINE, lambda d: d[0].update(time=same)) == ()
