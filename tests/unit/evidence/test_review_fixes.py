"""Two forgeries a review found: a relabelled manifest and a reformatted chain line."""

from __future__ import annotations

import json

from governance.evidence import layout
from governance.evidence.pack import EvidencePack
from governance.evidence.verify import verify_pack
from tests.unit.evidence.conftest import read_pack, rezip


def test_a_relabelled_manifest_fails(packs: dict[str, EvidencePack]) -> None:
    """The manifest is not in its own hash list: naming another model/version must fail."""
    files = read_pack(packs["promoted"].data)
    manifest = json.loads(files[layout.MANIFEST])
    manifest.update(model="demand_forecast", version="7", exported_by="user:ceo@x")
    result = verify_pack(rezip({**files, layout.MANIFEST: json.dumps(manifest).encode()}))
    assert not result.ok
    assert any("names demand_forecast v7" in p and "model_promoted" in p
               for p in result.problems), result.problems


def test_a_chain_line_with_a_duplicate_key_fails(packs: dict[str, EvidencePack]) -> None:
    """A reader keeping the first of two "actor" keys would see another approver; the line
    still hashes the same once parsed, so verify must insist on the canonical bytes."""
    data = packs["promoted"].data
    files = read_pack(data)
    forged = {}
    for name in (layout.CHAIN, layout.ENTRIES):
        out = []
        for line in files[name].decode().splitlines():
            if '"type":"approval_decided"' in line:
                line = line.replace('{"actor":', '{"actor":"user:mallory@evil.example","actor":',
                                    1)
            out.append(line)
        forged[name] = ("\n".join(out) + "\n").encode()
    result = verify_pack(rezip({**files, **forged}, rehash=True))
    assert not result.ok
    assert any("not in canonical JSON form" in p for p in result.problems), result.problems
