"""``python -m governance evidence export|verify``: outputs and exit codes."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from governance.cli import main
from governance.evidence import layout
from governance.settings import Settings

from .conftest import DEMAND_INCIDENT, read_pack, rezip


@pytest.fixture(autouse=True)
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder, so no developer secrets leak in and default --out lands here."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def test_export_then_verify(demo_env: Settings, tmp_path: Path,
                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bp2.zip"
    assert main(["evidence", "export", "--model", "basket_propensity", "--version", "2",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert f"wrote {out}: 12 ledger entries" in text
    head = json.loads(zipfile.ZipFile(out).read(layout.PROOF))["head_hash"]
    assert f"head: entry 30 {head}" in text
    manifest = json.loads(zipfile.ZipFile(out).read(layout.MANIFEST))
    assert manifest["exported_by"].startswith("system:cli (")
    assert main(["evidence", "verify", str(out)]) == 0
    assert "verified: 12 ledger entries chain to head entry 30" in capsys.readouterr().out
    assert main(["evidence", "verify", str(out), "--head", head]) == 0
    assert main(["evidence", "verify", str(out), "--head", "e" * 64]) == 1
    assert "is not the published head" in capsys.readouterr().out


def test_incident_export_defaults_to_its_file_name(demo_env: Settings, cwd: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evidence", "export", "--incident", DEMAND_INCIDENT]) == 0
    assert (cwd / f"evidence-{DEMAND_INCIDENT}.zip").is_file()
    assert "8 ledger entries" in capsys.readouterr().out


def test_verify_failure_lists_every_problem(demo_env: Settings, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "p.zip"
    assert main(["evidence", "export", "--model", "basket_propensity", "--version", "1",
                 "--out", str(out)]) == 0
    files = read_pack(out.read_bytes())
    out.write_bytes(rezip({**files, layout.TIMELINE: b"[]", "extra.txt": b"x"}))
    capsys.readouterr()
    assert main(["evidence", "verify", str(out)]) == 1
    text = capsys.readouterr().out
    assert "NOT verified: 4 problem(s)" in text
    assert "  - timeline.json: sha256 differs from manifest.json" in text
    assert "  - extra.txt: extra file, not listed in manifest.json" in text
    assert "  - timeline.json: has no step for ledger entry 6 (model_trained)" in text


@pytest.mark.parametrize(("argv", "message"), [
    (["evidence", "verify", "missing.zip"], "cannot read missing.zip"),
    (["evidence", "export", "--model", "basket_propensity"], "--model needs --version"),
    (["evidence", "export", "--model", "nope", "--version", "1"], "no promotion of nope v1"),
    (["evidence", "export", "--incident", "INC-nope"], "INC-nope"),
    (["evidence", "export", "--incident", DEMAND_INCIDENT, "--version", "2"],
     "--version goes with --model"),
    (["evidence", "export", "--model", "basket_propensity", "--version", "1", "--out",
      "no/such/folder/p.zip"], "does not exist"),
])
def test_bad_input_exits_2(demo_env: Settings, argv: list[str], message: str,
                           capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert message in err
    assert "How to fix:" in err


def test_not_a_zip_exits_2(cwd: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (cwd / "fake.zip").write_text("hello")
    assert main(["evidence", "verify", "fake.zip"]) == 2
    assert "fake.zip is not a ZIP file" in capsys.readouterr().err
