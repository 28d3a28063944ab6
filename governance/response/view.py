"""What the dashboard shows of a model's drift response: incident, steps, evaluations."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from governance import ledger
from governance.drift.monitor import CLOSED
from governance.response import state
from governance.warehouse import Session


@dataclass(frozen=True)
class Evaluation:
    """One model scored by the harness."""

    role: str
    environment: str
    model_version: str
    harness: str
    harness_version: str
    n_rows: int
    metrics: dict[str, float | None]


@dataclass(frozen=True)
class ResponseView:
    """A model's newest incident and how far its response got.

    Attributes:
        incident_id: The incident.
        status: The incident's status (``open``, ``refresh_failed``, ``awaiting_approval``...).
        windows: First and last drifted window start/end.
        drifted_features: Features drifted in the latest window.
        response: The response row, or ``None`` when nothing ran yet.
        evaluations: Champion and candidate harness results (empty before evaluation).
        can_run: True when "prepare candidate" has something to do.
        verdict: The policy's sentence on the candidate, once evaluated.
        qualifies: Whether the candidate qualified, once evaluated.
    """

    incident_id: str
    status: str
    windows: tuple[date, date]
    drifted_features: tuple[str, ...]
    response: state.Response | None
    evaluations: tuple[Evaluation, ...]
    can_run: bool
    verdict: str | None = None
    qualifies: bool | None = None


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def for_model(session: Session, model: str) -> ResponseView | None:
    """The newest incident of ``model`` with its response, or ``None`` without incidents."""
    rows = session.fetch_rows("incidents/latest_for_model", {"model_name": model})
    if not rows:
        return None
    incident = rows[0]
    current = state.get(session, incident["incident_id"])
    evaluations = tuple(
        Evaluation(r["role"], r["environment"], r["model_version"], r["harness"],
                   r["harness_version"], int(r["n_rows"]), json.loads(r["metrics"]))
        for r in session.fetch_rows("evaluations/for_incident",
                                    {"incident_id": incident["incident_id"]}))
    open_ = incident["status"] not in CLOSED
    evaluated = ledger.latest_by_type(session, "candidate_evaluated").get(incident["incident_id"])
    verdict = evaluated.payload["verdict"] if evaluated else {}
    return ResponseView(
        incident_id=incident["incident_id"], status=incident["status"],
        windows=(_day(incident["first_window"]), _day(incident["last_window"])),
        drifted_features=tuple(json.loads(incident["drifted_features"])),
        response=current, evaluations=evaluations,
        can_run=open_ and (current is None or not current.done),
        verdict=verdict.get("reason"), qualifies=verdict.get("qualifies"),
    )
