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

import duckdb
import pytest

from governance.evidence import layout
from governance.evidence.pack import EvidencePack, export_incident, export_version
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
