"""Ledger status for the audit view: a full chain verification, cached by content fingerprint.

Walking a million entries in Python takes seconds, too slow for every page render, yet the
status must always be current. The warehouse computes a fingerprint of every stored row (count,
last seq and an XOR of per-row hashes) in one scan; while it is unchanged the previous full
verification still describes the same rows, so it is reused. Any edit, insert or delete changes
the fingerprint and triggers a fresh walk. The fingerprint is a cache key, not evidence: the
evidence is :func:`governance.ledger.verify`, which is what runs whenever the key changes.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

from governance import ledger
from governance.warehouse import Session

_CACHE: dict[tuple[str, int, int, str], ledger.Verification] = {}
_LOCK = threading.Lock()


@dataclass(frozen=True)
class LedgerStatus:
    """What the audit view shows about the chain.

    Attributes:
        verification: The full walk's result (intact, or the first broken entry).
        fingerprint: ``(entries, last seq, checksum)`` of the rows it describes.
        cached: True when the walk was reused because no row changed since.
        seconds: How long the walk took when it ran.
    """

    verification: ledger.Verification
    fingerprint: tuple[int, int, str]
    cached: bool
    seconds: float

    @property
    def intact(self) -> bool:
        """True when every entry chains to its predecessor."""
        return self.verification.intact


def fingerprint(session: Session) -> tuple[int, int, str]:
    """``(row count, max seq, checksum)`` of the stored ledger, computed in SQL."""
    row = session.fetch_rows("audit/ledger_fingerprint")[0]
    return int(row["n"] or 0), int(row["max_seq"] or 0), str(row["checksum"] or "")


def status(session: Session, workspace: str) -> LedgerStatus:
    """Verify the chain unless an identical store was verified before in this process.

    Args:
        session: An open unit of work.
        workspace: Identifies the store (e.g. ``Warehouse.describe()``), so two workspaces
            never share a cached result.
    """
    key_print = fingerprint(session)
    key = (workspace, *key_print)
    with _LOCK:
        known = _CACHE.get(key)
    if known is not None:
        return LedgerStatus(known, key_print, True, 0.0)
    started = time.perf_counter()
    result = ledger.verify(session)
    elapsed = time.perf_counter() - started
    with _LOCK:
        # Keep only the newest result per workspace: older fingerprints can never match again
        # unless the store is rolled back, which must be re-verified anyway.
        for old in [k for k in _CACHE if k[0] == workspace]:
            del _CACHE[old]
        _CACHE[key] = result
    return LedgerStatus(result, key_print, False, elapsed)


def forget() -> None:
    """Drop every cached verification (tests, or an operator who wants a fresh walk)."""
    with _LOCK:
        _CACHE.clear()
