"""The story of one incident or one production model version, from the ledger.

A *trail* is every ledger entry that explains a version: the drift windows that opened its
incident, the refresh, the candidate's training and evaluation, the approval request, each
signature and the decision, the promotion job, and the promotion itself (or, for a bootstrap
version, its training entry). The timeline is the same entries in words; the evidence pack
carries them verbatim with their hashes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance.audit.view import entry_from_row
from governance.errors import DataError
from governance.ledger import LedgerEntry
from governance.warehouse import Session

#: Timeline step per event type, in the order a healthy story runs.
STEPS: Mapping[str, str] = {
    "model_trained": "trained",
    "drift_detected": "drift detected",
    "refresh_staged": "refresh staged",
    "refresh_failed": "refresh failed",
    "candidate_trained": "candidate trained",
    "candidate_failed": "training failed",
    "candidate_evaluated": "evaluated",
    "evaluation_failed": "evaluation failed",
    "approval_requested": "approval requested",
    "approval_signed": "signed",
    "approval_refused": "signature refused",
    "approval_decided": "decided",
    "promotion_started": "promotion job run",
    "promotion_failed": "promotion failed",
    "model_promoted": "live in prod",
    "promotion_completed": "promotion completed",
    "environment_violation": "environment violation",
}
FAILURES = frozenset({"refresh_failed", "candidate_failed", "evaluation_failed",
                      "approval_refused", "promotion_failed", "environment_violation"})


@dataclass(frozen=True)
class TimelineEvent:
    """One step of a trail, in words, with the entry it comes from."""

    seq: int
    time: datetime
    step: str
    actor: str
    environment: str
    summary: str
    failed: bool
    entry: LedgerEntry
    count: int = 1
    last_seq: int | None = None
    last_time: datetime | None = None


@dataclass(frozen=True)
class Trail:
    """Every ledger entry behind one version or incident.

    Attributes:
        subject: What the trail is about (``<model> v<version>`` or an incident id).
        model_name: The model.
        prod_version: The production version (``None`` for an incident not promoted yet).
        incident_id: The incident behind it (``None`` for a bootstrap version).
        approval_id: The approval that promoted it, if any.
        entries: The ledger entries, oldest first.
    """

    subject: str
    model_name: str
    prod_version: str | None
    incident_id: str | None
    approval_id: str | None
    entries: tuple[LedgerEntry, ...]

    @property
    def timeline(self) -> tuple[TimelineEvent, ...]:
        """The entries as timeline steps, oldest first."""
        return tuple(_event(e) for e in self.entries)

    @property
    def seqs(self) -> tuple[int, ...]:
        """Sequence numbers of the entries involved."""
        return tuple(e.seq for e in self.entries)


def _entries(session: Session, *, incident_id: str = "", approval_id: str = "",
             trained_subject: str = "") -> tuple[LedgerEntry, ...]:
    model = _model_of(session, incident_id) if incident_id else ""
    rows = session.fetch_rows("audit/trail", {"incident_id": incident_id,
                                              "approval_id": approval_id,
                                              "trained_subject": trained_subject,
                                              "model_name": model})
    return tuple(entry_from_row(r) for r in rows)


def version_trail(session: Session, model_name: str, prod_version: str) -> Trail:
    """The trail of production version ``prod_version`` of ``model_name``.

    Raises:
        DataError: The ledger records no promotion of that version.
    """
    promoted = [e for e in _promotions(session, model_name)
                if str(e.payload.get("prod_version")) == str(prod_version)]
    if not promoted:
        raise DataError(f"the ledger records no promotion of {model_name} v{prod_version}",
                        hint="pick a version from the audit table")
    promotion = promoted[-1]
    approval_id = str(promotion.payload.get("approval_id") or "")
    incident_id = _incident_of(session, approval_id)
    uat_version = str(promotion.payload.get("uat_version") or "")
    entries = _entries(session, incident_id=incident_id or "", approval_id=approval_id,
                       trained_subject=f"{model_name}/{uat_version}" if uat_version else "")
    # Other promotions of the same request (a rollback re-uses none, but a retried job may log
    # twice) belong to other versions: keep only this version's promotion entry.
    entries = tuple(e for e in entries if e.type != "model_promoted" or e.seq == promotion.seq)
    return Trail(f"{model_name} v{prod_version}", model_name, str(prod_version), incident_id,
                 approval_id or None, entries)


def incident_trail(session: Session, incident_id: str) -> Trail:
    """The trail of one drift incident, promoted or not.

    Raises:
        DataError: The ledger has nothing about ``incident_id``.
    """
    entries = _entries(session, incident_id=incident_id)
    if not entries:
        raise DataError(f"the ledger has no entries about incident {incident_id!r}",
                        hint="pick an incident from the audit table")
    promoted = [e for e in entries if e.type == "model_promoted"]
    model = (promoted[0].subject if promoted
             else str(entries[0].payload.get("model") or entries[0].subject.split("/")[0]))
    approval = next((str(e.payload["approval_id"]) for e in entries
                     if e.type == "approval_requested" and e.payload.get("approval_id")), None)
    version = str(promoted[-1].payload.get("prod_version")) if promoted else None
    return Trail(incident_id, model, version, incident_id, approval, entries)


def _model_of(session: Session, incident_id: str) -> str:
    """The incident's model (drift entries are found under its subjects); an unknown incident
    yields no drift entries, and the trail says so."""
    rows = session.fetch_rows("incidents/get", {"incident_id": incident_id})
    return str(rows[0]["model_name"]) if rows else "\x00"


def _promotions(session: Session, model_name: str) -> list[LedgerEntry]:
    rows = session.fetch_rows("audit/promotions_of", {"model_name": model_name})
    return [entry_from_row(r) for r in rows]


def _incident_of(session: Session, approval_id: str) -> str | None:
    if not approval_id:
        return None
    rows = session.fetch_rows("approvals/get", {"approval_id": approval_id})
    return str(rows[0]["incident_id"]) if rows and rows[0].get("incident_id") else None


def condense(events: Sequence[TimelineEvent]) -> tuple[TimelineEvent, ...]:
    """Runs of the same step by the same actor (weeks of drift checks) as one event each.

    The merged event keeps the first entry, counts the run, and names its last seq and time;
    its summary gives the first and the last entry's. Nothing is dropped: the evidence pack and
    the events table still hold every entry.
    """
    merged: list[TimelineEvent] = []
    for event in events:
        last = merged[-1] if merged else None
        if (last is not None and last.step == event.step and last.actor == event.actor
                and last.failed == event.failed and last.environment == event.environment):
            first_summary = last.summary.split(" … last: ")[0].removeprefix("first: ")
            merged[-1] = TimelineEvent(
                last.seq, last.time, last.step, last.actor, last.environment,
                f"first: {first_summary} … last: {event.summary}", last.failed, last.entry,
                last.count + 1, event.seq, event.time)
        else:
            merged.append(event)
    return tuple(merged)


def _event(entry: LedgerEntry) -> TimelineEvent:
    return TimelineEvent(entry.seq, entry.time, STEPS.get(entry.type, entry.type.replace("_", " ")),
                         entry.actor, entry.environment, summarize(entry),
                         entry.type in FAILURES, entry)


def summarize(entry: LedgerEntry) -> str:
    """One line saying what an entry records, for timelines and tables."""
    p = entry.payload
    match entry.type:
        case "drift_detected":
            window = "–".join(p.get("window", []))
            features = ", ".join(p.get("drifted_features", [])) or "none"
            return f"window {window}: {p.get('verdict')} (score {p.get('score')}); {features}"
        case "refresh_staged":
            return f"{p.get('dataset_table')} ({_short(p.get('dataset_digest'))}), " \
                   f"cut-off {p.get('cutoff')}"
        case "candidate_trained" | "model_trained":
            return f"{p.get('training_table')} → run {p.get('run_id')}" + (
                f", uat v{p['uat_version']}" if p.get("uat_version") else "")
        case "candidate_evaluated":
            verdict = p.get("verdict") or {}
            return str(verdict.get("reason") or "evaluated")
        case "approval_requested":
            return f"{p.get('approval_id')}: candidate v{p.get('candidate_version')} vs " \
                   f"champion v{p.get('champion_version')}"
        case "approval_signed" | "approval_decided":
            comment = f" — “{p['comment']}”" if p.get("comment") else ""
            signer = p.get("signer")
            if isinstance(signer, dict):  # the signer's identity claims
                signer = signer.get("email") or signer.get("sub")
            return f"{p.get('decision')} by {signer or entry.actor}{comment}"
        case "model_promoted":
            return f"prod v{p.get('prod_version')} from uat v{p.get('uat_version')} " \
                   f"({p.get('reason')}, {p.get('approval_id')})"
        case "promotion_failed" | "refresh_failed" | "candidate_failed" | "evaluation_failed":
            return str(p.get("error") or "; ".join(map(str, p.get("problems", []))) or "failed")
    return ", ".join(f"{k}={_short(v)}" for k, v in sorted(p.items())[:4])


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text[:12] if isinstance(value, str) and len(text) == 64 else text[:60]
