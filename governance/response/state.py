"""Where each incident's drift response stands, and the lease that keeps runners apart.

One ``governance.responses`` row per incident records the last *completed* step, the artefacts
the steps produced and the last failure. A step's state change, its incident status and its
ledger entry commit in one unit of work, so after a crash the row says exactly where to resume.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from governance import ledger
from governance.errors import WorkspaceBusy
from governance.warehouse import Session

LEASE = timedelta(minutes=30)
#: Completed steps in order; the last two are final.
STEPS = ("started", "refresh_staged", "candidate_trained", "candidate_evaluated",
         "approval_requested", "not_qualified")
FINAL = frozenset({"approval_requested", "not_qualified"})
#: The incident's status after each completed step, and after a failure in each step.
INCIDENT_STATUS = {
    "started": "responding", "refresh_staged": "refresh_staged",
    "candidate_trained": "candidate_trained", "candidate_evaluated": "candidate_evaluated",
    "approval_requested": "awaiting_approval", "not_qualified": "candidate_not_qualified",
}
FAILED_STATUS = {"refresh": "refresh_failed", "train": "candidate_failed",
                 "evaluate": "evaluation_failed", "request": "request_failed"}


@dataclass(frozen=True)
class Response:
    """One row of ``governance.responses``."""

    incident_id: str
    model_name: str
    champion_version: str
    step: str
    failed_step: str | None
    problems: tuple[str, ...]
    requested_by: str
    cutoff: date | None
    dataset_table: str | None
    dataset_digest: str | None
    dataset_rows: int | None
    holdout_table: str | None
    holdout_digest: str | None
    candidate_version: str | None
    candidate_run_id: str | None
    approval_id: str | None
    lease_owner: str | None
    lease_until: datetime | None
    started_at: datetime
    updated_at: datetime

    @property
    def done(self) -> bool:
        """True once the response reached a final step."""
        return self.step in FINAL


def _from_row(row: dict[str, Any]) -> Response:
    cutoff = row["cutoff"]
    return Response(**{**row, "problems": tuple(json.loads(row["problems"])),
                       "cutoff": cutoff.date() if isinstance(cutoff, datetime) else cutoff})


def get(session: Session, incident_id: str) -> Response | None:
    """The response to ``incident_id``, or ``None`` before it started."""
    rows = session.fetch_rows("response/get", {"incident_id": incident_id})
    return _from_row(rows[0]) if rows else None


def all_responses(session: Session) -> list[Response]:
    """Every response, newest first."""
    return [_from_row(r) for r in session.fetch_rows("response/list")]


def new_owner() -> str:
    """A lease owner id: host, process and a random part (two runners in one process differ)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def _holder_alive(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: only the lease expiry can tell
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim(session: Session, *, incident_id: str, model: str, champion_version: str,
          requested_by: str, owner: str) -> Response:
    """Start or resume the response to an incident, taking its lease.

    A lease whose holder died on this machine, or that expired, is taken over: that is how a
    rerun continues after a killed process.

    Raises:
        WorkspaceBusy: Another live runner holds the lease.
    """
    now = ledger.utc_now()
    lease = {"incident_id": incident_id, "lease_owner": owner, "lease_until": now + LEASE,
             "now": now}
    current = get(session, incident_id)
    if current is None:
        session.execute("response/start", {**lease, "model_name": model,
                                           "champion_version": champion_version,
                                           "requested_by": requested_by})
        session.execute("incidents/set_status", {"incident_id": incident_id,
                                                 "status": INCIDENT_STATUS["started"],
                                                 "updated_at": now})
    else:
        held = current.lease_owner and current.lease_until and current.lease_until > now
        if held and current.lease_owner != owner and _holder_alive(str(current.lease_owner)):
            raise WorkspaceBusy(
                f"the drift response to {incident_id} is already running "
                f"({current.lease_owner}, lease until {current.lease_until:%Y-%m-%d %H:%M} UTC)",
                hint="wait for it to finish, or retry after the lease expires")
        session.execute("response/claim", lease)
    found = get(session, incident_id)
    assert found is not None  # written just above, in this unit of work
    return found


def release(session: Session, incident_id: str, owner: str) -> None:
    """Give the lease back."""
    session.execute("response/release", {"incident_id": incident_id, "lease_owner": owner})


def record(session: Session, current: Response, step: str, *, failed_step: str | None = None,
           problems: tuple[str, ...] = (), **artefacts: Any) -> Response:
    """Record a completed ``step`` (or, with ``failed_step``, a failure) and move the incident's
    status; the caller appends the ledger entry in the same unit of work."""
    now = ledger.utc_now()
    columns = ("cutoff", "dataset_table", "dataset_digest", "dataset_rows", "holdout_table",
               "holdout_digest", "candidate_version", "candidate_run_id", "approval_id")
    unknown = set(artefacts) - set(columns)
    if unknown:
        raise TypeError(f"unknown response columns {sorted(unknown)}")
    session.execute("response/record_step", {
        "incident_id": current.incident_id, "step": step, "failed_step": failed_step,
        "problems": json.dumps(list(problems), ensure_ascii=False), "now": now,
        **{c: artefacts.get(c) for c in columns}})
    status = FAILED_STATUS[failed_step] if failed_step else INCIDENT_STATUS[step]
    session.execute("incidents/set_status", {"incident_id": current.incident_id,
                                             "status": status, "updated_at": now})
    found = get(session, current.incident_id)
    assert found is not None
    return found
