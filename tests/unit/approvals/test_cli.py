"""``python -m governance approvals list`` and ``promote`` on a private copy."""

from __future__ import annotations

import json

import pytest

from governance.cli import main

from .conftest import BASKET, BOB, DEMAND, Workspace


@pytest.fixture
def cli(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("GOV_HOME", str(ws.home))
    monkeypatch.setenv("GOV_DEMO_SCALE", "small")
    monkeypatch.chdir(ws.home.parent)  # no stray .streamlit/secrets.toml
    return ws


def _json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_list_pending_as_json(cli: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    assert 0 == main(["approvals", "list", "--state", "pending", "--format", "json"])

    (row,) = _json_lines(capsys.readouterr().out)
    assert {"approval_id": DEMAND, "model": "demand_forecast", "state": "pending",
            "kind": "drift", "incident_id": "INC-demand_forecast-20261005",
            "candidate_version": "2", "champion_version": "1",
            "requested_by": "system:drift-response", "decided_by": None, "decided_at": None,
            "comment": None, "signers": [], "promotion": None} == {
        k: v for k, v in row.items() if k != "requested_at"}
    assert str(row["requested_at"]).endswith("Z")


def test_list_everything_as_json_and_table(cli: Workspace,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert 0 == main(["approvals", "list", "--format", "json"])
    rows = {r["approval_id"]: r for r in _json_lines(capsys.readouterr().out)}

    assert {DEMAND, BASKET} == set(rows)
    assert (["user:alice@retail.example"], "promoted") == (rows[BASKET]["signers"],
                                                          rows[BASKET]["state"])
    assert {"prod_version": "2", "state": "promoted"} == rows[BASKET]["promotion"]

    assert 0 == main(["approvals", "list"])
    table = capsys.readouterr().out
    assert DEMAND in table
    assert "user:alice@retail.example" in table


def test_list_rejects_an_unknown_state(cli: Workspace) -> None:
    with pytest.raises(SystemExit) as info:
        main(["approvals", "list", "--state", "maybe"])
    assert 2 == info.value.code


def test_promote_a_pending_request_exits_2_and_changes_nothing(
        cli: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    before = cli.snapshot()

    assert 2 == main(["promote", "--approval", DEMAND])

    captured = capsys.readouterr()
    assert "" == captured.out
    assert (f"error: the ledger holds no approval of {DEMAND} (request state pending)"
            in captured.err)
    assert "How to fix: only an approved request can be promoted" in captured.err
    assert before == cli.snapshot()


def test_promote_an_unknown_request_exits_2(cli: Workspace,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    assert 2 == main(["promote", "--approval", "APR-nope"])
    assert "no approval request 'APR-nope'" in capsys.readouterr().err


def test_promote_an_approved_request(cli: Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    cli.decide(BOB)

    assert 0 == main(["promote", "--approval", DEMAND])

    assert (f"{DEMAND}: promoted, demand_forecast prod v2 is champion"
            == capsys.readouterr().out.strip())
    assert "2" == cli.champion()
    assert cli.intact()
