"""Bulk writing of the large demo: the hash chain in one pass, tables through Arrow.

The ledger's rows are hashed exactly as :func:`governance.ledger.entry_hash` would hash them,
but the canonical body is assembled from pieces instead of serialising a dict per entry: the
body's keys are fixed and sorted (``actor, environment, payload, seq, subject, time, type``), so
concatenating the canonical parts gives the same text byte for byte (a test holds it to that).
Rows then go to DuckDB in chunks of Arrow tables, never as one statement per row.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

from governance.errors import GovernanceError
from governance.ledger import GENESIS, body_text, canonical_json
from governance.warehouse import Session

CHUNK = 200_000
_EPOCH = datetime(1970, 1, 1)


class Ref(NamedTuple):
    """A payload value known only once the chain is written: an earlier entry's seq or hash."""

    kind: str  # "seq" or "hash"
    entry: int  # the entry's index in :class:`Events`, not its seq


def micros(at: datetime) -> int:
    """Microseconds since the epoch of a naive UTC datetime."""
    delta = at - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


@dataclass
class Events:
    """Ledger entries in the order they were generated (not yet in time order).

    A payload is canonical JSON text, or a dict whose top-level values may be :class:`Ref`.
    """

    times: list[int] = field(default_factory=list)
    actors: list[str] = field(default_factory=list)
    environments: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    subjects: list[str] = field(default_factory=list)
    payloads: list[str | dict[str, Any]] = field(default_factory=list)

    def add(self, at: datetime | int, actor: str, environment: str, event_type: str,
            subject: str, payload: str | dict[str, Any]) -> int:
        """Record one entry; returns its index (for :class:`Ref`)."""
        self.times.append(at if isinstance(at, int) else micros(at))
        self.actors.append(actor)
        self.environments.append(environment)
        self.types.append(event_type)
        self.subjects.append(subject)
        self.payloads.append(payload if isinstance(payload, str) else
                             payload if any(isinstance(v, Ref) for v in payload.values())
                             else canonical_json(payload))
        return len(self.times) - 1

    def __len__(self) -> int:
        return len(self.times)


@dataclass(frozen=True)
class Chain:
    """What writing the chain produced: each generated entry's seq and hash, and the head."""

    seq: np.ndarray
    hashes: list[str]
    head: str

    def resolve(self, ref: Ref) -> int | str:
        """The value a :class:`Ref` stands for."""
        return int(self.seq[ref.entry]) if ref.kind == "seq" else self.hashes[ref.entry]


def resolve_refs(value: Any, chain: Chain) -> Any:
    """``value`` with every nested :class:`Ref` replaced by its seq or hash."""
    if isinstance(value, Ref):
        return chain.resolve(value)
    if isinstance(value, dict):
        return {k: resolve_refs(v, chain) for k, v in value.items()}
    if isinstance(value, list):
        return [resolve_refs(v, chain) for v in value]
    return value


def write_chain(session: Session, events: Events, *, first_seq: int = 1,
                prev_hash: str = GENESIS,
                progress: Callable[[str], None] | None = None) -> Chain:
    """Sort ``events`` by time, hash them into the chain after ``prev_hash``, insert them.

    Returns:
        Seq and hash of every event by generation index, and the new head hash.
    """
    order = np.argsort(np.asarray(events.times, dtype=np.int64), kind="stable")
    stamps = np.asarray(events.times, dtype=np.int64)[order].astype("datetime64[us]")
    texts = np.datetime_as_string(stamps, unit="us")
    seq_of = np.empty(len(events), dtype=np.int64)
    hash_of: list[str] = [""] * len(events)
    sha = hashlib.sha256
    for start in range(0, len(events), CHUNK):
        rows: dict[str, list[Any]] = {k: [] for k in ("seq", "actor", "environment",
                                                      "event_type", "subject", "payload",
                                                      "hash")}
        for pos in range(start, min(start + CHUNK, len(events))):
            i = int(order[pos])
            seq = first_seq + pos
            payload = events.payloads[i]
            if not isinstance(payload, str):
                payload = canonical_json({k: _known(v, seq_of, hash_of)
                                          for k, v in payload.items()})
            actor, env, kind, subject = (events.actors[i], events.environments[i],
                                         events.types[i], events.subjects[i])
            body = body_text(seq, str(texts[pos]), actor, env, kind, subject, payload)
            prev_hash = sha((prev_hash + body).encode("utf-8")).hexdigest()
            seq_of[i], hash_of[i] = seq, prev_hash
            for key, value in (("seq", seq), ("actor", actor), ("environment", env),
                               ("event_type", kind), ("subject", subject),
                               ("payload", payload), ("hash", prev_hash)):
                rows[key].append(value)
        end = min(start + CHUNK, len(events))
        table = pa.table({**{k: rows[k] for k in ("seq",)},
                          "event_time": pa.array(stamps[start:end]),
                          **{k: rows[k] for k in rows if k != "seq"}})
        append(session, "governance.ledger", table)
        if progress:
            progress(f"  ledger: {end:,} of {len(events):,} entries chained")
    return Chain(seq_of, hash_of, prev_hash)


def _known(value: Any, seq_of: np.ndarray, hash_of: list[str]) -> Any:
    if not isinstance(value, Ref):
        return value
    return hash_of[value.entry] if value.kind == "hash" else int(seq_of[value.entry])


def append(session: Session, table: str, data: pa.Table | list[dict[str, Any]],
           schema: pa.Schema | None = None) -> int:
    """Bulk-insert rows into one of Driftgate's own tables (by column name).

    Raises:
        GovernanceError: The backend has no bulk insert (only the embedded workspace does).
    """
    bulk = getattr(session, "append_rows", None)
    if bulk is None:
        raise GovernanceError(
            f"the large demo is built only in the embedded DuckDB workspace, not on "
            f"{session.dialect}",
            hint="run `python -m governance demo --scale large` with GOV_BACKEND=duckdb")
    if not isinstance(data, pa.Table):
        if not data:
            return 0
        data = pa.Table.from_pylist(data, schema=schema)
    bulk(table, data)
    return int(data.num_rows)


RUNS_SCHEMA = pa.schema([
    ("account_id", pa.string()), ("update_time", pa.timestamp("us")),
    ("delete_time", pa.timestamp("us")), ("workspace_id", pa.string()),
    ("experiment_id", pa.string()), ("run_id", pa.string()), ("run_name", pa.string()),
    ("created_by", pa.string()), ("start_time", pa.timestamp("us")),
    ("end_time", pa.timestamp("us")), ("status", pa.string()),
    ("params", pa.map_(pa.string(), pa.string())), ("tags", pa.map_(pa.string(), pa.string())),
    ("aggregated_metrics", pa.list_(pa.struct([
        ("metric_name", pa.string()), ("latest_time", pa.timestamp("us")),
        ("latest_step", pa.int64()), ("latest_value", pa.float64()),
        ("min_value", pa.float64()), ("max_value", pa.float64())]))),
])


def counts(tables: Mapping[str, list[dict[str, Any]]]) -> dict[str, int]:
    """Rows per table, for the build report."""
    return {name: len(rows) for name, rows in tables.items()}
