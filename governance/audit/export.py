"""CSV exports of the audit view: every row the current filter matches, not just one page.

Rows are fetched through the same paged queries as the page (``audit/model_versions`` and
``audit/events``) in chunks of :data:`CHUNK`, so an export of a large workspace never holds more
than one chunk of query results in Python; only the CSV text itself grows.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

from governance.audit import trail, view
from governance.audit.view import AuditFilter, Page, VersionRow
from governance.errors import DataError
from governance.ledger import LedgerEntry, canonical_json
from governance.warehouse import Session

T = TypeVar("T")
CHUNK = view.MAX_PAGE

#: Columns of the versions export: the dashboard query's columns, then the gaps in words.
VERSION_COLUMNS: tuple[str, ...] = (
    "model_name", "prod_version", "uat_version", "live_from", "live_until", "is_champion",
    "reason", "approval_id", "approval_state", "requested_by", "requested_at", "decided_by",
    "decided_at", "decision_comment", "signatures", "incident_id", "incident_status",
    "incident_opened_at", "first_window", "drift_score", "drifted_features", "training_table",
    "dataset_digest", "code_version", "feature_pipeline_version", "candidate_run_id",
    "candidate_experiment_id", "candidate_run_status", "candidate_run_author", "prod_run_id",
    "prod_experiment_id", "prod_run_status", "primary_metric", "candidate_metric",
    "champion_metric", "upstream_tables", "model_digest", "promoted_seq", "gaps",
)
#: Columns of the events export: the stored entry verbatim, plus its summary in words.
EVENT_COLUMNS: tuple[str, ...] = (
    "seq", "event_time", "actor", "environment", "event_type", "subject", "summary", "payload",
    "hash",
)
# Spreadsheets run a cell starting with one of these as a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: Any) -> str:
    """One CSV cell: ISO times, JSON for structures, formula-looking text defused."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    text = value if isinstance(value, str) else json.dumps(value, default=str, sort_keys=True)
    # A leading apostrophe makes a spreadsheet show the text instead of evaluating it; numbers
    # (including negative ones) never reach here, so no real value is altered.
    return f"'{text}" if text.startswith(_FORMULA_START) else text


def _chunks(load: Callable[[int, int], Page[T]], chunk: int) -> Iterator[T]:
    """Every row of a paged query, one SQL page of ``chunk`` rows at a time."""
    offset = 0
    while True:
        page = load(offset, chunk)
        yield from page.rows
        offset += len(page.rows)
        if len(page.rows) < chunk or offset >= page.total:
            return


def _write(header: Sequence[str], rows: Iterator[Sequence[Any]]) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    # UTF-8 with a byte-order mark: Excel otherwise reads names like "Müller" as cp1252.
    return out.getvalue().encode("utf-8-sig")


def version_record(row: VersionRow) -> tuple[Any, ...]:
    """One versions-export row in :data:`VERSION_COLUMNS` order."""
    return (*(row.get(c) for c in VERSION_COLUMNS[:-1]), "; ".join(row.gaps))


def event_record(entry: LedgerEntry) -> tuple[Any, ...]:
    """One events-export row in :data:`EVENT_COLUMNS` order (payload as canonical JSON)."""
    return (entry.seq, entry.time, entry.actor, entry.environment, entry.type, entry.subject,
            trail.summarize(entry), canonical_json(dict(entry.payload)), entry.hash)


def versions_csv(session: Session, where: AuditFilter, *, sort: str = "live_from",
                 descending: bool = True, chunk: int = CHUNK) -> bytes:
    """Every production model version matching ``where``, as CSV bytes (UTF-8 with BOM).

    Args:
        session: An open unit of work (one snapshot for the whole export).
        where: The audit view's filter.
        sort: A :data:`~governance.audit.view.VERSION_SORTS` key, as on the page.
        descending: Sort direction, as on the page.
        chunk: Rows fetched per query (1 to ``MAX_PAGE``).

    Raises:
        DataError: Unknown sort key or a bad chunk size.
    """
    rows = _chunks(lambda offset, limit: view.model_versions(
        session, where, sort=sort, descending=descending, offset=offset, limit=limit), chunk)
    return _write(VERSION_COLUMNS, (version_record(r) for r in rows))


def events_csv(session: Session, where: AuditFilter, *, descending: bool = True,
               chunk: int = CHUNK) -> bytes:
    """Every ledger entry matching ``where``, as CSV bytes (UTF-8 with BOM).

    Raises:
        DataError: A bad chunk size.
    """
    if not 0 < chunk <= view.MAX_PAGE:  # kept for the versions' signature; events stream
        raise DataError(f"page size {chunk} is out of range",
                        hint=f"use 1 to {view.MAX_PAGE} rows")
    # One streamed query: paging a million entries with OFFSET would re-scan for every chunk.
    rows = view.iter_events(session, where, descending=descending)
    return _write(EVENT_COLUMNS, (event_record(e) for e in rows))


def filename(kind: str, where: AuditFilter, now: datetime) -> str:
    """``audit-versions-basket_propensity-20261127T0230.csv``: what, which model, when."""
    scope = "".join(c if c.isalnum() or c in "-_" else "_" for c in where.model) or "all"
    return f"audit-{kind}-{scope}-{now:%Y%m%dT%H%M}.csv"
