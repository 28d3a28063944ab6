"""Four eyes: a model whose policy needs ``required_approvals = 2`` waits for two approvers."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from governance.drift.policy import Policy, load_policy
from governance.errors import AccessDenied, DecisionConflict

from .conftest import BOB, CAROL, DANA_APPROVER, DEMAND, ERIN, FOUR_EYES, Workspace


@pytest.fixture(params=["policy-object", "policy-file"])
def four_eyes(request: pytest.FixtureRequest, tmp_path: Path) -> Policy:
    """required_approvals = 2 for demand_forecast, built directly or read from TOML."""
    if request.param == "policy-object":
        return FOUR_EYES
    path = tmp_path / "policy.toml"
    path.write_text("[response]\nrequired_approvals = 1\n\n"
                    "[models.demand_forecast.response]\nrequired_approvals = 2\n",
                    encoding="utf-8")
    policy = load_policy(path)
    assert 2 == policy.response_for("demand_forecast").required_approvals
    assert 1 == policy.response_for("basket_propensity").required_approvals
    return policy


def test_two_different_approvers_are_needed(ws: Workspace, four_eyes: Policy) -> None:
    head = ws.head()
    incident = ws.incident_status()

    first = ws.decide(BOB, "approve", "first pair of eyes", policy=four_eyes)

    assert ("pending", None, None) == (first.state, first.decided_by, first.decided_at)
    assert [BOB.claims()] == [s.claims for s in first.signatures]
    assert incident == ws.incident_status()
    (signed,) = ws.entries(head)
    assert ("approval_signed", "pending", 2, [BOB.claims()]) == (
        signed.type, signed.payload["state"], signed.payload["required_approvals"],
        signed.payload["signers"])

    after_first = ws.snapshot()
    with pytest.raises(DecisionConflict, match=r"bob@retail\.example already signed") as info:
        ws.decide(BOB, "approve", "me again", policy=four_eyes)
    assert "a second, different approver must sign" == info.value.hint
    assert after_first == ws.snapshot()

    second = ws.decide(CAROL, "approve", "second pair of eyes", policy=four_eyes)

    assert ("approved", "user:carol@retail.example") == (second.state, second.decided_by)
    assert ["user:bob@retail.example", "user:carol@retail.example"] == [
        s.signer for s in second.signatures]
    assert "approved" == ws.incident_status()
    signed, decided = ws.entries(head)
    assert ("approval_decided", "approved", "user:carol@retail.example") == (
        decided.type, decided.payload["state"], decided.actor)
    assert [BOB.claims(), CAROL.claims()] == decided.payload["signers"]
    assert CAROL.claims() == decided.payload["signer"]
    assert [signed.seq, decided.seq] == [s.ledger_seq for s in second.signatures]
    assert ws.intact()


def test_the_same_person_through_another_login_is_not_a_second_pair_of_eyes(
        ws: Workspace) -> None:
    """Bob via the Databricks Apps proxy (other issuer and subject) is still Bob."""
    ws.decide(BOB, policy=FOUR_EYES)
    bob_again = replace(BOB, issuer="databricks-apps", subject="7781", source="databricks-apps",
                        expires_at=None)
    before = ws.snapshot()

    with pytest.raises(DecisionConflict, match="already signed"):
        ws.decide(bob_again, policy=FOUR_EYES)

    assert before == ws.snapshot()


def test_one_signature_is_not_enough_to_promote(ws: Workspace) -> None:
    ws.decide(BOB, policy=FOUR_EYES)
    before = ws.snapshot()

    with pytest.raises(DecisionConflict, match="ledger holds no approval"):
        ws.promote()

    assert before == ws.snapshot()


@pytest.mark.parametrize("first", ["approve", "reject"])
def test_a_rejection_by_anyone_closes_it(ws: Workspace, first: str) -> None:
    head = ws.head()
    if first == "approve":
        assert "pending" == ws.decide(BOB, "approve", policy=FOUR_EYES).state

    done = ws.decide(CAROL, "reject", "not on a holiday week", policy=FOUR_EYES)

    assert ("rejected", "user:carol@retail.example") == (done.state, done.decided_by)
    assert "rejected" == ws.incident_status()
    assert "approval_decided" == ws.entries(head)[-1].type
    with pytest.raises(DecisionConflict, match="already rejected"):
        ws.decide(ERIN, policy=FOUR_EYES)
    with pytest.raises(DecisionConflict, match="ledger holds no approval"):
        ws.promote()
    assert ["1"] == ws.prod_versions()
    assert ws.intact()


def test_separation_of_duties_holds_for_each_signer(ws: Workspace) -> None:
    ws.sql("UPDATE governance.approvals SET requested_by = 'user:dana@retail.example' "
           "WHERE approval_id = ?", [DEMAND])
    ws.decide(BOB, policy=FOUR_EYES)
    before = ws.snapshot()

    with pytest.raises(AccessDenied, match="requested"):
        ws.decide(DANA_APPROVER, policy=FOUR_EYES)

    assert before == ws.snapshot()


def test_four_eyes_then_promotes(ws: Workspace) -> None:
    ws.decide(BOB, policy=FOUR_EYES)
    ws.decide(CAROL, policy=FOUR_EYES)

    done = ws.promote()

    assert ("promoted", "2") == (done.state, ws.champion())
    assert ws.intact()
