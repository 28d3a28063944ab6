"""What an auditor can open a trail for: production versions and drift incidents.

The dashboard query lists production versions only; an incident still waiting for a decision
(or rejected) has no version yet, so the audit view offers incidents from their own table.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from governance.audit import view
from governance.audit.view import AuditFilter, VersionRow
from governance.warehouse import Session


@dataclass(frozen=True)
class IncidentChoice:
    """One incident as the audit view's picker shows it.

    Attributes:
        incident_id: ``INC-<model>-<first window>``.
        model_name: The model whose inputs drifted.
        status: ``open``, ``candidate_ready``, ``promoted``, ...
        opened_at: When the monitor opened it (UTC).
        first_window: Start of its first drifted window.
    """

    incident_id: str
    model_name: str
    status: str
    opened_at: datetime
    first_window: date | None

    def label(self) -> str:
        """``INC-demand_forecast-20261005 · open``."""
        return f"{self.incident_id} · {self.status}"


def incidents(session: Session, model: str = "") -> tuple[IncidentChoice, ...]:
    """Every incident (of ``model`` when given), newest first."""
    return tuple(
        IncidentChoice(str(r["incident_id"]), str(r["model_name"]), str(r["status"]),
                       r["opened_at"], r["first_window"])
        for r in session.fetch_rows("incidents/list")
        if not model or r["model_name"] == model
    )


def version_row(session: Session, model: str, prod_version: str) -> VersionRow | None:
    """The dashboard row of one production version (``None`` when it was never promoted).

    Used for an incident's trail, whose version need not be on the page the auditor sees.
    """
    offset = 0
    while True:
        page = view.model_versions(session, AuditFilter(model=model), sort="model",
                                   offset=offset, limit=view.MAX_PAGE)
        found = next((r for r in page.rows if r.prod_version == str(prod_version)), None)
        offset += len(page.rows)
        if found is not None or not page.rows or offset >= page.total:
            return found
