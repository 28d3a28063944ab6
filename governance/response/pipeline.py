"""The drift response: from an open incident to a pending approval request, in UAT only.

Steps (each commits its state change, incident status and ledger entry in one unit of work):

1. ``refresh``  -> ``refresh_staged`` | ``refresh_failed``: candidate training set and holdout
   written to ``uat`` as new immutable tables, validated, with lineage rows and digests.
2. ``train``    -> ``candidate_trained`` | ``candidate_failed``: retrained with the champion's
   logged algorithm and hyperparameters, logged and registered in UAT MLflow, its baseline
   profile frozen.
3. ``evaluate`` -> ``candidate_evaluated`` | ``evaluation_failed``: champion and candidate on
   the same harness and holdout; a candidate the policy rejects ends as ``not_qualified``.
4. ``request``  -> ``approval_requested``: a ``pending`` approval request.

:func:`respond` resumes from the last completed step, so running it twice, or after a crash at
any point, yields one dataset, one candidate and one request. Nothing here holds a prod write
grant: a write to prod raises :class:`~governance.errors.EnvironmentViolation`, which is
recorded in the ledger and re-raised.
"""

from __future__ import annotations

import json
import logging
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance import ledger, mlflow_mirror
from governance.drift.monitor import CLOSED
from governance.drift.policy import Policy
from governance.errors import DataError, EnvironmentViolation, GovernanceError
from governance.registry import Registry
from governance.response import state, steps
from governance.response.state import Response
from governance.warehouse import Warehouse

log = logging.getLogger(__name__)
ACTOR = "system:drift-response"
Progress = Callable[[str], None]


@dataclass(frozen=True)
class Outcome:
    """Where a response stands after :func:`respond`.

    Attributes:
        incident_id: The incident.
        model: Its model.
        step: Last completed step (see :data:`governance.response.state.STEPS`).
        failed_step: The step that failed in this run, or ``None``.
        problems: Why it failed (validation findings or the error).
        approval_id: The pending request, once opened.
        candidate_version: The UAT candidate version, once trained.
    """

    incident_id: str
    model: str
    step: str
    failed_step: str | None = None
    problems: tuple[str, ...] = ()
    approval_id: str | None = None
    candidate_version: str | None = None

    @property
    def ok(self) -> bool:
        """True when no step failed."""
        return self.failed_step is None


@dataclass
class Run:
    """What the steps share during one :func:`respond` call."""

    warehouse: Warehouse
    uat: Registry
    prod: Registry
    policy: Policy
    incident: dict[str, Any]
    model: dict[str, Any]
    workdir: Path
    progress: Progress
    cache: dict[str, Any] = field(default_factory=dict)


# Looked up by name at run time, so a test can replace one step with a failing one.
_NEXT = {"started": "refresh", "refresh_staged": "train", "candidate_trained": "evaluate",
         "candidate_evaluated": "request"}


def respond(warehouse: Warehouse, uat: Registry, prod: Registry, incident_id: str, *,
            policy: Policy, requested_by: str = ACTOR,
            progress: Progress = log.info) -> Outcome:
    """Run (or resume) the drift response to ``incident_id`` up to an approval request.

    Args:
        warehouse: The governance store.
        uat: The UAT registry (written).
        prod: The prod registry (read: the champion's files).
        incident_id: The incident to answer.
        policy: Gates for validation and qualification (``[response]``).
        requested_by: Who asks: ``system:drift-response`` or the signed-in data scientist.
        progress: Called with one line per step.

    Returns:
        Where the response stands; a failed step is recorded, not raised.

    Raises:
        DataError: The incident does not exist or its model has no prod champion.
        WorkspaceBusy: Another runner is working on this incident.
        EnvironmentViolation: A step tried to write prod (recorded in the ledger first).
    """
    owner = state.new_owner()
    with warehouse.session() as session:
        incident = _incident(session, incident_id)
        if incident["status"] in CLOSED:
            raise DataError(f"incident {incident_id} is {incident['status']}: there is nothing "
                            "to respond to", hint="only open incidents get a candidate")
        model = _model(session, incident["model_name"])
        current = state.claim(session, incident_id=incident_id, model=incident["model_name"],
                              champion_version=str(model["prod_version"]),
                              requested_by=requested_by, owner=owner)
    failed: str | None = None
    try:
        with tempfile.TemporaryDirectory(prefix="driftgate-response-") as tmp:
            run = Run(warehouse, uat, prod, policy, incident, model, Path(tmp), progress,
                      {"champion_version": current.champion_version})
            while not current.done and failed is None:
                name = _NEXT[current.step]
                progress(f"{incident_id}: {name} ...")
                current, failed = _attempt(run, current, name, getattr(steps, name))
                progress(f"{incident_id}: {_describe(current, failed)}")
    finally:
        with warehouse.session() as session:
            state.release(session, incident_id, owner)
    mlflow_mirror.refresh_after(warehouse, {"uat": uat, "prod": prod},
                                f"the response to {incident_id}")
    return Outcome(incident_id, current.model_name, current.step, failed,
                   current.problems if failed else (), current.approval_id,
                   current.candidate_version)


def _attempt(run: Run, current: Response, name: str,
             step: Callable[[Run, Response], Response]) -> tuple[Response, str | None]:
    """Run one step; a failure is recorded with its reasons and ends this call."""
    try:
        return step(run, current), None
    except EnvironmentViolation as exc:
        _record_violation(run, current, name, exc)
        raise
    except steps.Rejected as exc:
        problems = exc.problems
    except GovernanceError as exc:
        problems = (f"{exc}" + (f" ({exc.hint})" if exc.hint else ""),)
    except Exception as exc:  # a trainer or MLflow failure: record it, then stop here
        log.warning("drift response %s: step %s failed", current.incident_id, name,
                    exc_info=True)
        problems = (f"{type(exc).__name__}: {exc}",)
    with run.warehouse.session() as session:
        updated = state.record(session, current, current.step, failed_step=name,
                               problems=problems)
        ledger.append(session, actor=ACTOR, environment="uat",
                      event_type=state.FAILED_STATUS[name], subject=current.incident_id,
                      payload={"model": current.model_name, "step": name,
                               "problems": list(problems), "completed_step": current.step})
    return updated, name


def _record_violation(run: Run, current: Response, name: str, exc: EnvironmentViolation) -> None:
    with run.warehouse.session() as session:
        ledger.append(session, actor=ACTOR, environment="prod",
                      event_type="environment_violation", subject=current.incident_id,
                      payload={"model": current.model_name, "step": name, "error": str(exc)})


def _describe(current: Response, failed: str | None) -> str:
    if failed:
        return f"{failed} failed: " + "; ".join(current.problems)
    return current.step.replace("_", " ")


def _incident(session: Any, incident_id: str) -> dict[str, Any]:
    rows = session.fetch_rows("incidents/get", {"incident_id": incident_id})
    if not rows:
        raise DataError(f"no incident {incident_id!r}",
                        hint="see the open incidents on the overview page or "
                        "`python -m governance response list`")
    return dict(rows[0])


def _model(session: Any, name: str) -> dict[str, Any]:
    """The governed model's row plus its prod champion from the ledger."""
    rows = [r for r in session.fetch_rows("models/list") if r["model_name"] == name]
    promoted = ledger.latest_by_type(session, "model_promoted").get(name)
    if not rows or promoted is None:
        raise DataError(f"{name} has no production champion to retrain from")
    return {**rows[0], "prod_version": promoted.payload["prod_version"],
            "uat_version": promoted.payload["uat_version"],
            "champion_run_id": promoted.payload["source_run_id"],
            "features": json.loads(rows[0]["features"]),
            "categorical": json.loads(rows[0]["categorical"])}


def respond_to(warehouse: Warehouse, uat: Registry, prod: Registry, incident_ids: list[str], *,
               policy: Policy, progress: Progress = log.info) -> list[Outcome]:
    """Respond to several incidents (the monitor's freshly opened ones), one after another."""
    return [respond(warehouse, uat, prod, i, policy=policy, progress=progress)
            for i in incident_ids]


def unfinished(warehouse: Warehouse, *, automatic: bool = False) -> list[str]:
    """Open incidents whose response has not reached a final step, oldest first.

    With ``automatic`` (the monitor's hand-off), only incidents whose response never started
    or stopped at the refresh: a refresh usually fails for want of labels from the drifted
    period, which arrive with later windows. Training or evaluation failures wait for a person
    (``response run`` or the drift page), so a deterministic failure is not retried forever.
    """
    with warehouse.session() as session:
        responses = {r.incident_id: r for r in state.all_responses(session)}
        rows = session.fetch_rows("incidents/list")
    out = []
    for row in reversed(rows):
        r = responses.get(row["incident_id"])
        if row["status"] in CLOSED or (r is not None and r.done):
            continue
        if automatic and r is not None and r.step != "started":
            continue
        out.append(row["incident_id"])
    return out
