"""The audit ledger: an append-only, hash-chained log of every governance action.

Each entry's hash is ``sha256(prev_hash || canonical_json(entry))`` where the entry is its
``seq``, ``time``, ``actor``, ``environment``, ``type``, ``subject`` and ``payload``, and the
first entry chains to :data:`GENESIS`. Changing, removing, inserting or reordering any stored
entry breaks the chain at or after that point, which :func:`verify` reports. The chain proves
integrity, not completeness of the tail: publish :attr:`Verification.head_hash` elsewhere
(a ticket, a signed e-mail) to pin it.

There is no update or delete anywhere in this module or its queries, by design.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from governance.errors import LedgerError
from governance.warehouse import Session

GENESIS = "0" * 64
ENVIRONMENTS = frozenset({"uat", "prod", "global"})
_TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_TYPE_RE = re.compile(r"^[a-z][a-z0-9_]*$")


def canonical_json(value: Any) -> str:
    """Serialise ``value`` deterministically: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False)


def utc_now() -> datetime:
    """Return the current UTC time as a naive datetime (how the store keeps times)."""
    return datetime.now(UTC).replace(tzinfo=None)


@dataclass(frozen=True)
class LedgerEntry:
    """One stored ledger entry. ``time`` is naive UTC; ``payload`` is a JSON object."""

    seq: int
    time: datetime
    actor: str
    environment: str
    type: str
    subject: str
    payload: Mapping[str, Any]
    hash: str

    def body(self) -> dict[str, Any]:
        """The hashed fields, as a plain dict."""
        return {
            "seq": self.seq,
            "time": self.time.strftime(_TIME_FORMAT),
            "actor": self.actor,
            "environment": self.environment,
            "type": self.type,
            "subject": self.subject,
            "payload": dict(self.payload),
        }

    def to_json(self) -> dict[str, Any]:
        """The entry as a JSON-ready dict (the format of ``ledger show --format json``)."""
        return {**self.body(), "hash": self.hash}


def entry_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """Return ``sha256(prev_hash || canonical_json(body))`` as hex."""
    return hashlib.sha256((prev_hash + canonical_json(dict(body))).encode("utf-8")).hexdigest()


def append(
    session: Session,
    *,
    actor: str,
    environment: str,
    event_type: str,
    subject: str,
    payload: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> LedgerEntry:
    """Append one entry inside the caller's unit of work.

    The entry commits or rolls back with the caller's own state change, so the ledger never
    records an action that did not happen, nor misses one that did.

    Args:
        session: The caller's open unit of work.
        actor: ``user:<email>`` from authentication, or ``system:<job>``.
        environment: ``uat``, ``prod`` or ``global``.
        event_type: Lower-case snake case, e.g. ``drift_detected``.
        subject: What the entry is about, e.g. ``demand_forecast/3`` or an incident id.
        payload: JSON-serialisable details.
        now: Override the entry time (tests); defaults to the current UTC time.

    Returns:
        The stored entry.

    Raises:
        LedgerError: An argument is invalid or the payload is not JSON-serialisable.
    """
    if not actor or not subject:
        raise LedgerError("ledger entries need a non-empty actor and subject")
    if environment not in ENVIRONMENTS:
        raise LedgerError(f"environment {environment!r} is not one of {sorted(ENVIRONMENTS)}")
    if not _TYPE_RE.fullmatch(event_type):
        raise LedgerError(f"event type {event_type!r} must be lower_snake_case")
    try:
        payload_text = canonical_json(dict(payload or {}))
    except (TypeError, ValueError) as exc:
        raise LedgerError(f"payload of {event_type} is not JSON-serialisable: {exc}") from exc
    try:
        # Text the store cannot hold as UTF-8 (lone surrogates) must fail here, not mid-write.
        for text in (actor, subject, payload_text):
            text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise LedgerError(f"entry of {event_type} holds text that is not UTF-8: {exc}") from exc
    head = session.fetch_rows("ledger/head")
    prev_seq, prev_hash = (head[0]["seq"], head[0]["hash"]) if head else (0, GENESIS)
    time = now or utc_now()
    if time.tzinfo is not None:
        time = time.astimezone(UTC)
    time = time.replace(tzinfo=None)
    entry = LedgerEntry(
        prev_seq + 1, time, actor, environment, event_type, subject, json.loads(payload_text), ""
    )
    digest = entry_hash(prev_hash, entry.body())
    session.execute(
        "ledger/append",
        {
            "seq": entry.seq,
            "event_time": time,
            "actor": actor,
            "environment": environment,
            "event_type": event_type,
            "subject": subject,
            "payload": payload_text,
            "hash": digest,
        },
    )
    return LedgerEntry(**{**entry.__dict__, "hash": digest})


def _entry_from_row(row: tuple[Any, ...]) -> LedgerEntry:
    seq, time, actor, environment, event_type, subject, payload, digest = row
    parsed = json.loads(payload)
    if not isinstance(parsed, dict):
        raise ValueError(f"payload is {type(parsed).__name__}, not a JSON object")
    return LedgerEntry(int(seq), time, actor, environment, event_type, subject, parsed, digest)


@dataclass(frozen=True)
class Verification:
    """Result of walking the chain.

    Attributes:
        intact: True when every entry chains correctly.
        entries: Entries read.
        broken_seq: Sequence number of the first broken entry (``None`` when intact).
        reason: Why that entry is broken.
        head_hash: Hash of the last good entry (publish it to pin the chain).
    """

    intact: bool
    entries: int
    broken_seq: int | None = None
    reason: str = ""
    head_hash: str = GENESIS

    def summary(self) -> str:
        """One line for the CLI and the dashboard."""
        if self.intact:
            return f"intact: {self.entries} entries (head {self.head_hash[:12]})"
        return f"BROKEN at entry {self.broken_seq}: {self.reason}"


_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                            allow_nan=False)
_DECODER = json.JSONDecoder()
_text = json.encoder.encode_basestring  # what canonical_json writes for a str (ensure_ascii=False)


def body_text(seq: int, time_text: str, actor: str, environment: str, event_type: str,
              subject: str, payload_text: str) -> str:
    """``canonical_json(entry.body())`` from its parts, ``payload_text`` already canonical and
    ``time_text`` the ``YYYY-MM-DDTHH:MM:SS.ffffff`` form (the ``Z`` is added here).

    Written out by hand because the walk (and the large demo's bulk writer) does this a million
    times: the keys are already in sorted order and the payload is spliced in as given.
    :func:`entry_hash` stays the definition; the ledger property tests hold the two together.
    """
    return (f'{{"actor":{_text(actor)},"environment":{_text(environment)},'
            f'"payload":{payload_text},"seq":{int(seq)},"subject":{_text(subject)},'
            f'"time":"{time_text}Z","type":{_text(event_type)}}}')


def _body_text(row: tuple[Any, ...]) -> str:
    """:func:`body_text` of a stored row (``ledger/all_entries`` column order)."""
    seq, time, actor, environment, event_type, subject, payload = row[:7]
    return body_text(seq, time.isoformat(timespec="microseconds"), actor, environment,
                     event_type, subject, payload)


def verify_rows(rows: Iterable[tuple[Any, ...]], *, after: tuple[int, str] = (0, GENESIS)
                ) -> Verification:
    """Verify stored rows (``ledger/all_entries`` column order) in sequence order.

    Args:
        rows: The rows, oldest first.
        after: ``(seq, hash)`` of an already verified entry the rows continue from (the
            default is the start of the chain). ``entries`` then counts only these rows.
    """
    prev_hash, expected, count = after[1], after[0] + 1, 0
    for row in rows:
        count += 1
        seq = int(row[0])
        if seq != expected:
            what = "missing" if seq > expected else "duplicate or out of order"
            return Verification(False, count, expected, f"entry {expected} is {what} "
                                f"(found {seq})", prev_hash)
        try:
            parsed = _DECODER.decode(row[6])
            if not isinstance(parsed, dict):
                raise ValueError(f"payload is {type(parsed).__name__}, not a JSON object")
            # The stored text must be the canonical form: otherwise two readers can disagree
            # (duplicate keys: Python keeps the last, DuckDB's JSON functions the first).
            if row[6] != _ENCODER.encode(parsed):
                return Verification(False, count, seq, "payload text is not canonical JSON",
                                    prev_hash)
            digest = hashlib.sha256((prev_hash + _body_text(row)).encode("utf-8")).hexdigest()
            matches = digest == row[7]
        except (ValueError, TypeError, AttributeError) as exc:
            return Verification(False, count, seq, f"unreadable entry: {exc}", prev_hash)
        if not matches:
            return Verification(False, count, seq, "stored hash does not match its content "
                                "and predecessor", prev_hash)
        prev_hash, expected = row[7], expected + 1
    return Verification(True, count, None, "", prev_hash)


def verify(session: Session) -> Verification:
    """Walk the whole chain, streaming rows, and report the first broken entry."""
    return verify_rows(session.iterate("ledger/all_entries"))


def _readable(row: tuple[Any, ...]) -> LedgerEntry:
    """An entry for display; an unreadable one is a ledger error, not a crash."""
    try:
        return _entry_from_row(row)
    except (ValueError, TypeError) as exc:
        raise LedgerError(f"ledger entry {row[0]} is unreadable: {exc}",
                          hint="run `python -m governance ledger verify` to find where the "
                          "ledger was tampered with") from exc


def entries(
    session: Session,
    *,
    event_type: str | None = None,
    since: datetime | None = None,
    limit: int = 100_000,
) -> Iterator[LedgerEntry]:
    """Yield entries oldest first, optionally filtered by type and time."""
    if since is not None and since.tzinfo is not None:
        since = since.astimezone(UTC).replace(tzinfo=None)  # the store keeps naive UTC
    params = {
        "event_type": event_type or "",
        "since": since or datetime(1970, 1, 1),
        "max_rows": limit,
    }
    for row in session.iterate("ledger/entries", params):
        yield _readable(row)


def entry(session: Session, seq: int) -> LedgerEntry | None:
    """The entry with sequence number ``seq``, or ``None``."""
    rows = list(session.iterate("ledger/by_seq", {"seq": seq}))
    return _readable(rows[0]) if rows else None


def latest_by_type(session: Session, event_type: str) -> dict[str, LedgerEntry]:
    """Return the newest entry of ``event_type`` for each subject."""
    return {
        e.subject: e
        for e in map(_readable, session.iterate("ledger/latest_by_type",
                                                      {"event_type": event_type}))
    }
