"""Packs exported once from the shared demo, and writable demo copies for store tampering.

Export only reads, so the three reference packs come from the shared demo workspace; tests
that change the store (tampered rows, deleted runs, lineage cycles) work on a private copy.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest

from governance.evidence import layout
from governance.evidence.pack import EvidencePack, export_incident, export_version
from governance.evidence.verify import verify_pack
from governance.settings import Settings, load_settings
from governance.warehouse import Warehouse, open_warehouse

BASKET_INCIDENT = "INC-basket_propensity-20261005"
DEMAND_INCIDENT = "INC-demand_forecast-20261005"
EXPORTER = "user:auditor@retail.example"


@pytest.fixture(scope="session")
def packs(demo_settings: Settings) -> dict[str, EvidencePack]:
    """The promoted version, the bootstrap version and the pending incident, exported once."""
    warehouse = open_warehouse(demo_settings)
    return {
        "promoted": export_version(warehouse, "basket_propensity", "2", exported_by=EXPORTER),
        "bootstrap": export_version(warehouse, "basket_propensity", "1", exported_by=EXPORTER),
        "incident": export_incident(warehouse, DEMAND_INCIDENT, exported_by=EXPORTER),
    }


def read_pack(data: bytes) -> dict[str, bytes]:
    """Every file of a pack, by name, in ZIP order."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def doc(data: bytes, name: str) -> object:
    """One JSON file of a pack, parsed."""
    return json.loads(read_pack(data)[name])


def rezip(files: dict[str, bytes], *, rehash: bool = False) -> bytes:
    """A ZIP of ``files``; with ``rehash`` the manifest lists the files' new sha256 (a forger
    who updates the manifest, so only the deeper checks can catch the edit)."""
    if rehash:
        manifest = json.loads(files[layout.MANIFEST])
        manifest["files"] = {n: hashlib.sha256(d).hexdigest() for n, d in files.items()
                             if n != layout.MANIFEST and n in manifest["files"]}
        files = {**files, layout.MANIFEST: json.dumps(manifest).encode()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buffer.getvalue()


def lines(data: bytes) -> list[dict[str, object]]:
    """A JSONL file's entries."""
    return [json.loads(line) for line in data.splitlines()]


@pytest.fixture
def store(demo_settings: Settings, tmp_path: Path,
          copy_home: Callable[[Path, Path], Path]) -> Warehouse:
    """A private, writable copy of the demo workspace."""
    home = copy_home(demo_settings.home, tmp_path / "home")
    return open_warehouse(load_settings({"GOV_HOME": str(home), "GOV_LOCK_TIMEOUT": "2"}, {}))


def run_sql(warehouse: Warehouse, statement: str, params: list[object] | None = None) -> None:
    """Change a copied workspace behind Driftgate's back, as an intruder with file access."""
    with duckdb.connect(str(warehouse.path)) as con:  # type: ignore[attr-defined]
        con.execute(statement, params or [])


# --- forging a pack consistently (file and manifest), for the cross-check tests --------------
Edit = Callable[[Any], None]


def forge(data: bytes, name: str, edit: Edit) -> bytes:
    """``data`` with JSON file ``name`` changed by ``edit`` and the manifest rehashed to match."""
    files = read_pack(data)
    document = json.loads(files[name])
    edit(document)
    return rezip({**files, name: layout.dumps(document)}, rehash=True)


def problems(data: bytes, name: str, edit: Edit) -> tuple[str, ...]:
    """What verify says about the consistently forged pack."""
    result = verify_pack(forge(data, name, edit))
    assert result.ok == (not result.problems)
    return result.problems


def entry(data: bytes, event_type: str) -> dict[str, Any]:
    """The newest entry of ``event_type`` in the pack's ``entries.jsonl``."""
    return [e for e in lines(read_pack(data)[layout.ENTRIES]) if e["type"] == event_type][-1]


def names(problem: str, file: str, field: str, seq: object, event_type: str) -> bool:
    """Whether one problem names the file, the field and the ledger entry it contradicts."""
    return (problem.startswith(f"{file}: ") and f" {field} " in problem
            and f"ledger entry {seq} ({event_type})" in problem)


def assert_named(found: tuple[str, ...], file: str, field: str, seq: object,
                 event_type: str) -> None:
    assert found, "the forged fact passed verification"
    assert any(names(p, file, field, seq, event_type) for p in found), found
