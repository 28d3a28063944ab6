"""Rollback is itself an approval request: asked by a data scientist, decided by another
person, promoted by the same job."""

from __future__ import annotations

from pathlib import Path

import pytest

from governance import approvals
from governance.errors import AccessDenied, DataError
from governance.identity import Identity

from .conftest import ADAM, AUDREY, BOB, DANA, DANA_APPROVER, VIC, Workspace

MODEL = "basket_propensity"
ROLLBACK = "APR-basket_propensity-rollback-1"  # the first rollback request of the model


def ask(ws: Workspace, who: Identity | None = DANA, reason: str = "v2 over-predicts on "
        "weekends", model: str = MODEL) -> approvals.Approval:
    return approvals.request_rollback(ws.warehouse, ws.uat, ws.settings, model, who, reason)


def test_a_data_scientist_asks_for_the_previous_champion(ws: Workspace, tmp_path: Path) -> None:
    head = ws.head()

    request = ask(ws)

    assert (ROLLBACK, MODEL, "1", "2", None, "pending", "user:dana@retail.example") == (
        request.approval_id, request.model_name, request.candidate_version,
        request.champion_version, request.incident_id, request.state, request.requested_by)
    assert ("rollback", "v2 over-predicts on weekends") == (request.detail["kind"],
                                                           request.detail["reason"])
    assert {"from_prod_version": "2", "to_prod_version": "1"} == request.detail["rollback"]
    prod_v1 = ws.digest("prod", MODEL, "1", tmp_path / "prod")
    assert prod_v1 == request.candidate_digest
    assert prod_v1 == ws.digest("uat", MODEL, "1", tmp_path / "uat")
    (entry,) = ws.entries(head)
    assert ("approval_requested", ROLLBACK, "user:dana@retail.example", "rollback") == (
        entry.type, entry.subject, entry.actor, entry.payload["kind"])
    assert DANA.claims() == entry.payload["requester"]
    assert ws.intact()


def test_an_admin_may_ask_too(ws: Workspace) -> None:
    assert "user:adam@retail.example" == ask(ws, ADAM).requested_by


def _nothing_changed(ws: Workspace, before: tuple[int, int]) -> None:
    assert before == (ws.head(), ws.scalar("SELECT count(*) FROM governance.approvals"))


@pytest.mark.parametrize("who", [None, BOB, AUDREY, VIC], ids=["nobody", "approver-only",
                                                                "auditor", "viewer"])
def test_only_data_scientists_and_admins_may_ask(ws: Workspace, who: Identity | None) -> None:
    before = ws.head(), ws.scalar("SELECT count(*) FROM governance.approvals")

    with pytest.raises(AccessDenied):
        ask(ws, who)

    _nothing_changed(ws, before)


@pytest.mark.parametrize("reason", ["", "  \n"])
def test_a_rollback_needs_a_reason(ws: Workspace, reason: str) -> None:
    before = ws.head(), ws.scalar("SELECT count(*) FROM governance.approvals")

    with pytest.raises(DataError, match="needs a reason"):
        ask(ws, reason=reason)

    _nothing_changed(ws, before)


def test_a_model_with_one_champion_has_nothing_to_roll_back_to(ws: Workspace) -> None:
    before = ws.head(), ws.scalar("SELECT count(*) FROM governance.approvals")

    with pytest.raises(DataError, match="price_elasticity has had only one champion"):
        ask(ws, model="price_elasticity")
    with pytest.raises(DataError, match="only one champion"):
        ask(ws, model="demand_forecast")

    _nothing_changed(ws, before)


def test_a_second_rollback_while_one_is_pending_is_refused(ws: Workspace) -> None:
    ask(ws)
    before = ws.head(), ws.scalar("SELECT count(*) FROM governance.approvals")

    with pytest.raises(DataError, match=f"already has a pending request \\({ROLLBACK}\\)"):
        ask(ws, reason="again")

    _nothing_changed(ws, before)


def test_the_requester_cannot_approve_their_rollback(ws: Workspace) -> None:
    ask(ws, DANA_APPROVER)
    before = ws.snapshot(ROLLBACK)

    with pytest.raises(AccessDenied, match="requested"):
        ws.decide(DANA_APPROVER, approval_id=ROLLBACK)

    assert before == ws.snapshot(ROLLBACK)


def test_an_approved_rollback_puts_the_old_files_back_as_a_new_version(
        ws: Workspace, tmp_path: Path) -> None:
    ask(ws)
    head = ws.head()

    assert "approved" == ws.decide(BOB, "approve", "roll back", approval_id=ROLLBACK).state
    done = ws.promote(ROLLBACK)

    assert ("promoted", "3") == (done.state, ws.champion(MODEL))
    assert ["1", "2", "3"] == ws.prod_versions(MODEL)
    assert ws.digest("prod", MODEL, "1", tmp_path / "v1") == ws.digest(
        "prod", MODEL, "3", tmp_path / "v3")
    assert ws.digest("prod", MODEL, "1", tmp_path / "v1b") != ws.digest(
        "prod", MODEL, "2", tmp_path / "v2")
    promoted = ws.entries(head, MODEL, ["model_promoted"])[-1]
    assert (ROLLBACK, "rollback", "1", "3") == (
        promoted.payload["approval_id"], promoted.payload["reason"],
        promoted.payload["uat_version"], promoted.payload["prod_version"])
    assert ws.intact()


def test_a_new_rollback_after_a_rejected_one_is_a_new_request(ws: Workspace) -> None:
    """Rejected once, asked again: the new request is pending and decidable on its own."""
    first = ask(ws)
    ws.decide(BOB, "reject", "not yet", approval_id=first.approval_id)

    second = ask(ws, reason="now it is weekend again")

    assert "pending" == second.state
    assert 1 == ws.scalar("SELECT count(*) FROM governance.approvals WHERE approval_id = ?",
                          [second.approval_id])
    assert "approved" == ws.decide(BOB, "approve", "ok now",
                                   approval_id=second.approval_id).state
