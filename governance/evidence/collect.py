"""The context sections of an evidence pack, read from the store for one trail.

Each function returns one JSON document. They copy rows as the store holds them (JSON columns
parsed), because an auditor compares them with the ledger entries in the same pack: the
entries are the proof, these are the context around them.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from governance.audit.trail import Trail
from governance.evidence.crossrefs import run_references
from governance.evidence.layout import jsonable, parsed
from governance.ledger import LedgerEntry
from governance.warehouse import Session

_JSON_COLUMNS = frozenset({"detail", "claims", "metrics", "drifted_features", "schema_problems",
                           "tests", "problems"})


def _row(row: Mapping[str, Any]) -> dict[str, Any]:
    return {k: parsed(v) if k in _JSON_COLUMNS else jsonable(v) for k, v in row.items()}


def _latest(trail: Trail, event_type: str) -> LedgerEntry | None:
    found = [e for e in trail.entries if e.type == event_type]
    return found[-1] if found else None


def approvals(session: Session, trail: Trail) -> dict[str, Any]:
    """Approval requests (with their detail) and every signature with the signer's claims."""
    rows = session.fetch_rows("evidence/approvals", {"approval_id": trail.approval_id or "",
                                                     "incident_id": trail.incident_id or ""})
    found = []
    for row in rows:
        signatures = session.fetch_rows("approvals/signatures",
                                        {"approval_id": row["approval_id"]})
        found.append({**_row(row), "signatures": [_row(s) for s in signatures]})
    doc: dict[str, Any] = {"approvals": found}
    if not found and trail.approval_id:
        doc["note"] = (f"{trail.approval_id} is not an approval request (a bootstrap promotion "
                       "needs none); the promotion entry in the ledger is the record")
    return doc


def evaluations(session: Session, trail: Trail) -> dict[str, Any]:
    """The harness evaluations of the trail's incident: champion and candidate, same holdout."""
    if not trail.incident_id:
        return {"incident_id": None, "evaluations": [],
                "note": "no incident: a bootstrap version is not compared with a champion"}
    rows = session.fetch_rows("evaluations/for_incident", {"incident_id": trail.incident_id})
    return {"incident_id": trail.incident_id, "evaluations": [_row(r) for r in rows]}


def drift(session: Session, trail: Trail) -> dict[str, Any]:
    """The incident row and the drift windows and feature results inside its span."""
    if not trail.incident_id:
        return {"incident": None, "windows": [], "results": [],
                "note": "no incident: a bootstrap version was not promoted because of drift"}
    rows = session.fetch_rows("incidents/get", {"incident_id": trail.incident_id})
    if not rows:
        return {"incident": None, "windows": [], "results": [],
                "note": f"incident {trail.incident_id} has no row in governance.drift_incidents"}
    incident = rows[0]
    span = {"model_name": incident["model_name"], "model_version": incident["model_version"],
            "first_window": incident["first_window"], "last_window": incident["last_window"]}
    return {
        "incident": _row(incident),
        "windows": [_row(r) for r in session.fetch_rows("evidence/drift_windows", span)],
        "results": [_row(r) for r in session.fetch_rows("evidence/drift_results", span)],
    }


def response(session: Session, trail: Trail) -> dict[str, Any] | None:
    """The incident's drift-response row, if the response ran."""
    if not trail.incident_id:
        return None
    rows = session.fetch_rows("response/get", {"incident_id": trail.incident_id})
    return _row(rows[0]) if rows else None


def _observations(trail: Trail, resp: Mapping[str, Any] | None) -> Iterator[dict[str, Any]]:
    for event_type in ("model_trained", "refresh_staged", "candidate_trained",
                       "candidate_evaluated"):
        entry = _latest(trail, event_type)
        if entry is None:
            continue
        p, where = entry.payload, f"ledger seq {entry.seq} ({event_type})"
        table = p.get("dataset_table") or p.get("training_table")
        if table and event_type != "candidate_evaluated":
            yield {"role": "training", "table": table, "digest": p.get("dataset_digest"),
                   "recorded_by": where}
        if p.get("holdout_table"):
            yield {"role": "holdout", "table": p["holdout_table"],
                   "digest": p.get("holdout_digest"), "recorded_by": where}
    if resp:
        for role, prefix in (("training", "dataset"), ("holdout", "holdout")):
            if resp.get(f"{prefix}_table"):
                yield {"role": role, "table": resp[f"{prefix}_table"],
                       "digest": resp.get(f"{prefix}_digest"),
                       "recorded_by": "governance.responses"}


def datasets(trail: Trail, resp: Mapping[str, Any] | None) -> dict[str, Any]:
    """Training and holdout tables with their digests, as the ledger and the store record them.

    The ledger's record wins (it is hash-chained); any other record that names a different
    table or digest is listed under ``disagreements``.
    """
    seen = list(_observations(trail, resp))
    doc: dict[str, Any] = {"observations": seen, "disagreements": []}
    for role in ("training", "holdout"):
        mine = [o for o in seen if o["role"] == role]
        if not mine:
            doc[role] = None
            continue
        first = mine[0]
        doc[role] = {"table": first["table"], "digest": first["digest"],
                     "recorded_by": [o["recorded_by"] for o in mine]}
        for other in mine[1:]:
            if (other["table"], other["digest"]) != (first["table"], first["digest"]):
                doc["disagreements"].append(
                    f"{role}: {other['recorded_by']} names {other['table']} "
                    f"({other['digest']}), {first['recorded_by']} names {first['table']} "
                    f"({first['digest']})")
    staged = _latest(trail, "refresh_staged")
    if staged is not None:
        for key, name in (("cutoff", "cutoff"), ("holdout", "holdout_period"),
                          ("feature_pipeline_version", "feature_pipeline_version"),
                          ("sources", "sources"), ("checks", "checks")):
            if key in staged.payload:
                doc[name] = staged.payload[key]
    if resp and resp.get("dataset_rows") is not None and doc["training"]:
        doc["training"]["rows"] = resp["dataset_rows"]
    return doc


def mlflow_runs(session: Session, trail: Trail, evaluated: Mapping[str, Any],
                resp: Mapping[str, Any] | None) -> dict[str, Any]:
    """The MLflow runs the trail references, from ``system.mlflow.runs_latest``.

    A run the ledger names but the runs table lacks (deleted, or the mirror is stale) is listed
    under ``missing_runs`` with where it was referenced.
    """
    refs: dict[str, list[str]] = {}
    for entry in trail.entries:
        for run_id, where in run_references(entry.payload, "payload"):
            refs.setdefault(run_id, []).append(f"ledger seq {entry.seq} {where}")
    for row in evaluated.get("evaluations", []):
        if row.get("mlflow_run_id"):
            refs.setdefault(row["mlflow_run_id"], []).append(
                f"governance.evaluations ({row.get('role')})")
    if resp and resp.get("candidate_run_id"):
        refs.setdefault(str(resp["candidate_run_id"]), []).append(
            "governance.responses candidate_run_id")
    runs: list[dict[str, Any]] = []
    missing: list[dict[str, Any]] = []
    for run_id, sites in refs.items():
        rows = session.fetch_rows("evidence/run", {"run_id": run_id})
        if rows:
            runs.extend({**jsonable(r), "referenced_by": sites} for r in rows)
        else:
            missing.append({"run_id": run_id, "referenced_by": sites})
    return {"runs": runs, "missing_runs": missing}
