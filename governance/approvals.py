"""Approval requests: who may decide, what they sign, and the rules that keep it honest.

States: ``pending -> approved | rejected``; ``approved -> promoting -> promoted |
promotion_failed`` (see :mod:`governance.promotion_job`). Every rule is checked here, on the
server, whatever the UI showed:

* only a live identity with the ``approver`` role decides;
* the approver is neither the requester nor the candidate run's author;
* a request is decided once: the decision is a conditional update in one unit of work with the
  ledger entry, so of two approvers clicking at once exactly one stands;
* the candidate's model files must still hash to what the request pinned;
* a model whose policy needs ``required_approvals = 2`` stays pending until two different
  approvers signed (four eyes); one rejection closes it.

The signed decision (signer claims, time, comment, candidate model digest, hash of the ledger
entry holding the evaluation) is appended to the ledger before any promotion job is called.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from governance import ledger
from governance.drift.policy import Policy
from governance.errors import AccessDenied, DataError, DecisionConflict, WriteConflict
from governance.identity import Identity, require_role
from governance.registry import Registry, model_digest
from governance.settings import Settings
from governance.warehouse import Session, Warehouse

STATES = ("pending", "approved", "rejected", "promoting", "promoted", "promotion_failed")
Decision = Literal["approve", "reject"]


@dataclass(frozen=True)
class Signature:
    """One approver's signature."""

    signer: str
    decision: str
    comment: str | None
    claims: dict[str, Any]
    signed_at: datetime
    ledger_seq: int


@dataclass(frozen=True)
class Approval:
    """One approval request with its signatures."""

    approval_id: str
    model_name: str
    candidate_version: str
    champion_version: str | None
    incident_id: str | None
    state: str
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    detail: dict[str, Any]
    updated_at: datetime
    signatures: tuple[Signature, ...] = ()

    @property
    def candidate_digest(self) -> str | None:
        """The model-file digest the request pinned."""
        digest = self.detail.get("candidate", {}).get("model_digest")
        return str(digest) if digest else None


def _signatures(session: Session, approval_id: str) -> tuple[Signature, ...]:
    return tuple(Signature(r["signer"], r["decision"], r["comment"], json.loads(r["claims"]),
                           r["signed_at"], int(r["ledger_seq"]))
                 for r in session.fetch_rows("approvals/signatures",
                                             {"approval_id": approval_id}))


def _approval(session: Session, row: dict[str, Any]) -> Approval:
    return Approval(**{**row, "detail": json.loads(row["detail"])},
                    signatures=_signatures(session, row["approval_id"]))


def get(session: Session, approval_id: str) -> Approval:
    """One request.

    Raises:
        DataError: No such request.
    """
    rows = session.fetch_rows("approvals/get", {"approval_id": approval_id})
    if not rows:
        raise DataError(f"no approval request {approval_id!r}",
                        hint="see `python -m governance approvals list`")
    return _approval(session, rows[0])


def list_approvals(session: Session, state: str | None = None) -> list[Approval]:
    """Every request (optionally in one state), newest first."""
    if state is not None and state not in STATES:
        raise DataError(f"unknown approval state {state!r}", hint=f"one of {', '.join(STATES)}")
    return [_approval(session, r) for r in session.fetch_rows("approvals/list")
            if state is None or r["state"] == state]


def _author(uat: Registry, approval: Approval) -> str:
    run_id = approval.detail.get("candidate", {}).get("run_id")
    if not run_id:
        return ""
    return str(uat.run(str(run_id)).data.tags.get("mlflow.user", ""))


def same_person(identity: Identity, actor: str) -> bool:
    """True when ``actor`` (``user:<email>`` or a bare email) names ``identity``."""
    # Email addresses are compared case-insensitively: Bob@X and bob@x are one person.
    email = identity.email.casefold()
    return actor.casefold() in (email, f"user:{email}")


def _current_digest(uat: Registry, model: str, version: str) -> str:
    with tempfile.TemporaryDirectory(prefix="driftgate-approve-") as tmp:
        return model_digest(uat.download_model(model, version, Path(tmp) / "candidate"))


def decide(warehouse: Warehouse, uat: Registry, settings: Settings, policy: Policy,
           approval_id: str, identity: Identity | None, decision: Decision, comment: str = "",
           *, now: datetime | None = None) -> Approval:
    """Sign ``approval_id`` as ``identity``: approve or reject it.

    Args:
        warehouse: The governance store.
        uat: The UAT registry (to check the candidate's author and files).
        settings: For the role mapping.
        policy: For ``required_approvals`` of the model.
        approval_id: The request.
        identity: The signed-in person (from authentication, never from a form).
        decision: ``approve`` or ``reject``.
        comment: Why; required to reject.
        now: The time of the decision (tests).

    Returns:
        The request after the signature (``approved``, ``rejected``, or still ``pending``
        when a second approver must sign).

    Raises:
        AccessDenied: Not an approver, expired sign-in, or the approver requested or authored
            the candidate.
        DecisionConflict: Already decided (also by a concurrent click), already signed by this
            approver, or the candidate files changed since the request.
        DataError: Unknown request or decision, or a rejection without a comment.
    """
    if decision not in ("approve", "reject"):
        raise DataError(f"unknown decision {decision!r}", hint="approve or reject")
    require_role(identity, settings, "approver", f"{decision} {approval_id}", now)
    assert identity is not None  # require_role refused None
    comment = (comment or "").strip()
    if decision == "reject" and not comment:
        raise DataError("a rejection needs a comment saying why")
    with warehouse.session() as session:
        approval = get(session, approval_id)
    _check_decidable(approval, identity)
    author = _author(uat, approval)
    if author and same_person(identity, author):
        raise AccessDenied(f"{identity.email} authored the candidate run of {approval_id}; "
                           "an independent approver must decide")
    digest = _current_digest(uat, approval.model_name, approval.candidate_version)
    if digest != approval.candidate_digest:
        with warehouse.session() as session:
            ledger.append(session, actor=identity.actor, environment="uat",
                          event_type="approval_refused", subject=approval_id, payload={
                              "reason": "candidate changed", "pinned": approval.candidate_digest,
                              "found": digest, "signer": identity.claims()})
        raise DecisionConflict(
            f"{approval.model_name} v{approval.candidate_version} no longer matches the files "
            f"this request pinned ({str(approval.candidate_digest)[:12]}, now {digest[:12]})",
            hint="the candidate changed after evaluation: prepare a new candidate")
    try:
        return _sign(warehouse, policy, approval_id, identity, decision, comment, digest, now)
    except WriteConflict as exc:
        with warehouse.session() as session:
            latest = get(session, approval_id)
        raise DecisionConflict(
            f"{approval_id} was decided at the same moment by someone else "
            f"(now {latest.state}" + (f" by {latest.decided_by}" if latest.decided_by else "")
            + ")", hint="reload to see the decision that stands") from exc


def _check_decidable(approval: Approval, identity: Identity) -> None:
    if approval.state != "pending":
        by = f" by {approval.decided_by}" if approval.decided_by else ""
        raise DecisionConflict(f"{approval.approval_id} is already {approval.state}{by}",
                               hint="a request is decided once")
    if same_person(identity, approval.requested_by):
        raise AccessDenied(f"{identity.email} requested {approval.approval_id}; an independent "
                           "approver must decide")
    if any(same_person(identity, s.signer) for s in approval.signatures):
        raise DecisionConflict(f"{identity.email} already signed {approval.approval_id}",
                               hint="a second, different approver must sign")


def _sign(warehouse: Warehouse, policy: Policy, approval_id: str, identity: Identity,
          decision: Decision, comment: str, digest: str, now: datetime | None) -> Approval:
    with warehouse.session() as session:
        approval = get(session, approval_id)  # again, inside the unit of work that decides
        _check_decidable(approval, identity)
        at = now or ledger.utc_now()
        required = policy.response_for(approval.model_name).required_approvals
        approvals = 1 + sum(s.decision == "approve" for s in approval.signatures)
        final = decision == "reject" or approvals >= max(1, required)
        state = ("rejected" if decision == "reject" else "approved") if final else "pending"
        evaluation_seq = approval.detail.get("ledger", {}).get("candidate_evaluated")
        evaluation_hash = _entry_hash(session, evaluation_seq)
        signers = [s.claims for s in approval.signatures] + [identity.claims()]
        entry = ledger.append(
            session, actor=identity.actor, environment="prod",
            event_type="approval_decided" if final else "approval_signed", subject=approval_id,
            payload={"approval_id": approval_id, "model": approval.model_name,
                     "decision": decision, "state": state, "comment": comment,
                     "signer": identity.claims(), "signers": signers,
                     "required_approvals": required, "candidate_version":
                     approval.candidate_version, "candidate_model_digest": digest,
                     "evaluation_entry_hash": evaluation_hash,
                     "champion_version": approval.champion_version})
        session.execute("approvals/sign", {
            "approval_id": approval_id, "signer": identity.actor, "decision": decision,
            "comment": comment or None, "claims": ledger.canonical_json(identity.claims()),
            "signed_at": at, "ledger_seq": entry.seq})
        if final:
            session.execute("approvals/decide", {
                "approval_id": approval_id, "state": state, "decided_by": identity.actor,
                "decided_at": at, "comment": comment or None})
            if approval.incident_id:
                session.execute("incidents/set_status", {
                    "incident_id": approval.incident_id,
                    "status": "rejected" if state == "rejected" else "approved",
                    "updated_at": at})
        else:
            session.execute("approvals/touch", {"approval_id": approval_id, "updated_at": at})
        return get(session, approval_id)


def _entry_hash(session: Session, seq: int | None) -> str | None:
    found = None if seq is None else ledger.entry(session, int(seq))
    return found.hash if found else None


def request_rollback(warehouse: Warehouse, uat: Registry, settings: Settings, model: str,
                     identity: Identity | None, reason: str) -> Approval:
    """Ask to put the previous champion back: itself an approval request, decided and promoted
    like any other (the requester cannot approve it).

    Raises:
        AccessDenied: Not a data scientist or administrator.
        DataError: No earlier champion, no reason given, or a rollback is already pending.
    """
    require_role_any(identity, settings, ("data_scientist", "admin"),
                     f"request a rollback of {model}")
    assert identity is not None  # require_role_any refused None
    reason = (reason or "").strip()
    if not reason:
        raise DataError("a rollback request needs a reason")
    with warehouse.session() as session:
        promoted = [e for e in ledger.entries(session, event_type="model_promoted")
                    if e.subject == model]
        pending = [a for a in list_approvals(session, "pending") if a.model_name == model]
    if len(promoted) < 2:
        raise DataError(f"{model} has had only one champion; there is nothing to roll back to")
    if pending:
        raise DataError(f"{model} already has a pending request ({pending[0].approval_id})",
                        hint="decide it first")
    current, previous = promoted[-1].payload, promoted[-2].payload
    version = str(previous["uat_version"])
    digest = _current_digest(uat, model, version)
    if digest != previous["model_digest"]:
        raise DataError(f"{model} uat v{version} no longer matches the files it was promoted "
                        "with; a rollback would not restore them")
    with warehouse.session() as session:
        earlier = [a for a in list_approvals(session)
                   if a.approval_id.startswith(f"APR-{model}-rollback-")]
    approval_id = f"APR-{model}-rollback-{len(earlier) + 1}"
    detail: dict[str, Any] = {"kind": "rollback", "reason": reason,
              "candidate": {"uat_version": version, "run_id": previous["source_run_id"],
                            "model_digest": digest},
              "rollback": {"from_prod_version": current["prod_version"],
                           "to_prod_version": previous["prod_version"]}}
    now = ledger.utc_now()
    with warehouse.session() as session:
        session.execute("approvals/insert", {
            "approval_id": approval_id, "model_name": model, "candidate_version": version,
            "champion_version": str(current["prod_version"]), "incident_id": None,
            "state": "pending", "requested_by": identity.actor, "requested_at": now,
            "detail": ledger.canonical_json(detail)})
        ledger.append(session, actor=identity.actor, environment="uat",
                      event_type="approval_requested", subject=approval_id, payload={
                          "approval_id": approval_id, "model": model, "kind": "rollback",
                          "candidate_version": version, "reason": reason,
                          "requested_by": identity.actor, "requester": identity.claims(),
                          **detail["rollback"]})
        return get(session, approval_id)


def require_role_any(identity: Identity | None, settings: Settings, wanted: tuple[str, ...],
                     action: str) -> frozenset[str]:
    """Like :func:`governance.identity.require_role`, for any one of several roles."""
    problems = []
    for role in wanted:
        try:
            return require_role(identity, settings, role, action)
        except AccessDenied as exc:
            problems.append(exc)
    raise problems[-1]
