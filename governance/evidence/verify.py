"""Check an evidence pack offline: no warehouse, no MLflow, only the ZIP and sha256.

What passing proves: every file is the one the manifest lists; the chain segment recomputes
from its anchor hash to the head hash in ``proof.json``; the story's entries are byte for byte
those entries of the chain; the timeline speaks of exactly them; and every fact a context file
shares with those entries equals the entry (:mod:`governance.evidence.crosscheck`), so editing
one with a recomputed manifest is caught too. Anyone able to rewrite the whole
pack can also recompute a new chain, so integrity is relative to the head hash: compare it with
one published elsewhere (``--head``). See ``docs/evidence.md``.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from governance.errors import DataError
from governance.evidence import crosscheck, layout
from governance.ledger import GENESIS, canonical_json, entry_hash

#: The files cross-checked against the ledger entries (see :mod:`crosscheck`).
_CONTEXT = (layout.TIMELINE, layout.APPROVALS, layout.EVALUATIONS, layout.DRIFT, layout.DATASETS,
            layout.LINEAGE, layout.MLFLOW)
_HINT = "pass the .zip file that `python -m governance evidence export` wrote"


@dataclass(frozen=True)
class PackVerification:
    """The outcome of :func:`verify_pack`.

    Attributes:
        ok: True when no problem was found.
        problems: Each names the file and/or ledger entry (seq) at fault.
        entries: Ledger entries of the story, as ``proof.json`` lists them.
        head_seq: Sequence number of the head the chain ends at.
        head_hash: Hash of that head (compare with a published one).
    """

    ok: bool
    problems: tuple[str, ...]
    entries: int
    head_seq: int
    head_hash: str

    def summary(self) -> str:
        """One line for the CLI and the page."""
        if self.ok:
            return (f"verified: {self.entries} ledger entries chain to head entry "
                    f"{self.head_seq} ({self.head_hash})")
        return f"NOT verified: {len(self.problems)} problem(s); first: {self.problems[0]}"


def verify_pack(source: Path | bytes) -> PackVerification:
    """Verify a pack given as a file path or its bytes.

    Raises:
        DataError: The source is unreadable, not a ZIP, or not an evidence pack (no readable
            ``manifest.json`` of this format). Anything wrong inside a pack is a problem in
            the result instead.
    """
    with _open(source) as zf:
        return _Check(zf).run()


def require_head(result: PackVerification, published: str) -> PackVerification:
    """``result`` plus a problem unless its head hash equals the ``published`` one."""
    if result.head_hash.lower() == published.strip().lower():
        return result
    problem = (f"proof.json: head hash {result.head_hash} (entry {result.head_seq}) is not the "
               f"published head {published.strip()}")
    return dataclasses.replace(result, ok=False, problems=(*result.problems, problem))


def _open(source: Path | bytes) -> zipfile.ZipFile:
    label = "the uploaded pack" if isinstance(source, bytes) else str(source)
    try:
        data = source if isinstance(source, bytes) else Path(source).read_bytes()
        return zipfile.ZipFile(io.BytesIO(data))
    except OSError as exc:
        raise DataError(f"cannot read {label}: {exc.strerror or exc}", hint=_HINT) from exc
    except (zipfile.BadZipFile, ValueError) as exc:
        raise DataError(f"{label} is not a ZIP file ({exc})", hint=_HINT) from exc


class _Check:
    """One verification run over an open pack, collecting problems instead of stopping."""

    def __init__(self, zf: zipfile.ZipFile) -> None:
        self.zf = zf
        self.problems: list[str] = []
        self.chain_complete = False
        self.manifest = self._manifest()

    def _manifest(self) -> dict[str, Any]:
        try:
            doc = json.loads(self.zf.read(layout.MANIFEST))
        except KeyError:
            raise DataError(f"not an evidence pack: it has no {layout.MANIFEST}",
                            hint=_HINT) from None
        except (ValueError, zipfile.BadZipFile) as exc:
            raise DataError(f"not an evidence pack: {layout.MANIFEST} is unreadable ({exc})",
                            hint=_HINT) from exc
        if not (isinstance(doc, dict) and doc.get("format") == layout.FORMAT
                and isinstance(doc.get("files"), dict)):
            raise DataError(f"not an evidence pack: {layout.MANIFEST} is not of format "
                            f"{layout.FORMAT}", hint=_HINT)
        return doc

    def run(self) -> PackVerification:
        self._files()
        proof = self._json(layout.PROOF)
        involved: list[int] = []
        story: list[dict[str, Any]] = []
        head: tuple[int, str] = (0, GENESIS)
        if isinstance(proof, dict):
            involved = [s for s in proof.get("involved_seqs", []) if isinstance(s, int)]
            head = (int(proof.get("head_seq") or 0), str(proof.get("head_hash") or ""))
            if proof.get("count") != len(involved):
                self.problems.append(f"{layout.PROOF}: count {proof.get('count')} is not the "
                                     f"{len(involved)} involved seqs it lists")
            if (self.manifest.get("head_seq"), self.manifest.get("head_hash")) != head:
                self.problems.append(f"{layout.MANIFEST}: head differs from {layout.PROOF}")
            chain_lines = self._chain(proof, set(involved))
            story = self._entries(set(involved), chain_lines)
        elif proof is not None:
            self.problems.append(f"{layout.PROOF}: not a JSON object")
        docs = {name: self._json(name) for name in _CONTEXT}
        self._subject(story)
        self._timeline(docs[layout.TIMELINE], set(involved))
        self.problems.extend(crosscheck.check(docs, story))
        return PackVerification(not self.problems, tuple(self.problems), len(involved), *head)

    def _subject(self, story: list[dict[str, Any]]) -> None:
        """The manifest's subject must be what the chained entries are about: the manifest is
        not in its own hash list, so relabelling a pack (another model, version or incident)
        would otherwise go unnoticed."""
        m = self.manifest
        promoted = [e for e in story if e.get("type") == "model_promoted"
                    and isinstance(e.get("payload"), dict)]
        subjects = {e.get("subject") for e in story}
        if m.get("kind") == "version":
            if not any(e.get("subject") == m.get("model")
                       and str(e["payload"].get("prod_version")) == str(m.get("version"))
                       and e["payload"].get("approval_id") == m.get("approval_id")
                       for e in promoted):
                self.problems.append(
                    f"{layout.MANIFEST}: names {m.get('model')} v{m.get('version')} "
                    f"(approval {m.get('approval_id')}) but no model_promoted entry in the pack "
                    "records that promotion")
        elif m.get("kind") != "incident":
            self.problems.append(f"{layout.MANIFEST}: kind {m.get('kind')!r} is neither "
                                 "'version' nor 'incident'")
        if m.get("incident_id") is not None and m.get("incident_id") not in subjects:
            self.problems.append(f"{layout.MANIFEST}: names incident {m.get('incident_id')} "
                                 "but none of the pack's ledger entries is about it")

    def _files(self) -> None:
        listed: Mapping[str, Any] = self.manifest["files"]
        names = [n for n in self.zf.namelist() if not n.endswith("/")]
        for name in sorted({n for n in names if names.count(n) > 1}):
            self.problems.append(f"{name}: appears more than once in the ZIP")
        for name in layout.FILES:
            if name not in listed:
                self.problems.append(f"{layout.MANIFEST}: does not list {name}")
        for name in sorted(set(names) - set(listed) - {layout.MANIFEST}):
            self.problems.append(f"{name}: extra file, not listed in {layout.MANIFEST}")
        for name, expected in sorted(listed.items()):
            if name not in names:
                self.problems.append(f"{name}: listed in {layout.MANIFEST} but missing")
                continue
            try:
                digest = hashlib.sha256()
                with self.zf.open(name) as handle:
                    while chunk := handle.read(1 << 20):
                        digest.update(chunk)
            except (zipfile.BadZipFile, OSError) as exc:
                self.problems.append(f"{name}: unreadable in the ZIP ({exc})")
                continue
            if digest.hexdigest() != expected:
                self.problems.append(f"{name}: sha256 differs from {layout.MANIFEST} "
                                     "(edited after export)")

    def _json(self, name: str) -> Any:
        try:
            return json.loads(self.zf.read(name))
        except KeyError:
            return None  # already reported as missing
        except (ValueError, zipfile.BadZipFile) as exc:
            self.problems.append(f"{name}: not readable JSON ({exc})")
            return None

    def _lines(self, name: str) -> Iterator[tuple[int, bytes]]:
        try:
            handle: IO[bytes] = self.zf.open(name)
        except KeyError:
            return
        with handle:
            try:
                yield from enumerate(handle, start=1)
            except (zipfile.BadZipFile, OSError) as exc:
                self.problems.append(f"{name}: unreadable in the ZIP ({exc})")

    def _chain(self, proof: Mapping[str, Any], involved: set[int]) -> dict[int, bytes]:
        """Recompute the segment's hashes; returns the involved entries' lines by seq."""
        kept: dict[int, bytes] = {}
        anchor = int(proof.get("anchor_seq") or 0)
        prev = str(proof.get("anchor_hash") or "")
        if anchor == 0 and prev != GENESIS:
            self.problems.append(f"{layout.PROOF}: the chain starts at entry 1, so its anchor "
                                 f"hash must be the genesis hash {GENESIS}")
        expected, broken = anchor + 1, False
        for number, line in self._lines(layout.CHAIN):
            entry = _parse(line)
            where = f"{layout.CHAIN} line {number}"
            if entry is None:
                self.problems.append(f"{where}: not a ledger entry (JSON object with exactly "
                                     "seq, time, actor, environment, type, subject, payload, "
                                     "hash)")
                broken = True
                break
            if entry["seq"] != expected:
                what = "missing" if entry["seq"] > expected else "duplicated or out of order"
                self.problems.append(f"{layout.CHAIN}: entry {expected} is {what} "
                                     f"(found entry {entry['seq']} at line {number})")
                broken = True
                break
            # Exactly the canonical bytes, as the store keeps them: a reformatted line (say
            # with a duplicate key, read differently by different JSON readers) would still
            # hash the same once parsed, so parsing alone proves too little.
            try:
                canonical = (canonical_json(entry) + "\n").encode("utf-8")
            except (TypeError, ValueError):
                canonical = b""
            if line.rstrip(b"\r\n") + b"\n" != canonical:
                self.problems.append(f"{layout.CHAIN}: entry {expected} is not in canonical "
                                     "JSON form (reformatted, or a key given twice)")
                broken = True
                break
            body = {k: v for k, v in entry.items() if k != "hash"}
            if entry_hash(prev, body) != entry["hash"]:
                self.problems.append(f"{layout.CHAIN}: entry {expected} is broken: its hash "
                                     "does not match its content and the previous hash")
                broken = True
                break
            if expected in involved:
                kept[expected] = line
            prev, expected = entry["hash"], expected + 1
        head_seq, head_hash = proof.get("head_seq"), proof.get("head_hash")
        self.chain_complete = not broken
        if not broken and (expected - 1, prev) != (head_seq, head_hash):
            self.problems.append(f"{layout.CHAIN}: ends at entry {expected - 1} ({prev}), not "
                                 f"at the head {layout.PROOF} names (entry {head_seq}, "
                                 f"{head_hash})")
        return kept

    def _entries(self, involved: set[int], chain: Mapping[int, bytes]) -> list[dict[str, Any]]:
        """Check ``entries.jsonl``; returns the story's entries, oldest first, for the
        cross-check: the chain's copy where it has one (that copy is what the hashes prove)."""
        seen: set[int] = set()
        story: dict[int, dict[str, Any]] = {}
        for number, line in self._lines(layout.ENTRIES):
            entry = _parse(line)
            if entry is None:
                self.problems.append(f"{layout.ENTRIES} line {number}: not a ledger entry")
                continue
            seq = entry["seq"]
            seen.add(seq)
            if seq in involved:
                story[seq] = (_parse(chain[seq]) if seq in chain else None) or entry
            if seq not in involved:
                self.problems.append(f"{layout.ENTRIES}: entry {seq} is not one of the "
                                     f"involved entries in {layout.PROOF}")
            elif seq in chain and chain[seq] != line:
                self.problems.append(f"{layout.ENTRIES}: entry {seq} differs from entry {seq} "
                                     f"of {layout.CHAIN}")
            elif seq not in chain and self.chain_complete:
                self.problems.append(f"{layout.ENTRIES}: entry {seq} is not in {layout.CHAIN}")
        for seq in sorted(involved - seen):
            self.problems.append(f"{layout.ENTRIES}: involved entry {seq} is missing")
            if seq in chain:
                story[seq] = _parse(chain[seq]) or {}
        return [story[s] for s in sorted(story) if story[s]]

    def _timeline(self, steps: Any, involved: set[int]) -> None:
        if steps is None:
            return
        if not isinstance(steps, list):
            self.problems.append(f"{layout.TIMELINE}: not a list of steps")
            return
        for step in steps:
            seq = step.get("seq") if isinstance(step, dict) else None
            if seq not in involved:
                self.problems.append(f"{layout.TIMELINE}: step seq {seq} is not one of the "
                                     "pack's ledger entries")


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        entry = json.loads(line)
    except ValueError:
        return None
    if not (isinstance(entry, dict) and set(entry) == layout.BODY_KEYS | {"hash"}
            and isinstance(entry["seq"], int) and isinstance(entry["hash"], str)):
        return None
    return entry
