"""verify_pack: every edit after export fails, naming the file and entry at fault."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance.errors import DataError
from governance.evidence import layout
from governance.evidence.pack import EvidencePack
from governance.evidence.verify import require_head, verify_pack
from governance.ledger import canonical_json, entry_hash

from .conftest import lines, read_pack, rezip


def _jsonl(entries: list[dict[str, object]]) -> bytes:
    return "".join(canonical_json(e) + "\n" for e in entries).encode()


@pytest.fixture
def files(packs: dict[str, EvidencePack]) -> dict[str, bytes]:
    return read_pack(packs["promoted"].data)


def _involved(files: dict[str, bytes]) -> list[int]:
    return list(json.loads(files[layout.PROOF])["involved_seqs"])


def test_reads_a_path_too(packs: dict[str, EvidencePack], tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(packs["promoted"].data)
    result = verify_pack(path)
    assert result.ok
    assert result.summary().startswith("verified: 12 ledger entries")


def test_edited_timeline_fails_on_its_manifest_hash(files: dict[str, bytes]) -> None:
    timeline = json.loads(files[layout.TIMELINE])
    timeline[0]["actor"] = "user:someone-else@retail.example"
    result = verify_pack(rezip({**files, layout.TIMELINE: json.dumps(timeline).encode()}))
    assert not result.ok
    assert result.problems == ("timeline.json: sha256 differs from manifest.json "
                               "(edited after export)",
                               f"timeline.json: step seq {timeline[0]['seq']} actor "
                               "'user:someone-else@retail.example' but ledger entry "
                               f"{timeline[0]['seq']} (drift_detected) says "
                               "'system:drift-monitor'")
    assert "timeline.json" in result.summary()


def test_timeline_may_speak_only_of_involved_entries(files: dict[str, bytes]) -> None:
    timeline = json.loads(files[layout.TIMELINE])
    timeline.append({**timeline[0], "seq": 3})
    result = verify_pack(rezip({**files, layout.TIMELINE: json.dumps(timeline).encode()},
                               rehash=True))
    assert result.problems == ("timeline.json: step seq 3 is not one of the pack's ledger "
                               "entries",)


def test_edited_entry_payload_is_named(files: dict[str, bytes]) -> None:
    entries = lines(files[layout.ENTRIES])
    decided = next(e for e in entries if e["type"] == "approval_decided")
    decided["payload"]["comment"] = "approved without reading"  # type: ignore[index]
    edited = {**files, layout.ENTRIES: _jsonl(entries)}
    result = verify_pack(rezip(edited, rehash=True))
    assert result.problems == (f"ledger/entries.jsonl: entry {decided['seq']} differs from "
                               f"entry {decided['seq']} of ledger/chain.jsonl",)
    plain = verify_pack(rezip(edited))
    assert "ledger/entries.jsonl: sha256 differs from manifest.json (edited after export)" \
        in plain.problems


def test_edited_chain_entry_is_named_by_seq(files: dict[str, bytes]) -> None:
    chain = lines(files[layout.CHAIN])
    chain[3]["actor"] = "user:mallory@retail.example"
    result = verify_pack(rezip({**files, layout.CHAIN: _jsonl(chain)}, rehash=True))
    seq = chain[3]["seq"]
    assert f"ledger/chain.jsonl: entry {seq} is broken: its hash does not match its content " \
           "and the previous hash" in result.problems


def test_removed_chain_entry_is_named_by_seq(files: dict[str, bytes]) -> None:
    chain = lines(files[layout.CHAIN])
    removed = chain.pop(2)
    result = verify_pack(rezip({**files, layout.CHAIN: _jsonl(chain)}, rehash=True))
    assert result.problems == (f"ledger/chain.jsonl: entry {removed['seq']} is missing (found "
                               f"entry {removed['seq'] + 1} at line 3)",)  # type: ignore[operator]


def test_truncated_chain_does_not_reach_the_head(files: dict[str, bytes]) -> None:
    chain = lines(files[layout.CHAIN])[:-1]
    result = verify_pack(rezip({**files, layout.CHAIN: _jsonl(chain)}, rehash=True))
    (problem,) = result.problems
    assert problem.startswith(f"ledger/chain.jsonl: ends at entry {chain[-1]['seq']}")


def test_wrong_head(files: dict[str, bytes], packs: dict[str, EvidencePack]) -> None:
    good = verify_pack(packs["promoted"].data)
    assert require_head(good, packs["promoted"].head_hash.upper()).ok
    bad = require_head(good, "f" * 64)
    assert not bad.ok
    assert bad.problems[0].startswith("proof.json: head hash")
    proof = json.loads(files[layout.PROOF])
    proof["head_hash"] = "0" * 64
    result = verify_pack(rezip({**files, layout.PROOF: json.dumps(proof).encode()},
                               rehash=True))
    assert any(p.startswith("ledger/chain.jsonl: ends at entry") for p in result.problems)
    assert "manifest.json: head differs from proof.json" in result.problems


def test_a_consistent_forgery_passes_alone_but_not_against_the_published_head(
        files: dict[str, bytes], packs: dict[str, EvidencePack]) -> None:
    """Why the head must be published: whoever rewrites every hash, and the context files that
    repeat the forged fact, makes a self-consistent pack; only the head hash kept elsewhere
    tells it apart."""
    proof = json.loads(files[layout.PROOF])
    approvals = json.loads(files[layout.APPROVALS])
    for approval in approvals["approvals"]:
        approval["comment"] = "forged"
        for signature in approval["signatures"]:
            signature["comment"] = "forged"
    chain, prev = lines(files[layout.CHAIN]), proof["anchor_hash"]
    for entry in chain:
        if entry["type"] == "approval_decided":
            entry["payload"]["comment"] = "forged"  # type: ignore[index]
        body = {k: v for k, v in entry.items() if k != "hash"}
        entry["hash"] = prev = entry_hash(prev, body)
    involved = set(proof["involved_seqs"])
    proof["head_hash"] = prev
    manifest = json.loads(files[layout.MANIFEST])
    manifest["head_hash"] = prev
    forged = rezip({**files, layout.CHAIN: _jsonl(chain),
                    layout.ENTRIES: _jsonl([e for e in chain if e["seq"] in involved]),
                    layout.PROOF: json.dumps(proof).encode(),
                    layout.APPROVALS: json.dumps(approvals).encode(),
                    layout.MANIFEST: json.dumps(manifest).encode()}, rehash=True)
    result = verify_pack(forged)
    assert result.ok, result.problems
    assert not require_head(result, packs["promoted"].head_hash).ok


def test_extra_file(files: dict[str, bytes]) -> None:
    result = verify_pack(rezip({**files, "notes.txt": b"trust me"}))
    assert result.problems == ("notes.txt: extra file, not listed in manifest.json",)


def test_missing_file(files: dict[str, bytes]) -> None:
    result = verify_pack(rezip({n: d for n, d in files.items() if n != layout.APPROVALS}))
    assert result.problems == ("approvals.json: listed in manifest.json but missing",)


def test_missing_entries_file_names_each_entry(files: dict[str, bytes]) -> None:
    result = verify_pack(rezip({n: d for n, d in files.items() if n != layout.ENTRIES}))
    assert "ledger/entries.jsonl: listed in manifest.json but missing" in result.problems
    assert f"ledger/entries.jsonl: involved entry {_involved(files)[0]} is missing" \
        in result.problems


def test_not_a_zip_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataError, match="is not a ZIP file"):
        verify_pack(b"definitely not a zip")
    with pytest.raises(DataError, match="cannot read"):
        verify_pack(tmp_path / "absent.zip")
    with pytest.raises(DataError, match=r"no manifest\.json"):
        verify_pack(rezip({"readme.txt": b"hello"}))
    with pytest.raises(DataError, match="format"):
        verify_pack(rezip({layout.MANIFEST: b'{"format": "other"}'}))
    with pytest.raises(DataError, match="unreadable"):
        verify_pack(rezip({layout.MANIFEST: b"{not json"}))


def test_garbage_lines_are_problems_not_crashes(files: dict[str, bytes]) -> None:
    result = verify_pack(rezip({**files, layout.CHAIN: b"[1, 2]\n\xff\n",
                                layout.PROOF: b"[]", layout.TIMELINE: b'{"a": 1}'},
                               rehash=True))
    assert "proof.json: not a JSON object" in result.problems
    assert "timeline.json: not a list of steps" in result.problems
    assert not result.ok
