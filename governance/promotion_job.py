"""The promotion job for a signed approval: ``approved -> promoting -> promoted | failed``.

The job trusts nothing it is handed: it re-reads the decision from the ledger
(``approval_decided`` for this approval id) and refuses anything not approved there, or whose
candidate version or model digest differ from what was signed. A failed run is recorded
(``promotion_failed``) and can be retried with the same approval; prod's champion moves last and
only after the copy is verified (:func:`governance.promotion.promote`), so prod is either
unchanged or fully promoted.

Embedded workspace: the job runs in-process. Databricks: the same job (``python -m governance
promote --approval ID``) runs as a Databricks job started by :func:`run_on_databricks`, with the
approval id as ``idempotency_token``.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from governance import approvals, ledger, mlflow_mirror, promotion
from governance.errors import DecisionConflict, GovernanceError
from governance.registry import Registry
from governance.warehouse import Warehouse

ACTOR = "system:promotion-job"
TERMINAL = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")


def _set_state(warehouse: Warehouse, approval: approvals.Approval, state: str,
               event_type: str, payload: dict[str, Any], actor: str = ACTOR) -> None:
    with warehouse.session() as session:
        detail = {**approval.detail, "promotion": {**approval.detail.get("promotion", {}),
                                                   **payload, "state": state}}
        now = ledger.utc_now()
        session.execute("approvals/set_state", {
            "approval_id": approval.approval_id, "state": state,
            "detail": ledger.canonical_json(detail), "updated_at": now})
        if state == "promoted" and approval.incident_id:
            session.execute("incidents/set_status", {"incident_id": approval.incident_id,
                                                     "status": "promoted", "updated_at": now})
        ledger.append(session, actor=actor, environment="prod", event_type=event_type,
                      subject=approval.approval_id,
                      payload={"approval_id": approval.approval_id,
                               "model": approval.model_name, **payload})


def signed_decision(warehouse: Warehouse, approval_id: str) -> tuple[approvals.Approval,
                                                                       ledger.LedgerEntry]:
    """The request and the ledger entry that approved it.

    Raises:
        DecisionConflict: The ledger holds no approval for it, or it disagrees with the request.
    """
    with warehouse.session() as session:
        approval = approvals.get(session, approval_id)
        decided = ledger.latest_by_type(session, "approval_decided").get(approval_id)
    if decided is None or decided.payload.get("state") != "approved":
        raise DecisionConflict(f"the ledger holds no approval of {approval_id} "
                               f"(request state {approval.state})",
                               hint="only an approved request can be promoted")
    if (str(decided.payload.get("candidate_version")) != approval.candidate_version
            or decided.payload.get("candidate_model_digest") != approval.candidate_digest):
        raise DecisionConflict(f"{approval_id}: the request no longer matches what was signed "
                               f"(ledger entry {decided.seq})")
    return approval, decided


def promote_approved(warehouse: Warehouse, uat: Registry, prod: Registry, approval_id: str,
                     *, actor: str = ACTOR) -> approvals.Approval:
    """Run the promotion job for ``approval_id`` (retry-safe).

    Returns:
        The request, now ``promoted``.

    Raises:
        DecisionConflict: Not approved in the ledger, or not in a promotable state.
        PromotionFailed: The copy or the alias move failed; recorded as ``promotion_failed``.
    """
    approval, decided = signed_decision(warehouse, approval_id)
    if approval.state == "promoted":
        return approval
    if approval.state not in ("approved", "promoting", "promotion_failed"):
        raise DecisionConflict(f"{approval_id} is {approval.state}; nothing to promote")
    with warehouse.session() as session:
        done = ledger.latest_by_type(session, "model_promoted").get(approval.model_name)
    if done is None or done.payload.get("approval_id") != approval_id:
        _set_state(warehouse, approval, "promoting", "promotion_started",
                   {"decision_seq": decided.seq}, actor)
        try:
            done_promotion = promotion.promote(
                warehouse, uat, prod, model_name=approval.model_name,
                uat_version=approval.candidate_version, approval_id=approval_id, actor=actor,
                reason=approval.detail.get("kind", "approved"),
                expected_digest=approval.candidate_digest)
        except Exception as exc:  # any failure is recorded, then raised to the caller
            _set_state(warehouse, approval, "promotion_failed", "promotion_failed",
                       {"error": f"{type(exc).__name__}: {exc}"}, actor)
            if isinstance(exc, GovernanceError):
                raise
            raise promotion.PromotionFailed(
                f"{approval.model_name}: promotion of {approval_id} failed: {exc}",
                hint="prod's champion did not move; retry with the same approval") from exc
        prod_version = done_promotion.prod_version
    else:  # a crash after the alias moved: the ledger already says so, finish the bookkeeping
        prod_version = str(done.payload["prod_version"])
    _set_state(warehouse, approval, "promoted", "promotion_completed",
               {"prod_version": prod_version}, actor)
    mlflow_mirror.refresh_after(warehouse, {"uat": uat, "prod": prod},
                                f"the promotion of {approval_id}")
    with warehouse.session() as session:
        return approvals.get(session, approval_id)


def run_on_databricks(warehouse: Warehouse, client: Any, job_id: int, approval_id: str, *,
                      poll_seconds: float = 10.0, timeout_seconds: float = 3600.0,
                      sleep: Callable[[float], None] = time.sleep) -> approvals.Approval:
    """Start the promotion job on Databricks and wait for its result.

    ``jobs.run_now`` gets the approval id as ``idempotency_token`` (a repeat returns the same
    run); ``jobs.get_run`` is polled until the run is terminal, and ``result_state`` decides:
    the SDK returns normally for a FAILED run, so a non-SUCCESS result is a failure here.

    Args:
        warehouse: The governance store (the request's state and ledger entries).
        client: A ``databricks.sdk.WorkspaceClient`` (or anything with the same ``jobs`` API).
        job_id: The promotion job.
        approval_id: The approved request.
        poll_seconds: Pause between polls.
        timeout_seconds: Give up (recorded as a failure) after this long.
        sleep: Injected for tests.

    Raises:
        DecisionConflict: Not approved in the ledger.
        PromotionFailed: The run ended without SUCCESS or timed out (recorded).
    """
    approval, decided = signed_decision(warehouse, approval_id)
    if approval.state == "promoted":
        return approval
    try:
        waiter = client.jobs.run_now(
            job_id=job_id, idempotency_token=idempotency_token(approval_id),
            job_parameters={"approval_id": approval_id, "model_name": approval.model_name,
                            "uat_version": approval.candidate_version,
                            "decision_seq": str(decided.seq)})
        run_id = int(waiter.run_id)
        run = client.jobs.get_run(run_id=run_id)
    except Exception as exc:  # the workspace or the API failed: record it, then raise
        _set_state(warehouse, approval, "promotion_failed", "promotion_failed",
                   {"error": f"cannot start Databricks job {job_id}: "
                             f"{type(exc).__name__}: {exc}"})
        raise promotion.PromotionFailed(
            f"{approval.model_name}: could not start the promotion job: {exc}",
            hint="check the workspace and GOV_PROMOTION_JOB_ID; retry with the same approval",
        ) from exc
    _set_state(warehouse, approval, "promoting", "promotion_started",
               {"decision_seq": decided.seq, "databricks_run_id": run_id,
                "run_page_url": getattr(run, "run_page_url", None)})
    waited = 0.0
    while _life_cycle(run) not in TERMINAL and waited < timeout_seconds:
        sleep(poll_seconds)
        waited += poll_seconds
        run = client.jobs.get_run(run_id=run_id)
    result = _result_state(run)
    outcome = {"databricks_run_id": run_id, "run_page_url": getattr(run, "run_page_url", None),
               "life_cycle_state": _life_cycle(run), "result_state": result}
    if result != "SUCCESS":
        why = "timed out waiting" if _life_cycle(run) not in TERMINAL else f"ended {result}"
        _set_state(warehouse, approval, "promotion_failed", "promotion_failed",
                   {**outcome, "error": f"Databricks run {run_id} {why}"})
        raise promotion.PromotionFailed(
            f"{approval.model_name}: Databricks promotion run {run_id} {why}",
            hint=f"see {outcome['run_page_url']}; retry with the same approval")
    # The job itself recorded the promotion; refresh the request's view of it.
    with warehouse.session() as session:
        latest = approvals.get(session, approval_id)
    if latest.state != "promoted":
        _set_state(warehouse, latest, "promoted", "promotion_completed", outcome)
    with warehouse.session() as session:
        return approvals.get(session, approval_id)


def idempotency_token(approval_id: str) -> str:
    """The approval id itself when it fits Databricks' 64 characters, else its sha256: cutting
    it would give two long ids one token, and Databricks would return the first one's run."""
    if len(approval_id) <= 64:
        return approval_id
    return hashlib.sha256(approval_id.encode()).hexdigest()


def _name(value: Any) -> str | None:
    if value is None:
        return None
    return str(getattr(value, "value", value))


def _life_cycle(run: Any) -> str | None:
    state = getattr(run, "state", None)
    return _name(getattr(state, "life_cycle_state", None))


def _result_state(run: Any) -> str | None:
    state = getattr(run, "state", None)
    return _name(getattr(state, "result_state", None))


def run(warehouse: Warehouse, uat: Registry, prod: Registry, settings: Any, approval_id: str,
        *, client_factory: Callable[[], Any] | None = None) -> approvals.Approval:
    """Run the promotion job where the deployment runs it: on Databricks when
    ``GOV_PROMOTION_JOB_ID`` is set, in-process otherwise."""
    if settings.promotion_job_id:
        if client_factory is None:
            from databricks.sdk import WorkspaceClient

            client_factory = WorkspaceClient
        return run_on_databricks(warehouse, client_factory(), int(settings.promotion_job_id),
                                 approval_id)
    return promote_approved(warehouse, uat, prod, approval_id)
