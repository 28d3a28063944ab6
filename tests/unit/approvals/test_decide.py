"""``approvals.decide``: who may sign, what is signed, and that a request is decided once.

Every test works on a private copy of the seeded demo (real DuckDB and MLflow sqlite stores).
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from mlflow import MlflowClient

from governance import approvals
from governance.drift.policy import Policy, ResponseRule
from governance.errors import AccessDenied, DataError, DecisionConflict, GovernanceError
from governance.identity import Identity

from .conftest import (
    ADAM,
    AUDREY,
    BASKET,
    BOB,
    CAROL,
    DANA,
    DANA_APPROVER,
    DEMAND,
    FOUR_EYES,
    VIC,
    Workspace,
)

# --- who may decide ----------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "decision"), [
    (None, "approve"), (VIC, "approve"), (DANA, "approve"), (AUDREY, "approve"),
    (ADAM, "approve"), (DANA, "reject"),
], ids=["nobody", "viewer", "data_scientist", "auditor", "admin", "data_scientist-reject"])
def test_only_an_approver_may_decide(ws: Workspace, who: Identity | None,
                                     decision: str) -> None:
    """Calling decide directly (no UI) without the approver role changes nothing."""
    before = ws.snapshot()

    with pytest.raises(AccessDenied, match=r"signed-in user|needs the approver role"):
        ws.decide(who, decision, "not good enough")

    assert before == ws.snapshot()
    assert ws.intact()


def test_expired_sign_in_cannot_decide(ws: Workspace) -> None:
    """The token expired after login: decide re-checks exp itself."""
    stale = replace(BOB, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    before = ws.snapshot()

    with pytest.raises(AccessDenied, match="expired"):
        ws.decide(stale)

    assert before == ws.snapshot()


def test_unknown_decision_and_unknown_request_are_refused(ws: Workspace) -> None:
    before = ws.snapshot()

    with pytest.raises(DataError, match="unknown decision 'maybe'"):
        ws.decide(BOB, "maybe")
    with pytest.raises(DataError, match="no approval request 'APR-nope'"):
        ws.decide(BOB, approval_id="APR-nope")

    assert before == ws.snapshot()


# --- separation of duties ----------------------------------------------------------------------


@pytest.mark.parametrize(("requested_by", "decision"), [
    ("user:dana@retail.example", "approve"), ("dana@retail.example", "reject")])
def test_the_requester_may_not_decide(ws: Workspace, requested_by: str, decision: str) -> None:
    """Dana (also an approver) requested the candidate: she cannot sign it either way."""
    ws.sql("UPDATE governance.approvals SET requested_by = ? WHERE approval_id = ?",
           [requested_by, DEMAND])
    before = ws.snapshot()

    with pytest.raises(AccessDenied, match=r"dana@retail\.example requested "
                                           r"APR-demand_forecast-20261005"):
        ws.decide(DANA_APPROVER, decision, "mine")

    assert before == ws.snapshot()
    assert "approved" == ws.decide(BOB).state  # an independent approver can


def _set_author(ws: Workspace, author: str) -> None:
    """Make ``author`` the candidate run's mlflow.user in the copy's UAT store."""
    run_id = ws.get().detail["candidate"]["run_id"]
    client = MlflowClient(tracking_uri=ws.uat.env.uri, registry_uri=ws.uat.env.uri)
    client.set_tag(run_id, "mlflow.user", author)
    assert author == ws.uat.run(run_id).data.tags["mlflow.user"]


@pytest.mark.parametrize("author", ["bob@retail.example", "user:bob@retail.example"])
def test_the_candidate_runs_author_may_not_decide(ws: Workspace, author: str) -> None:
    _set_author(ws, author)
    before = ws.snapshot()

    with pytest.raises(AccessDenied, match=r"bob@retail\.example authored the candidate run"):
        ws.decide(BOB)

    assert before == ws.snapshot()
    assert "approved" == ws.decide(CAROL).state


def test_author_check_ignores_email_case(ws: Workspace) -> None:
    _set_author(ws, "Bob@Retail.Example")

    with pytest.raises(AccessDenied, match="authored the candidate run"):
        ws.decide(BOB)


# --- decided once --------------------------------------------------------------------------------


def test_a_second_decision_is_a_conflict(ws: Workspace) -> None:
    assert "approved" == ws.decide(BOB).state
    before = ws.snapshot()

    with pytest.raises(DecisionConflict, match=r"already approved by user:bob@retail\.example"):
        ws.decide(CAROL, "reject", "too late")
    with pytest.raises(DecisionConflict, match="already approved"):
        ws.decide(BOB)  # the double click

    assert before == ws.snapshot()
    assert ["approval_decided"] == ws.events(22)
    assert ws.intact()


def test_a_promoted_request_cannot_be_decided_again(ws: Workspace) -> None:
    before = ws.snapshot(BASKET)

    with pytest.raises(DecisionConflict, match=r"already promoted by user:alice@retail\.example"):
        ws.decide(BOB, "reject", "changed my mind", approval_id=BASKET)

    assert before == ws.snapshot(BASKET)


class _Gate(Policy):
    """A policy whose lookup (inside decide's unit of work, after the re-read) waits until
    every signer got there: the two decisions then really overlap in DuckDB."""

    def __init__(self, parties: int, **fields: Any) -> None:
        super().__init__(**fields)
        object.__setattr__(self, "barrier", threading.Barrier(parties, timeout=30))

    def response_for(self, model: str) -> ResponseRule:
        self.barrier.wait()  # type: ignore[attr-defined]
        return super().response_for(model)


def _race(ws: Workspace, signers: tuple[Identity, ...], policy: Policy
          ) -> list[approvals.Approval | BaseException]:
    """Sign at once from one thread per signer, each through its own unit of work."""
    results: list[approvals.Approval | BaseException] = [RuntimeError("not run")] * len(signers)

    def sign(index: int, who: Identity) -> None:
        try:
            results[index] = approvals.decide(ws.warehouse, ws.uat, ws.settings, policy, DEMAND,
                                              who, "approve", f"ok from {who.email}")
        except BaseException as exc:  # handed to the main thread
            results[index] = exc

    threads = [threading.Thread(target=sign, args=pair) for pair in enumerate(signers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(t.is_alive() for t in threads)
    return results


@pytest.mark.parametrize("signers", [(BOB, CAROL), (BOB, BOB)], ids=["two-approvers",
                                                                      "double-click"])
def test_simultaneous_decisions_leave_exactly_one_standing(
        ws: Workspace, signers: tuple[Identity, Identity]) -> None:
    """Two units of work decide at the same moment: one decision, one ledger entry."""
    head = ws.head()

    results = _race(ws, signers, _Gate(2))

    won = [r for r in results if isinstance(r, approvals.Approval)]
    lost = [r for r in results if isinstance(r, BaseException)]
    assert 1 == len(won), results
    assert 1 == len(lost), results
    assert isinstance(lost[0], GovernanceError), repr(lost[0])
    state, decided_by, _, comment, _, signatures = ws.row()
    assert ("approved", won[0].decided_by) == (state, decided_by)
    assert f"ok from {decided_by.removeprefix('user:')}" == comment
    assert ((decided_by, "approve"),) == signatures
    decided = ws.entries(head, DEMAND, ["approval_decided"])
    assert 1 == len(decided)
    assert decided_by == decided[0].actor
    assert ["approval_decided"] == ws.events(head)
    assert ws.intact()


def test_the_losing_approver_gets_a_clear_decision_conflict(ws: Workspace) -> None:
    results = _race(ws, (BOB, CAROL), _Gate(2))

    (lost,) = [r for r in results if isinstance(r, BaseException)]
    assert isinstance(lost, DecisionConflict), repr(lost)
    assert "decided" in str(lost) or "already approved" in str(lost)


def test_simultaneous_first_signatures_under_four_eyes_keep_one(ws: Workspace) -> None:
    """Two first signatures at once on a four-eyes request: one stands, still pending."""
    head = ws.head()

    results = _race(ws, (BOB, CAROL), _Gate(2, model_response=FOUR_EYES.model_response))

    won = [r for r in results if isinstance(r, approvals.Approval)]
    assert 1 == len(won), results
    assert "pending" == won[0].state
    state, decided_by, *_, signatures = ws.row()
    assert ("pending", None) == (state, decided_by)
    assert 1 == len(signatures)
    assert ["approval_signed"] == ws.events(head)
    assert ws.intact()


# --- reject, candidate changed, the signed entry --------------------------------------------------


def test_reject_needs_a_comment(ws: Workspace) -> None:
    before = ws.snapshot()

    for comment in ("", "   \n\t"):
        with pytest.raises(DataError, match="rejection needs a comment"):
            ws.decide(BOB, "reject", comment)

    assert before == ws.snapshot()


def test_reject_closes_the_request_and_its_incident(ws: Workspace) -> None:
    head = ws.head()

    done = ws.decide(BOB, "reject", "  holdout too short  ")

    assert ("rejected", "user:bob@retail.example", "holdout too short") == (
        done.state, done.decided_by, done.comment)
    assert "rejected" == ws.incident_status()
    (entry,) = ws.entries(head)
    assert ("approval_decided", "reject", "rejected", "holdout too short") == (
        entry.type, entry.payload["decision"], entry.payload["state"], entry.payload["comment"])
    with pytest.raises(DecisionConflict, match="already rejected"):
        ws.decide(CAROL)


def _change_candidate(ws: Workspace, how: str) -> None:
    folder = ws.candidate_artifacts()
    if how == "modified":
        with (folder / "MLmodel").open("a", encoding="utf-8") as out:
            out.write("# tampered\n")
    else:
        (folder / "conda.yaml").unlink()


@pytest.mark.parametrize("how", ["modified", "removed"])
def test_changed_candidate_is_refused_and_recorded(ws: Workspace, how: str) -> None:
    """Files changed after the request: DecisionConflict, an approval_refused entry, no
    signature, still pending."""
    pinned = ws.get().candidate_digest
    _change_candidate(ws, how)
    head = ws.head()
    row = ws.row()

    with pytest.raises(DecisionConflict, match="no longer matches the files") as info:
        ws.decide(BOB)

    assert "prepare a new candidate" in info.value.hint
    assert row == ws.row()
    (entry,) = ws.entries(head)
    assert ("approval_refused", DEMAND, "user:bob@retail.example") == (
        entry.type, entry.subject, entry.actor)
    assert pinned == entry.payload["pinned"]
    assert pinned != entry.payload["found"]
    assert BOB.claims() == entry.payload["signer"]
    assert ["1"] == ws.prod_versions()
    assert ws.intact()


def test_the_signed_entry_holds_claims_time_comment_digest_and_evaluation(ws: Workspace) -> None:
    request = ws.get()
    evaluated_seq = request.detail["ledger"]["candidate_evaluated"]
    (evaluation,) = [e for e in ws.entries() if e.seq == evaluated_seq]
    assert "candidate_evaluated" == evaluation.type
    head = ws.head()

    done = ws.decide(BOB, "approve", "rmse 12% better on the drifted holdout")

    (entry,) = ws.entries(head)
    assert ("approval_decided", "user:bob@retail.example", "prod", DEMAND) == (
        entry.type, entry.actor, entry.environment, entry.subject)
    payload = dict(entry.payload)
    assert BOB.claims() == payload["signer"]
    assert [BOB.claims()] == payload["signers"]
    assert "https://idp.retail.example" == payload["signer"]["iss"]
    assert "sub-bob" == payload["signer"]["sub"]
    assert "rmse 12% better on the drifted holdout" == payload["comment"]
    assert request.candidate_digest == payload["candidate_model_digest"]
    assert evaluation.hash == payload["evaluation_entry_hash"]
    assert ("2", "1", "approve", "approved", 1) == (
        payload["candidate_version"], payload["champion_version"], payload["decision"],
        payload["state"], payload["required_approvals"])
    assert done.decided_at is not None
    assert abs(entry.time - done.decided_at) < timedelta(seconds=5)
    (signature,) = done.signatures
    assert (f"user:{BOB.email}", "approve", BOB.claims(), entry.seq) == (
        signature.signer, signature.decision, signature.claims, signature.ledger_seq)
    assert "approved" == ws.incident_status()
    assert ws.intact()


def test_a_demo_signature_is_told_apart_from_a_login(ws: Workspace) -> None:
    """The seed's scripted approval records source "demo": no login vouched for it."""
    (signature,) = ws.get(BASKET).signatures

    assert ("demo", "alice@retail.example") == (signature.claims["source"],
                                                signature.claims["email"])
