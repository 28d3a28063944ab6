"""Cross-check a pack's context files against the hash-chained ledger entries it carries.

The manifest's sha256 list only says the files were not changed *after* it was written; anyone
rewriting a pack recomputes it. The ledger entries are different: they chain to the head hash.
So every fact a context file shares with an entry (who decided, what was signed, the metrics,
the digests, the drift verdicts, the run ids) must equal the entry, and a mismatch names the
file, the record, the field and the entry's seq. Facts no entry records (lineage rows, MLflow
run details, store timestamps) stay covered by the manifest and the published head only; the
list is in ``docs/evidence.md``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from governance.evidence import layout
from governance.evidence.crossdrift import check_drift
from governance.evidence.crossrefs import (
    Ledger,
    Problems,
    dataset_claims,
    obj,
    records,
    run_references,
)

_RECORDED_BY = re.compile(r"^ledger seq (\d+) \((\w+)\)$")
_APPROVED_STATES = frozenset({"approved", "promoting", "promoted", "promotion_failed"})
_SIGNING = ("approval_signed", "approval_decided")


def check(docs: Mapping[str, Any], entries: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every disagreement between the context files and the ledger entries.

    Args:
        docs: Parsed context files by pack name (``None`` when missing or unreadable, which the
            caller already reported).
        entries: The story's ledger entries (``ledger show --format json`` objects), oldest
            first, as the hash chain proves them.

    Returns:
        One problem per disagreement, e.g. ``approvals.json: APR-x decided_by 'user:m' but
        ledger entry 24 (approval_decided) says 'user:alice@retail.example'``.
    """
    # A forged entry line may hold any JSON: what is not entry-shaped proves nothing here (the
    # chain check has reported it), and must not crash the check.
    ledger = Ledger([e for e in entries if isinstance(e.get("payload"), dict)
                     and all(isinstance(e.get(k), str) for k in ("type", "subject", "actor"))])
    out = Problems()
    _approvals(docs.get(layout.APPROVALS), ledger, out)
    _evaluations(docs.get(layout.EVALUATIONS), ledger, out)
    _datasets(docs.get(layout.DATASETS), ledger, out)
    check_drift(docs.get(layout.DRIFT), ledger, out)
    _timeline(docs.get(layout.TIMELINE), ledger, out)
    _runs(docs.get(layout.MLFLOW), ledger, out)
    _lineage(docs.get(layout.LINEAGE), ledger, out)
    return out.found


def _approvals(doc: Any, ledger: Ledger, out: Problems) -> None:
    if not isinstance(doc, dict):
        return  # missing or unreadable: already a problem, not one per request
    rows = records(doc, "approvals")
    named = {r.get("approval_id") for r in rows}
    for asked in ledger.of_type("approval_requested"):
        if asked["payload"].get("approval_id") not in named:
            out.add(f"{layout.APPROVALS}: has no request {asked['payload'].get('approval_id')}"
                    f", which {Ledger.name(asked)} records")
    for row in rows:
        approval_id = row.get("approval_id")
        request = ledger.latest("approval_requested", approval_id=approval_id)
        if request is None:
            out.add(f"{layout.APPROVALS}: {approval_id} is not requested by any ledger entry "
                    "of the pack")
            continue
        _request(row, request, ledger, out)
        _decision(row, request, ledger, out)
        _signatures(row, ledger, out)


def _request(row: Mapping[str, Any], request: Mapping[str, Any], ledger: Ledger,
             out: Problems) -> None:
    p, cmp = request["payload"], out.against(layout.APPROVALS, str(row.get("approval_id")))
    cmp("model_name", row.get("model_name"), request, p.get("model"))
    cmp("candidate_version", row.get("candidate_version"), request, p.get("candidate_version"))
    champion = p.get("champion_version", p.get("from_prod_version"))  # a rollback's champion
    if champion is not None:
        cmp("champion_version", row.get("champion_version"), request, champion)
    cmp("requested_by", row.get("requested_by"), request, p.get("requested_by",
                                                                request["actor"]))
    if request["subject"] != row.get("approval_id"):  # a drift response files it under its incident
        cmp("incident_id", row.get("incident_id"), request, request["subject"])
    detail = obj(row.get("detail"))
    candidate = obj(detail.get("candidate"))
    if "candidate_run_id" in p:
        cmp("detail.candidate.run_id", candidate.get("run_id"), request, p["candidate_run_id"])
    # The request pinned the evaluation and refresh entries by seq: its copies must be them.
    pinned = obj(detail.get("ledger"))
    evaluated = ledger.at(pinned.get("candidate_evaluated"), "candidate_evaluated")
    if evaluated is not None:
        cmp("detail.evaluation", detail.get("evaluation"), evaluated, evaluated["payload"])
        cmp("detail.candidate.model_digest", candidate.get("model_digest"), evaluated,
            obj(evaluated["payload"].get("candidate")).get("model_digest"))
    staged = ledger.at(pinned.get("refresh_staged"), "refresh_staged")
    dataset = obj(detail.get("dataset"))
    if staged is not None:
        for key in sorted(set(dataset) & set(staged["payload"])):
            cmp(f"detail.dataset.{key}", dataset[key], staged, staged["payload"][key])


def _decision(row: Mapping[str, Any], request: Mapping[str, Any], ledger: Ledger,
              out: Problems) -> None:
    approval_id = str(row.get("approval_id"))
    decided = ledger.latest("approval_decided", approval_id=approval_id)
    cmp = out.against(layout.APPROVALS, approval_id)
    if decided is None:
        # Undecided in the ledger: the row may not claim a decision.
        for key, pending in (("state", "pending"), ("decided_by", None)):
            if row.get(key) != pending:
                out.add(f"{layout.APPROVALS}: {approval_id} {key} {row.get(key)!r} but the "
                        f"ledger records no decision (request: {Ledger.name(request)})")
        return
    p = decided["payload"]
    cmp("decided_by", row.get("decided_by"), decided, decided["actor"])
    cmp("comment", row.get("comment"), decided, p.get("comment") or None)
    completed = ledger.latest("promotion_completed", approval_id=approval_id)
    if completed is not None:
        cmp("state", row.get("state"), completed, "promoted")
    elif p.get("state") == "approved":
        if row.get("state") not in _APPROVED_STATES:
            cmp("state", row.get("state"), decided, "approved")
    else:
        cmp("state", row.get("state"), decided, p.get("state"))


def _signatures(row: Mapping[str, Any], ledger: Ledger, out: Problems) -> None:
    approval_id = str(row.get("approval_id"))
    signed = {e["seq"]: e for t in _SIGNING for e in ledger.all(t, approval_id=approval_id)}
    seen: set[int] = set()
    for sig in records(row, "signatures"):
        seq = sig.get("ledger_seq")
        entry = signed.get(seq) if isinstance(seq, int) else None
        if entry is None:
            out.add(f"{layout.APPROVALS}: {approval_id} signature by {sig.get('signer')!r} "
                    f"names ledger entry {seq}, which is no signature of {approval_id} in the "
                    "pack")
            continue
        seen.add(entry["seq"])
        p = entry["payload"]
        cmp = out.against(layout.APPROVALS, f"{approval_id} signature (ledger_seq {seq})")
        cmp("signer", sig.get("signer"), entry, entry["actor"])
        cmp("decision", sig.get("decision"), entry, p.get("decision"))
        cmp("comment", sig.get("comment"), entry, p.get("comment") or None)
        cmp("claims", sig.get("claims"), entry, p.get("signer"))
    for seq in sorted(set(signed) - seen):
        out.add(f"{layout.APPROVALS}: {approval_id} has no signature for "
                f"{Ledger.name(signed[seq])}")


def _evaluations(doc: Any, ledger: Ledger, out: Problems) -> None:
    rows = records(doc, "evaluations")
    evaluated = ledger.of_type("candidate_evaluated")
    trained = ledger.latest("candidate_trained")
    for row in rows:
        role = str(row.get("role"))
        if not evaluated:
            out.add(f"{layout.EVALUATIONS}: {role} evaluation, but no candidate_evaluated "
                    "entry of the pack records one")
            continue
        # A re-evaluated incident has several rows and entries: one entry must agree.
        attempts = [_evaluation_diffs(row, role, e, trained) for e in evaluated]
        if all(attempts):
            for problem in attempts[-1]:
                out.add(problem)


def _evaluation_diffs(row: Mapping[str, Any], role: str, entry: Mapping[str, Any],
                      trained: Mapping[str, Any] | None) -> list[str]:
    p, found = entry["payload"], Problems()
    cmp = found.against(layout.EVALUATIONS, role)
    for key in ("harness", "harness_version", "holdout_table", "holdout_digest", "n_rows"):
        cmp(key, row.get(key), entry, p.get(key))
    cmp("model_name", row.get("model_name"), entry, p.get("model"))
    cmp("incident_id", row.get("incident_id"), entry, entry["subject"])
    side = obj(p.get(role))
    cmp("metrics", row.get("metrics"), entry, side.get("metrics"))
    version = side.get("uat_version" if role == "candidate" else "prod_version")
    cmp("model_version", row.get("model_version"), entry, version)
    if role == "candidate" and trained is not None:
        cmp("mlflow_run_id", row.get("mlflow_run_id"), trained, trained["payload"].get("run_id"))
    return found.found


def _datasets(doc: Any, ledger: Ledger, out: Problems) -> None:
    if not isinstance(doc, dict):
        return
    claims = dataset_claims(ledger)
    for role, (entry, table, digest) in claims.items():
        summary = obj(doc.get(role))
        cmp = out.against(layout.DATASETS, role)
        cmp("table", summary.get("table"), entry, table)
        cmp("digest", summary.get("digest"), entry, digest)
    for obs in records(doc, "observations"):
        match = _RECORDED_BY.match(str(obs.get("recorded_by")))
        if not match:
            continue  # recorded by a store table, not the ledger
        source = ledger.at(int(match[1]), match[2])
        if source is None:
            out.add(f"{layout.DATASETS}: an observation is recorded_by {obs['recorded_by']!r}, "
                    "which is no such entry of the pack")
            continue
        p, kind = source["payload"], obs.get("role")
        named = p.get("holdout_table") if kind == "holdout" else (
            p.get("dataset_table") or p.get("training_table"))
        cmp = out.against(layout.DATASETS, f"{kind} observation of entry {source['seq']}")
        cmp("table", obs.get("table"), source, named)
        cmp("digest", obs.get("digest"), source,
            p.get("holdout_digest" if kind == "holdout" else "dataset_digest"))
    staged = ledger.latest("refresh_staged")
    if staged is not None:
        cmp = out.against(layout.DATASETS, "refresh")
        for key, name in (("cutoff", "cutoff"), ("holdout", "holdout_period"),
                          ("feature_pipeline_version", "feature_pipeline_version"),
                          ("sources", "sources"), ("checks", "checks")):
            if key in staged["payload"]:
                cmp(name, doc.get(name), staged, staged["payload"][key])


def _timeline(steps: Any, ledger: Ledger, out: Problems) -> None:
    if not isinstance(steps, list):
        return
    seen: set[Any] = set()
    for step in steps:
        if not isinstance(step, dict):
            continue
        seq = step.get("seq")
        entry = ledger.by_seq.get(seq) if isinstance(seq, int) else None
        if entry is None:
            continue  # verify names a step outside the pack's entries
        if entry["seq"] in seen:
            out.add(f"{layout.TIMELINE}: entry {entry['seq']} has more than one step")
        seen.add(entry["seq"])
        cmp = out.against(layout.TIMELINE, f"step seq {entry['seq']}")
        for key in ("actor", "environment", "type"):
            cmp(key, step.get(key), entry, entry[key])
        # The timeline writes ISO time (no fraction on a whole second), the entry always six
        # digits: the same instant in two spellings must agree, so compare instants.
        if _instant(step.get("time")) != _instant(entry.get("time")):
            cmp("time", step.get("time"), entry, entry.get("time"))
    for seq in sorted(set(ledger.by_seq) - seen):
        out.add(f"{layout.TIMELINE}: has no step for {Ledger.name(ledger.by_seq[seq])}")


def _instant(value: Any) -> Any:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else value
    except ValueError:
        return value


def _runs(doc: Any, ledger: Ledger, out: Problems) -> None:
    if not isinstance(doc, dict):
        return
    listed = {r.get("run_id") for r in records(doc, "runs") + records(doc, "missing_runs")}
    for entry in ledger.entries:
        for run_id, where in run_references(entry["payload"], "payload"):
            if run_id not in listed:
                out.add(f"{layout.MLFLOW}: run {run_id} ({where} of {Ledger.name(entry)}) is "
                        "in neither runs nor missing_runs")


def _lineage(doc: Any, ledger: Ledger, out: Problems) -> None:
    if not isinstance(doc, dict):
        return
    roots = doc.get("roots")
    roots = roots if isinstance(roots, list) else []
    for role, (entry, table, _digest) in dataset_claims(ledger).items():
        if table and table not in roots:
            out.add(f"{layout.LINEAGE}: roots do not include the {role} table {table!r} that "
                    f"{Ledger.name(entry)} names")
