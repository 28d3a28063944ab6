"""What the approvals page shows of a request: incident, candidate dataset, champion vs
candidate, policy verdict, signatures, promotion outcome (read model; no streamlit here).

Everything comes from the request's own ``detail`` (pinned when it was opened) plus the
response row for the dataset's row count, so the page shows what the approver signs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance import approvals, ledger
from governance.drift.policy import Policy
from governance.identity import Identity
from governance.response import state
from governance.warehouse import Session

DECIDED = ("approved", "rejected", "promoting", "promoted", "promotion_failed")
ROLE_LABELS = {"approver": "approver", "data_scientist": "data scientist",
               "auditor": "auditor", "admin": "admin"}


@dataclass(frozen=True)
class IncidentSummary:
    """The drift that started the request."""

    incident_id: str
    windows: tuple[str, str] | None
    drifted_features: tuple[str, ...]
    score: float | None


@dataclass(frozen=True)
class DatasetSummary:
    """The candidate's training set and holdout, with the tables they came from."""

    table: str | None
    digest: str | None
    rows: int | None
    cutoff: str | None
    holdout: tuple[str, ...]
    holdout_table: str | None
    holdout_digest: str | None
    sources: tuple[str, ...]
    feature_pipeline_version: str | None


@dataclass(frozen=True)
class MetricRow:
    """One harness metric for both models."""

    metric: str
    champion: float | None
    candidate: float | None


@dataclass(frozen=True)
class Comparison:
    """Champion and candidate on the same harness and holdout, with the policy's verdict."""

    harness: str
    harness_version: str
    n_rows: int | None
    primary_metric: str | None
    champion_label: str
    candidate_label: str
    metrics: tuple[MetricRow, ...]
    verdict: str | None
    qualifies: bool | None


@dataclass(frozen=True)
class SignatureView:
    """One signature on the request."""

    signer: str
    name: str | None
    decision: str
    comment: str | None
    signed_at: datetime
    source: str | None


@dataclass(frozen=True)
class PromotionOutcome:
    """What the promotion job made of an approved request."""

    state: str
    prod_version: str | None
    error: str | None


@dataclass(frozen=True)
class RequestView:
    """One approval request as the page shows it."""

    approval_id: str
    model_name: str
    kind: str
    state: str
    candidate_version: str
    champion_version: str | None
    requested_by: str
    requested_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    comment: str | None
    reason: str | None
    candidate_digest: str | None
    incident: IncidentSummary | None
    dataset: DatasetSummary | None
    comparison: Comparison | None
    signatures: tuple[SignatureView, ...]
    required_approvals: int
    promotion: PromotionOutcome | None
    rollback: dict[str, Any] | None

    @property
    def approvals_signed(self) -> int:
        """Approving signatures so far."""
        return sum(s.decision == "approve" for s in self.signatures)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


def _incident(detail: dict[str, Any]) -> IncidentSummary | None:
    raw = detail.get("incident")
    if not raw:
        return None
    windows = raw.get("windows") or []
    return IncidentSummary(
        incident_id=str(raw.get("incident_id")),
        windows=(str(windows[0]), str(windows[-1])) if windows else None,
        drifted_features=tuple(map(str, raw.get("drifted_features") or ())),
        score=_float(raw.get("score")))


def _dataset(session: Session, approval: approvals.Approval) -> DatasetSummary | None:
    raw = approval.detail.get("dataset")
    if not raw:
        return None
    response = state.get(session, approval.incident_id) if approval.incident_id else None
    rows = response.dataset_rows if response is not None else None
    return DatasetSummary(
        table=_str(raw.get("dataset_table")), digest=_str(raw.get("dataset_digest")),
        rows=None if rows is None else int(rows), cutoff=_str(raw.get("cutoff")),
        holdout=tuple(map(str, raw.get("holdout") or ())),
        holdout_table=_str(raw.get("holdout_table")),
        holdout_digest=_str(raw.get("holdout_digest")),
        sources=tuple(map(str, raw.get("sources") or ())),
        feature_pipeline_version=_str(raw.get("feature_pipeline_version")))


def _comparison(detail: dict[str, Any]) -> Comparison | None:
    raw = detail.get("evaluation")
    if not raw:
        return None
    champion, candidate = raw.get("champion", {}), raw.get("candidate", {})
    champ_metrics, cand_metrics = champion.get("metrics", {}), candidate.get("metrics", {})
    names = list(champ_metrics) + [m for m in cand_metrics if m not in champ_metrics]
    primary = raw.get("primary_metric")
    names.sort(key=lambda m: (m != primary, m))  # the deciding metric first
    verdict = raw.get("verdict") or {}
    return Comparison(
        harness=str(raw.get("harness", "?")), harness_version=str(raw.get("harness_version", "?")),
        n_rows=None if raw.get("n_rows") is None else int(raw["n_rows"]),
        primary_metric=_str(primary),
        champion_label=f"champion (prod v{champion.get('prod_version', '?')})",
        candidate_label=f"candidate (uat v{candidate.get('uat_version', '?')})",
        metrics=tuple(MetricRow(m, _float(champ_metrics.get(m)), _float(cand_metrics.get(m)))
                      for m in names),
        verdict=_str(verdict.get("reason")), qualifies=verdict.get("qualifies"))


def _promotion(detail: dict[str, Any]) -> PromotionOutcome | None:
    raw = detail.get("promotion")
    if not raw:
        return None
    return PromotionOutcome(state=str(raw.get("state")), prod_version=_str(raw.get("prod_version")),
                            error=_str(raw.get("error")))


def describe(session: Session, approval: approvals.Approval, policy: Policy) -> RequestView:
    """Everything the page shows of one request."""
    detail = approval.detail
    return RequestView(
        approval_id=approval.approval_id, model_name=approval.model_name,
        kind=str(detail.get("kind", "drift response")), state=approval.state,
        candidate_version=approval.candidate_version,
        champion_version=approval.champion_version, requested_by=approval.requested_by,
        requested_at=approval.requested_at, decided_by=approval.decided_by,
        decided_at=approval.decided_at, comment=approval.comment,
        reason=_str(detail.get("reason")), candidate_digest=approval.candidate_digest,
        incident=_incident(detail), dataset=_dataset(session, approval),
        comparison=_comparison(detail),
        signatures=tuple(SignatureView(s.signer, _str(s.claims.get("name")), s.decision,
                                       s.comment, s.signed_at, _str(s.claims.get("source")))
                         for s in approval.signatures),
        required_approvals=max(1, policy.response_for(approval.model_name).required_approvals),
        promotion=_promotion(detail), rollback=detail.get("rollback"))


def pending(session: Session, policy: Policy) -> list[RequestView]:
    """Requests waiting for a signature, newest first."""
    return [describe(session, a, policy) for a in approvals.list_approvals(session, "pending")]


def history(session: Session, policy: Policy) -> list[RequestView]:
    """Decided requests, most recently decided first."""
    decided = [a for a in approvals.list_approvals(session) if a.state in DECIDED]
    decided.sort(key=lambda a: a.decided_at or a.updated_at, reverse=True)
    return [describe(session, a, policy) for a in decided]


def promoted_models(session: Session) -> list[str]:
    """Models that production has promoted at least once (rollback candidates), by name."""
    return sorted({e.subject for e in ledger.entries(session, event_type="model_promoted")})


def cannot_decide(request: RequestView, identity: Identity | None, held: frozenset[str],
                  sign_in_configured: bool) -> str | None:
    """Why ``identity`` cannot approve or reject ``request``, or ``None`` when it may try.

    A convenience for the page only: :func:`governance.approvals.decide` checks all of this
    (and the candidate's author and files) again on the server.
    """
    if identity is None:
        if not sign_in_configured:
            return ("Sign-in is not configured, so nobody can sign here: this page is "
                    "read-only (see README, Sign-in).")
        return "You are not signed in: log in as an approver to approve or reject."
    if "approver" not in held:
        names = " and ".join(ROLE_LABELS[r] for r in ROLE_LABELS if r in held)
        you = (f"You are {'an' if names[0] in 'aeiou' else 'a'} {names}" if names
               else "You are signed in without a Driftgate role")
        return f"{you}; approving or rejecting needs the approver role."
    if request.state != "pending":
        return f"{request.approval_id} is already {request.state}."
    if approvals.same_person(identity, request.requested_by):
        return (f"You requested {request.approval_id}; separation of duties needs an "
                "independent approver.")
    if any(approvals.same_person(identity, s.signer) for s in request.signatures):
        return (f"You already signed {request.approval_id}; a second, different approver "
                "must sign.")
    return None
