"""Ledger status for the audit view: the full chain walk, cached and extended incrementally.

Walking a million entries takes seconds, too slow for every page render, yet the status must
always be current. The warehouse fingerprints the rows up to a sequence number (count, last
seq and an XOR of per-row hashes) in one scan. A verified prefix is remembered with its
fingerprint: while that fingerprint is unchanged, those rows are the ones that were walked, so
only entries appended since are walked, starting from the remembered head hash. Any edit or
delete inside the prefix changes its fingerprint and the whole chain is walked again. The
fingerprint is a cache key, not evidence: the evidence is the walk
(:func:`governance.ledger.verify_rows`), and ``python -m governance ledger verify`` always walks
everything.

:func:`check` never blocks a page on a long walk: it answers from the cache when it can and
otherwise walks in a background thread, in short units of work, reporting progress.
"""

from __future__ import annotations

import atexit
import contextlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance import ledger
from governance.warehouse import Session, Warehouse

CHUNK = 50_000
#: Walks shorter than this run inline even from :func:`check`.
INLINE_ROWS = 20_000
#: :func:`check` re-fingerprints an unchanged-looking ledger at most this often: a page rerun
#: per click must not rescan a million rows each time, and two seconds of staleness is within
#: what "always visible" can mean. :func:`status` always checks.
RECHECK_SECONDS = 2.0
#: Seconds a background walk waits before it starts (see :func:`_walk`).
WALK_DELAY = 1.0


@dataclass(frozen=True)
class LedgerStatus:
    """What the audit view shows about the chain.

    Attributes:
        verification: The walk's result (intact, or the first broken entry).
        fingerprint: ``(entries, last seq, checksum)`` of the rows it describes.
        cached: True when no entry had to be walked for this answer.
        seconds: How long the walk took when it ran.
        verified_at: When the walk behind this answer finished (naive UTC).
    """

    verification: ledger.Verification
    fingerprint: tuple[int, int, str]
    cached: bool
    seconds: float
    verified_at: datetime

    @property
    def intact(self) -> bool:
        """True when every entry chains to its predecessor."""
        return self.verification.intact


@dataclass(frozen=True)
class Pending:
    """A background walk in progress: ``walked`` of about ``total`` entries so far."""

    walked: int
    total: int
    seconds: float


@dataclass
class _Known:
    fingerprint: tuple[int, int, str]
    verification: ledger.Verification
    verified_at: datetime
    checked: float = 0.0  # time.monotonic() when the prefix was last seen unchanged

    @property
    def upto(self) -> int:
        return self.fingerprint[1]


_KNOWN: dict[str, _Known] = {}
_WALKS: dict[str, dict[str, Any]] = {}
_LOCK = threading.Lock()
_STOP = threading.Event()


def fingerprint(session: Session, upto: int | None = None,
                after: int = 0) -> tuple[int, int, str]:
    """``(row count, max seq, checksum)`` of the ledger rows with ``after < seq <= upto`` (to
    the end when ``upto`` is ``None``), computed in SQL."""
    row = session.fetch_rows("audit/ledger_fingerprint",
                             {"after": after, "upto": 2**62 if upto is None else upto})[0]
    return int(row["n"] or 0), int(row["max_seq"] or 0), str(row["checksum"] or "")


def _joined(prefix: tuple[int, int, str], tail: tuple[int, int, str]) -> tuple[int, int, str]:
    """The fingerprint of two adjacent seq ranges, as one scan of both would give it (count
    adds, the max is the tail's, XOR composes; the engines print it as a decimal integer)."""
    if not tail[0]:
        return prefix
    if not prefix[0]:
        return tail
    return prefix[0] + tail[0], tail[1], str(int(prefix[2]) ^ int(tail[2]))


def _head(session: Session) -> int:
    rows = session.fetch_rows("ledger/head")
    return int(rows[0]["seq"]) if rows else 0


def _plan(session: Session, workspace: str, *, recheck: float = 0.0
          ) -> tuple[int, _Known | None]:
    """The newest seq, and a remembered verified prefix whose rows are all unchanged.

    One fingerprint scan (of the prefix) per call, the only per-render cost on a big ledger;
    skipped when the same head was confirmed less than ``recheck`` seconds ago.
    """
    head = _head(session)
    with _LOCK:
        known = _KNOWN.get(workspace)
    if known is None or known.upto > head:
        return head, None
    now = time.monotonic()
    if known.upto == head and now - known.checked < recheck:
        return head, known
    if fingerprint(session, known.upto) != known.fingerprint:
        return head, None
    known.checked = now
    return head, known


def _combine(known: _Known | None, walked: ledger.Verification) -> ledger.Verification:
    if known is None:
        return walked
    return ledger.Verification(walked.intact, known.verification.entries + walked.entries,
                               walked.broken_seq, walked.reason, walked.head_hash)


def _remember(workspace: str, whole: tuple[int, int, str],
              result: ledger.Verification) -> _Known:
    known = _Known(whole, result, ledger.utc_now(), time.monotonic())
    with _LOCK:
        _KNOWN[workspace] = known
    return known


def _answer(known: _Known, cached: bool, seconds: float = 0.0) -> LedgerStatus:
    return LedgerStatus(known.verification, known.fingerprint, cached, seconds,
                        known.verified_at)


def status(session: Session, workspace: str) -> LedgerStatus:
    """Verify the chain now, walking only entries not verified before in this process.

    Args:
        session: An open unit of work.
        workspace: Identifies the store (e.g. ``Warehouse.describe()``), so two workspaces
            never share a result.
    """
    head, known = _plan(session, workspace)
    return _settle(session, workspace, head, known)


def _settle(session: Session, workspace: str, head: int, known: _Known | None) -> LedgerStatus:
    """The status given a plan: the remembered answer, or a walk of what it does not cover."""
    if known is not None and (known.upto == head or not known.verification.intact):
        return _answer(known, cached=True)
    started = time.perf_counter()
    after = (known.upto, known.verification.head_hash) if known else (0, ledger.GENESIS)
    # Up to the head read above, never past it: on a warehouse without snapshot reads
    # (Databricks) rows appended meanwhile would otherwise be walked but not fingerprinted.
    rows = session.iterate("audit/ledger_after",
                           {"after_seq": after[0], "max_rows": max(head - after[0], 0)})
    try:
        result = _combine(known, ledger.verify_rows(rows, after=after))
    finally:
        close = getattr(rows, "close", None)
        if close is not None:  # a broken entry stops the walk mid-stream: end the stream
            close()
    # The walk read inside this unit of work, so the rows it saw are the rows fingerprinted;
    # a known prefix was fingerprinted by the plan, so only the walked tail is scanned here.
    whole = (_joined(known.fingerprint, fingerprint(session, head, after=known.upto))
             if known is not None else fingerprint(session, head))
    fresh = _remember(workspace, whole, result)
    return _answer(fresh, cached=False, seconds=time.perf_counter() - started)


def check(warehouse: Warehouse, session: Session | None = None) -> LedgerStatus | Pending:
    """The status without blocking on a long walk.

    Answers from what is known when nothing changed, walks a short tail inline, and otherwise
    starts (or reports on) a background walk; call again to pick up its result.

    Args:
        warehouse: The store (the background walk opens its own short units of work).
        session: The caller's open unit of work to check in, if it has one.
    """
    workspace = warehouse.describe()
    with contextlib.ExitStack() as stack:
        if session is None:
            session = stack.enter_context(warehouse.session())
        head, known = _plan(session, workspace, recheck=RECHECK_SECONDS)
        todo = head - (known.upto if known else 0)
        if known is not None and (todo == 0 or not known.verification.intact):
            return _answer(known, cached=True)
        if todo <= INLINE_ROWS:
            return _settle(session, workspace, head, known)
    with _LOCK:
        walk = _WALKS.get(workspace)
        failed = walk is not None and walk["done"] and walk["error"] is not None
        if failed:
            del _WALKS[workspace]  # report once; the next call walks again
        elif walk is None or walk["done"]:
            walk = {"walked": 0, "total": todo, "started": time.perf_counter(), "done": False,
                    "error": None}
            _WALKS[workspace] = walk
            threading.Thread(target=_walk, args=(warehouse, workspace, known, walk),
                             name="ledger-walk", daemon=True).start()
    assert walk is not None
    if failed:
        raise walk["error"]
    return Pending(walk["walked"], walk["total"], time.perf_counter() - walk["started"])


def _chunks(warehouse: Warehouse, after_seq: int, upto: int,
            walk: dict[str, Any]) -> Iterator[tuple[Any, ...]]:
    """Rows after ``after_seq`` up to ``upto``, read in short units of work so the walk never
    holds the workspace open (the monitor may be writing)."""
    while after_seq < upto:
        if _STOP.is_set():  # the interpreter is exiting: never sit inside DuckDB then
            raise RuntimeError("ledger walk stopped: the process is exiting")
        with warehouse.session() as session:
            rows = list(session.iterate("audit/ledger_after",
                                        {"after_seq": after_seq, "max_rows": CHUNK}))
        if not rows:
            return
        for row in rows:
            if row[0] > upto:
                return
            yield row
        after_seq = int(rows[-1][0])
        walk["walked"] += len(rows)


def _walk(warehouse: Warehouse, workspace: str, known: _Known | None,
          walk: dict[str, Any]) -> None:
    try:
        # The walk is pure Python and shares the interpreter lock with the page that started
        # it: let that page's first render finish before competing with it.
        if _STOP.wait(WALK_DELAY):
            raise RuntimeError("ledger walk stopped: the process is exiting")
        with warehouse.session() as session:
            head = _head(session)
            whole = fingerprint(session, head)
            if known is not None and fingerprint(session, known.upto) != known.fingerprint:
                known = None  # the verified prefix changed since check() looked: walk it all
        after = (known.upto, known.verification.head_hash) if known else (0, ledger.GENESIS)
        result = _combine(known, ledger.verify_rows(_chunks(warehouse, after[0], head, walk),
                                                    after=after))
        with warehouse.session() as session:
            # Rows edited while the walk ran would make its answer describe neither state:
            # remember it only for the rows it actually saw.
            if fingerprint(session, head) == whole:
                _remember(workspace, whole, result)
    except Exception as exc:  # handed to the next check() call, which raises it on the page
        walk["error"] = exc
    finally:
        walk["done"] = True


@atexit.register
def _stop_walks() -> None:
    """Let background walks leave DuckDB before the interpreter tears it down."""
    _STOP.set()
    for thread in threading.enumerate():
        if thread.name == "ledger-walk":
            thread.join(timeout=5)


def forget() -> None:
    """Drop every remembered verification (tests, or an operator who wants a fresh walk)."""
    with _LOCK:
        _KNOWN.clear()
        _WALKS.clear()
