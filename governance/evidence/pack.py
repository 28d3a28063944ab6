"""Evidence packs: one ZIP per production model version or drift incident, verifiable offline.

A pack holds the trail's ledger entries verbatim with their hashes, the chain segment from the
entry before the first of them to the current head (each hash covers the full body of its
entry, so the segment is what lets anyone recompute it), and the context an auditor reads
beside them: timeline, approvals with signer claims, evaluations, drift results, dataset
digests, lineage and MLflow runs, plus a readable HTML summary. ``manifest.json`` carries the
sha256 of every other file. The layout is in ``docs/evidence.md``; the check is
:func:`governance.evidence.verify.verify_pack`.

A pack must never certify a tampered store: export verifies the whole chain first (through
the audit view's fingerprint-cached walk) and re-checks every hash of the segment it streams,
refusing with the first broken entry named.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from governance import ledger
from governance.audit import integrity
from governance.audit.trail import Trail, incident_trail, version_trail
from governance.errors import LedgerError
from governance.evidence import collect, layout, summary, upstream
from governance.ledger import GENESIS, LedgerEntry, canonical_json, entry_hash
from governance.warehouse import Session, Warehouse

_CHUNK = 1 << 16
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_FIX = ("run `python -m governance ledger verify` and restore the ledger from a trusted backup; "
        "a pack exported now would certify tampered entries")


@dataclass(frozen=True)
class EvidencePack:
    """An exported pack.

    Attributes:
        filename: Suggested file name, e.g. ``evidence-basket_propensity-v2.zip``.
        data: The ZIP file's bytes.
        entries: Ledger entries in the story (``ledger/entries.jsonl``).
        head_seq: Sequence number of the ledger head the pack chains to.
        head_hash: Hash of that head; publish it elsewhere to pin the pack.
    """

    filename: str
    data: bytes
    entries: int
    head_seq: int
    head_hash: str


def export_version(warehouse: Warehouse, model: str, version: str, *,
                   exported_by: str) -> EvidencePack:
    """Export the evidence pack of production version ``version`` of ``model``.

    Args:
        warehouse: The workspace to read.
        model: Model name.
        version: Production registry version (``"2"``).
        exported_by: Who asked, ``user:<email>`` or ``system:<job>``; recorded in the manifest.

    Raises:
        DataError: The ledger records no promotion of that version.
        LedgerError: The stored chain does not verify (names the first broken entry).
    """
    with warehouse.session() as session:
        _require_intact(session, warehouse)
        trail = version_trail(session, model, str(version))
        name = f"evidence-{_safe(model)}-v{_safe(str(version))}.zip"
        return _export(session, warehouse, trail, "version", name, exported_by)


def export_incident(warehouse: Warehouse, incident_id: str, *,
                    exported_by: str) -> EvidencePack:
    """Export the evidence pack of one drift incident, promoted or not.

    Raises:
        DataError: The ledger has nothing about ``incident_id``.
        LedgerError: The stored chain does not verify (names the first broken entry).
    """
    with warehouse.session() as session:
        _require_intact(session, warehouse)
        trail = incident_trail(session, incident_id)
        name = f"evidence-{_safe(incident_id)}.zip"
        return _export(session, warehouse, trail, "incident", name, exported_by)


def _safe(text: str) -> str:
    return _UNSAFE.sub("_", text).strip("._") or "unnamed"


def _require_intact(session: Session, warehouse: Warehouse) -> None:
    result = integrity.status(session, warehouse.describe()).verification
    if not result.intact:
        raise LedgerError(f"refusing to export evidence: the ledger chain is broken at entry "
                          f"{result.broken_seq}: {result.reason}", hint=_FIX)


def _export(session: Session, warehouse: Warehouse, trail: Trail, kind: str, filename: str,
            exported_by: str) -> EvidencePack:
    exported_at = ledger.utc_now()
    evaluated = collect.evaluations(session, trail)
    resp = collect.response(session, trail)
    docs: dict[str, Any] = {
        layout.TIMELINE: [{"seq": t.seq, "time": layout.iso_time(t.time), "step": t.step,
                           "type": t.entry.type, "actor": t.actor,
                           "environment": t.environment, "summary": t.summary,
                           "failed": t.failed} for t in trail.timeline],
        layout.APPROVALS: collect.approvals(session, trail),
        layout.EVALUATIONS: evaluated,
        layout.DRIFT: collect.drift(session, trail),
        layout.DATASETS: collect.datasets(trail, resp),
        layout.MLFLOW: collect.mlflow_runs(session, trail, evaluated, resp),
    }
    sets = docs[layout.DATASETS]
    docs[layout.LINEAGE] = upstream.walk(
        session, [(sets.get(role) or {}).get("table", "") for role in ("training", "holdout")])
    involved = trail.seqs
    first = min(involved)
    anchor = ledger.entry(session, first - 1) if first > 1 else None
    anchor_hash = anchor.hash if anchor else GENESIS

    buffer, hashes = io.BytesIO(), {}
    stamp = exported_at.replace(year=max(exported_at.year, 1980))  # ZIP times start in 1980
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:

        def put(name: str, data: bytes) -> None:
            zf.writestr(_info(name, stamp), data)
            hashes[name] = hashlib.sha256(data).hexdigest()

        for name in (layout.TIMELINE, layout.APPROVALS, layout.EVALUATIONS, layout.DRIFT,
                     layout.DATASETS, layout.LINEAGE, layout.MLFLOW):
            put(name, layout.dumps(docs[name]))
        with zf.open(_info(layout.CHAIN, stamp), "w", force_zip64=True) as out:
            digest = hashlib.sha256()
            lines, head_seq, head_hash = _stream_chain(
                session, first, anchor_hash, frozenset(involved), out, digest)
        hashes[layout.CHAIN] = digest.hexdigest()
        put(layout.ENTRIES, b"".join(lines[s] for s in involved))
        proof = {"anchor_seq": first - 1, "anchor_hash": anchor_hash, "head_seq": head_seq,
                 "head_hash": head_hash, "involved_seqs": list(involved),
                 "count": len(involved), "chain_entries": head_seq - first + 1,
                 "hash_rule": "hash = sha256(prev_hash || canonical_json(entry without hash))"}
        docs[layout.PROOF] = proof
        put(layout.PROOF, layout.dumps(proof))
        manifest = {
            "format": layout.FORMAT, "kind": kind, "subject": trail.subject,
            "model": trail.model_name, "version": trail.prod_version,
            "incident_id": trail.incident_id, "approval_id": trail.approval_id,
            "exported_at": layout.iso_time(exported_at), "exported_by": exported_by,
            "workspace": warehouse.describe(), "entries": len(involved),
            "head_seq": head_seq, "head_hash": head_hash,
        }
        put(layout.SUMMARY, summary.render(manifest, docs, filename))
        zf.writestr(_info(layout.MANIFEST, stamp),
                    layout.dumps({**manifest, "files": dict(sorted(hashes.items()))}))
    return EvidencePack(filename, buffer.getvalue(), len(involved), head_seq, head_hash)


def _info(name: str, stamp: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(stamp.year, stamp.month, stamp.day, stamp.hour,
                                            stamp.minute, stamp.second))
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def _stream_chain(session: Session, first: int, anchor_hash: str, involved: frozenset[int],
                  out: Any, digest: Any) -> tuple[dict[int, bytes], int, str]:
    """Write entries ``first``..head to ``out``, re-checking each hash; keep involved lines.

    The whole-chain check ran moments before, but on a warehouse without multi-statement
    transactions rows can change in between, so every streamed hash is recomputed too.
    """
    kept: dict[int, bytes] = {}
    prev_hash, expected, pending, size = anchor_hash, first, [], 0
    for row in session.iterate("evidence/chain_from", {"first_seq": first}):
        entry = _checked(row, prev_hash, expected)
        line = layout.entry_line(entry)
        if entry.seq in involved:
            kept[entry.seq] = line
        pending.append(line)
        size += len(line)
        if size >= _CHUNK:
            _flush(pending, out, digest)
            size = 0
        prev_hash, expected = entry.hash, expected + 1
    _flush(pending, out, digest)
    missing = sorted(involved - set(kept))
    if missing:
        raise LedgerError(f"refusing to export evidence: ledger entry {missing[0]} of the trail "
                          "is not in the stored chain", hint=_FIX)
    return kept, expected - 1, prev_hash


def _flush(pending: list[bytes], out: Any, digest: Any) -> None:
    data = b"".join(pending)
    out.write(data)
    digest.update(data)
    pending.clear()


def _checked(row: Iterable[Any], prev_hash: str, expected: int) -> LedgerEntry:
    seq, time, actor, environment, event_type, subject, payload, stored = tuple(row)
    if int(seq) != expected:
        raise LedgerError(f"refusing to export evidence: ledger entry {expected} is missing "
                          f"(found {seq})", hint=_FIX)
    try:
        body = json.loads(payload)
        canonical = isinstance(body, Mapping) and canonical_json(body) == payload
    except ValueError:
        canonical = False
    if not canonical:
        raise LedgerError(f"refusing to export evidence: ledger entry {seq} has a payload that "
                          "is not canonical JSON", hint=_FIX)
    entry = LedgerEntry(int(seq), time, actor, environment, event_type, subject, body, stored)
    if entry_hash(prev_hash, entry.body()) != stored:
        raise LedgerError(f"refusing to export evidence: ledger entry {seq}'s stored hash does "
                          "not match its content and predecessor", hint=_FIX)
    return entry

