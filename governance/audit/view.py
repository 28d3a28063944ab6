"""Read model of the audit view: filtered, sorted, paged rows straight from SQL.

Every filter, the sort, the paging and the counts run in the warehouse (``queries/audit``), so
the page costs the same on a workspace with a million ledger entries as on the demo: Python
only ever sees one page of rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Generic, TypeVar

from governance.errors import DataError
from governance.ledger import LedgerEntry
from governance.warehouse import Session

T = TypeVar("T")
EARLIEST = datetime(1970, 1, 1)
LATEST = datetime(9999, 12, 31)
VERSION_SORTS = ("live_from", "model", "approver", "incident")
MAX_PAGE = 500


@dataclass(frozen=True)
class AuditFilter:
    """What the auditor narrowed the view to; empty text means "any".

    Attributes:
        model: Model name.
        environment: ``uat``, ``prod`` or ``global`` (events only).
        event_type: Ledger event type (events only).
        actor: ``user:<email>``, a bare e-mail or ``system:<job>``.
        search: Free text, matched case-insensitively.
        since: First day included (UTC).
        until: Last day included (UTC).
    """

    model: str = ""
    environment: str = ""
    event_type: str = ""
    actor: str = ""
    search: str = ""
    since: date | None = None
    until: date | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise DataError(f"the date range starts {self.since} after it ends {self.until}",
                            hint="pick a start date on or before the end date")

    def window(self) -> dict[str, datetime]:
        """``since``/``until`` as a half-open timestamp range for the queries."""
        start = datetime.combine(self.since, time()) if self.since else EARLIEST
        end = datetime.combine(self.until + timedelta(days=1), time()) if self.until else LATEST
        return {"since": start, "until": end}


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of rows and the filtered total."""

    rows: tuple[T, ...]
    total: int
    offset: int
    limit: int

    @property
    def pages(self) -> int:
        """Number of pages at this page size (at least 1)."""
        return max(1, -(-self.total // self.limit))


@dataclass(frozen=True)
class VersionRow:
    """One production model version and everything that explains it (see the query's header)."""

    model_name: str
    prod_version: str
    live_from: datetime
    live_until: datetime | None
    is_champion: bool
    reason: str
    approval_id: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def get(self, name: str) -> Any:
        """Any other column of the dashboard query by name (``None`` when absent)."""
        return self.fields.get(name)

    @property
    def drifted_features(self) -> tuple[str, ...]:
        """Features the incident behind this version flagged."""
        raw = self.fields.get("drifted_features")
        return tuple(json.loads(raw)) if raw else ()

    @property
    def gaps(self) -> tuple[str, ...]:
        """What an auditor would miss for this version, in words (empty when complete)."""
        missing = []
        if self.reason != "bootstrap" and not self.get("decided_by"):
            missing.append("no recorded approver")
        if self.get("candidate_run_id") and self.get("candidate_run_status") is None:
            missing.append("training run not found in MLflow")
        if self.get("prod_run_id") and self.get("prod_run_status") is None:
            missing.append("prod import run not found in MLflow")
        if not self.get("training_table"):
            missing.append("no training dataset recorded")
        elif not self.get("upstream_tables"):
            missing.append("training dataset has no upstream lineage")
        return tuple(missing)


def _page_args(offset: int, limit: int) -> dict[str, int]:
    if not 0 < limit <= MAX_PAGE:
        raise DataError(f"page size {limit} is out of range", hint=f"use 1 to {MAX_PAGE} rows")
    if offset < 0:
        raise DataError(f"page offset {offset} is negative", hint="start at 0")
    return {"max_rows": limit, "skip_rows": offset}


def model_versions(session: Session, where: AuditFilter, *, sort: str = "live_from",
                   descending: bool = True, offset: int = 0,
                   limit: int = 50) -> Page[VersionRow]:
    """One page of the single dashboard query (``audit/model_versions``).

    Raises:
        DataError: Unknown sort key or a bad page.
    """
    if sort not in VERSION_SORTS:
        raise DataError(f"cannot sort by {sort!r}", hint=f"use one of {', '.join(VERSION_SORTS)}")
    params = {"model_name": where.model, "actor": where.actor, "search": where.search.strip(),
              "sort": sort, "descending": descending, **where.window(),
              **_page_args(offset, limit)}
    rows = session.fetch_rows("audit/model_versions", params)
    total = int(rows[0]["total_rows"]) if rows else _empty_total(session, where, offset)
    return Page(tuple(_version(r) for r in rows), total, offset, limit)


def _empty_total(session: Session, where: AuditFilter, offset: int) -> int:
    """A page past the end is empty, but the total is still wanted for the pager."""
    if offset == 0:
        return 0
    first = model_versions(session, where, offset=0, limit=1)
    return first.total


def _version(row: Mapping[str, Any]) -> VersionRow:
    rest = {k: v for k, v in row.items() if k != "total_rows"}
    return VersionRow(str(row["model_name"]), str(row["prod_version"]), row["live_from"],
                      row["live_until"], bool(row["is_champion"]), str(row["reason"] or ""),
                      str(row["approval_id"] or ""), rest)


def events(session: Session, where: AuditFilter, *, descending: bool = True, offset: int = 0,
           limit: int = 50) -> Page[LedgerEntry]:
    """One page of ledger entries matching ``where`` (``audit/events``)."""
    params = {**_event_params(where), "descending": descending, **_page_args(offset, limit)}
    rows = session.fetch_rows("audit/events", params)
    total = sum(c.n for c in event_counts(session, where))
    return Page(tuple(entry_from_row(r) for r in rows), total, offset, limit)


def iter_events(session: Session, where: AuditFilter, *,
                descending: bool = True) -> Iterator[LedgerEntry]:
    """Every entry matching ``where``, streamed in one query (for exports of any size)."""
    params = {**_event_params(where), "descending": descending, "max_rows": 2**31 - 1,
              "skip_rows": 0}
    for row in session.iterate("audit/events", params):
        yield entry_from_row(dict(zip(_EVENT_COLUMNS, row, strict=True)))


_EVENT_COLUMNS = ("seq", "event_time", "actor", "environment", "event_type", "subject",
                  "payload", "hash")


def entry_from_row(row: Mapping[str, Any]) -> LedgerEntry:
    """An entry for display; an unreadable payload is shown as text, not hidden."""
    try:
        payload = json.loads(row["payload"])
        if not isinstance(payload, dict):
            raise ValueError("not an object")
    except ValueError:
        payload = {"unreadable_payload": str(row["payload"])}
    return LedgerEntry(int(row["seq"]), row["event_time"], row["actor"], row["environment"],
                       row["event_type"], row["subject"], payload, row["hash"])


@dataclass(frozen=True)
class EventCount:
    """Entries of one type in one environment within the filtered time range."""

    event_type: str
    environment: str
    n: int
    first_time: datetime
    last_time: datetime


def _event_params(where: AuditFilter) -> dict[str, Any]:
    return {"model_name": where.model, "environment": where.environment,
            "event_type": where.event_type, "actor": where.actor.strip(),
            "search": where.search.strip(), **where.window()}


def event_counts(session: Session, where: AuditFilter) -> tuple[EventCount, ...]:
    """Entries per type and environment matching ``where`` (aggregated in SQL)."""
    rows = session.fetch_rows("audit/event_counts", _event_params(where))
    return tuple(EventCount(r["event_type"], r["environment"], int(r["n"]), r["first_time"],
                            r["last_time"]) for r in rows)


@dataclass(frozen=True)
class Facets:
    """Choices for the filter pickers."""

    models: tuple[str, ...]
    event_types: tuple[str, ...]
    actors: tuple[str, ...]


def facets(session: Session) -> Facets:
    """Models, event types and actors present in the store."""
    found: dict[str, list[str]] = {"model": [], "event_type": [], "actor": []}
    for row in session.fetch_rows("audit/facets"):
        found[row["kind"]].append(str(row["value"]))
    return Facets(*(tuple(sorted(set(found[k]))) for k in ("model", "event_type", "actor")))


@dataclass(frozen=True)
class LiveVersion:
    """The version live in one environment at a moment, and since when."""

    model_name: str
    environment: str
    version: str
    since: datetime
    approval_id: str | None
    seq: int


def as_of(session: Session, moment: datetime) -> tuple[LiveVersion, ...]:
    """Which version was prod's champion (and uat's newest) for every model at ``moment``."""
    rows = session.fetch_rows("audit/as_of", {"as_of": moment})
    return tuple(LiveVersion(r["model_name"], r["environment"], str(r["version"]), r["since"],
                             r["approval_id"], int(r["seq"])) for r in rows)


def champions_at(versions: Sequence[LiveVersion], environment: str = "prod") -> dict[str, str]:
    """``{model: version}`` for one environment of an :func:`as_of` answer."""
    return {v.model_name: v.version for v in versions if v.environment == environment}


def context_version(session: Session) -> tuple[Any, ...]:
    """A cheap key of what audit reads depend on besides the verified ledger rows: the newest
    entry, and the MLflow runs and lineage tables (they change without a ledger entry)."""
    row = session.fetch_rows("audit/context_version")[0]
    return tuple(row.values())
