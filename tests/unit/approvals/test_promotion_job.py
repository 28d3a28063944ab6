"""The promotion job for a signed approval: ordering, refusals, failures at every step, retry.

Failures are injected into a second Registry object for the same store (or a store that does
not exist), so the retry runs with clean clients; everything else is the real DuckDB and
MLflow sqlite stores of a private copy.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from governance import ledger, promotion, promotion_job
from governance.errors import BackendUnavailable, DecisionConflict, GovernanceError
from governance.promotion import PromotionFailed
from governance.registry import MlflowEnv, Registry, registries

from .conftest import BASKET, BOB, DEMAND, Workspace

PROMOTION_EVENTS = ["promotion_started", "model_promoted", "promotion_completed"]


def _job_events(ws: Workspace, since: int) -> list[str]:
    """The job's entries about the demand_forecast request and model, in ledger order."""
    return [e.type for e in ws.entries(since) if e.subject in (DEMAND, "demand_forecast")]


# --- the happy path and its order ---------------------------------------------------------------


def test_the_decision_is_in_the_ledger_before_the_job_runs(
        ws: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    head = ws.head()
    seen: list[list[str]] = []
    real = promotion.promote

    def spy(*args: Any, **kwargs: Any) -> promotion.Promotion:
        seen.append(ws.events(head))  # what the ledger holds when the copy starts
        return real(*args, **kwargs)

    monkeypatch.setattr(promotion, "promote", spy)
    ws.decide(BOB, "approve", "go")

    done = ws.promote()

    assert [["approval_decided", "promotion_started"]] == seen
    entries = [e for e in ws.entries(head) if e.subject in (DEMAND, "demand_forecast")]
    assert ["approval_decided", *PROMOTION_EVENTS] == [e.type for e in entries]
    decided, started, promoted, completed = entries
    assert decided.seq < started.seq < promoted.seq < completed.seq
    assert decided.seq == started.payload["decision_seq"]
    assert (DEMAND, "approved", "2") == (promoted.payload["approval_id"],
                                         promoted.payload["reason"],
                                         promoted.payload["uat_version"])
    assert decided.payload["candidate_model_digest"] == promoted.payload["model_digest"]
    assert ("promoted", "2", "promoted") == (done.state, done.detail["promotion"]["prod_version"],
                                             ws.incident_status())
    assert "2" == ws.champion()
    version = ws.prod.model_version("demand_forecast", "2")
    assert DEMAND == version.tags["driftgate.approval_id"]
    assert promoted.hash == version.tags["driftgate.ledger_hash"]
    assert ws.digest("prod", "demand_forecast", "2", tmp_path / "p") == ws.digest(
        "uat", "demand_forecast", "2", tmp_path / "u")
    assert ws.intact()


def test_promoting_a_promoted_request_again_changes_nothing(ws: Workspace) -> None:
    before = ws.snapshot(BASKET), ws.prod_versions("basket_propensity")

    done = ws.promote(BASKET)

    assert "promoted" == done.state
    assert before == (ws.snapshot(BASKET), ws.prod_versions("basket_propensity"))


# --- refusals: only what the ledger shows as approved ---------------------------------------------


def _refused(ws: Workspace, match: str, approval_id: str = DEMAND) -> None:
    before = ws.snapshot(approval_id)
    with pytest.raises(DecisionConflict, match=match):
        ws.promote(approval_id)
    assert before == ws.snapshot(approval_id)
    assert ["1"] == ws.prod_versions()
    assert ws.intact()


def test_a_pending_request_is_refused(ws: Workspace) -> None:
    _refused(ws, r"ledger holds no approval of APR-demand_forecast-20261005 "
                 r"\(request state pending\)")


def test_approved_by_sql_without_a_ledger_decision_is_refused(ws: Workspace) -> None:
    ws.sql("UPDATE governance.approvals SET state = 'approved', decided_by = "
           "'user:bob@retail.example', decided_at = now() WHERE approval_id = ?", [DEMAND])

    _refused(ws, r"ledger holds no approval .*request state approved")


def test_a_rejection_forged_into_approved_is_refused(ws: Workspace) -> None:
    ws.decide(BOB, "reject", "no")
    ws.sql("UPDATE governance.approvals SET state = 'approved' WHERE approval_id = ?", [DEMAND])

    _refused(ws, "ledger holds no approval")


@pytest.mark.parametrize("tamper", ["candidate_version", "pinned_digest"])
def test_a_request_changed_after_signing_is_refused(approved: Workspace, tamper: str) -> None:
    if tamper == "candidate_version":
        approved.sql("UPDATE governance.approvals SET candidate_version = '1' "
                     "WHERE approval_id = ?", [DEMAND])
    else:
        detail = approved.get().detail
        detail["candidate"]["model_digest"] = "0" * 64
        approved.sql("UPDATE governance.approvals SET detail = ? WHERE approval_id = ?",
                     [json.dumps(detail), DEMAND])

    _refused(approved, "no longer matches what was signed")


def test_candidate_files_changed_after_approval_fail_the_promotion(approved: Workspace) -> None:
    with (approved.candidate_artifacts() / "MLmodel").open("a", encoding="utf-8") as out:
        out.write("# swapped after approval\n")
    head = approved.head()

    with pytest.raises(PromotionFailed, match="no longer matches the approved files"):
        approved.promote()

    assert "promotion_failed" == approved.state()
    assert ["promotion_started", "promotion_failed"] == _job_events(approved, head)
    assert (["1"], "1") == (approved.prod_versions(), approved.champion())
    assert approved.intact()


# --- failures at each step, then a retry with the same approval -----------------------------


def _raise(what: str) -> Callable[..., Any]:
    def fail(*args: Any, **kwargs: Any) -> Any:
        raise ConnectionError(f"injected: {what} failed")
    return fail


class _DeadClient:
    """An MLflow client whose every call fails, like a store that went away mid-job."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        return _raise(f"prod {name}")


def _fault(ws: Workspace, step: str, tmp_path: Path) -> dict[str, Registry]:
    """Registries for the failing attempt: fresh objects for the copy's stores, one broken."""
    regs = registries(ws.settings)
    if step == "export":
        regs["uat"].download_model = _raise("uat download")  # type: ignore[method-assign]
    elif step == "import-artifacts":
        regs["prod"].log_artifacts = _raise("prod log_artifacts")  # type: ignore[method-assign]
    elif step == "import-register":
        regs["prod"].register_version = _raise("prod register")  # type: ignore[method-assign]
    elif step == "tag":
        regs["prod"].set_version_tag = _raise("prod tag")  # type: ignore[method-assign]
    elif step == "alias":
        regs["prod"].set_champion = _raise("prod alias")  # type: ignore[method-assign]
    elif step == "prod-missing":
        regs["prod"] = Registry(MlflowEnv("prod", f"sqlite:///{tmp_path / 'gone' / 'prod.db'}",
                                          tmp_path / "gone" / "prod-artifacts"))
    else:  # prod-dead
        regs["prod"].__dict__["_client"] = _DeadClient()
    return regs


STEPS = ["export", "import-artifacts", "import-register", "tag", "alias", "prod-missing",
         "prod-dead"]


@pytest.mark.parametrize("step", STEPS)
def test_a_failed_step_is_recorded_and_a_retry_promotes_once(
        approved: Workspace, step: str, tmp_path: Path) -> None:
    head = approved.head()
    broken = _fault(approved, step, tmp_path)

    with pytest.raises(GovernanceError) as info:
        approved.promote(uat=broken["uat"], prod=broken["prod"])

    if step == "prod-missing":
        assert isinstance(info.value, BackendUnavailable)
        assert "does not exist" in str(info.value)
    else:
        assert isinstance(info.value, PromotionFailed)
        assert "injected" in str(info.value)
        assert "retry" in info.value.hint
    assert "promotion_failed" == approved.state()
    assert ["promotion_started", "promotion_failed"] == _job_events(approved, head)
    failed = approved.entries(head, DEMAND, ["promotion_failed"])[-1]
    assert ("does not exist" if step == "prod-missing" else "injected") in failed.payload["error"]
    assert "promotion_failed" == approved.get().detail["promotion"]["state"]
    assert "1" == approved.champion()
    with approved.warehouse.session() as session:
        assert DEMAND != ledger.latest_by_type(session, "model_promoted")[
            "demand_forecast"].payload["approval_id"]
    assert approved.intact()

    done = approved.promote()

    assert ("promoted", "2") == (done.state, approved.champion())
    assert ["1", "2"] == approved.prod_versions()  # exactly one new version, no duplicate copy
    assert ["promotion_started", "promotion_failed", *PROMOTION_EVENTS] == _job_events(
        approved, head)
    version = approved.prod.model_version("demand_forecast", "2")
    assert DEMAND == version.tags["driftgate.approval_id"]
    assert approved.get().candidate_digest == version.tags["driftgate.model_digest"]
    assert approved.intact()


def test_a_second_failure_then_success_still_leaves_one_copy(approved: Workspace,
                                                            tmp_path: Path) -> None:
    for step in ("tag", "alias"):
        with pytest.raises(PromotionFailed):
            approved.promote(prod=_fault(approved, step, tmp_path)["prod"])

    approved.promote()

    assert (["1", "2"], "2") == (approved.prod_versions(), approved.champion())
    assert approved.intact()


def test_a_retry_never_reuses_a_copy_that_failed_verification(
        approved: Workspace, tmp_path: Path) -> None:
    regs = registries(approved.settings)
    real_log = regs["prod"].log_artifacts

    def corrupting_log(run_id: str, local_dir: Path, artifact_path: str) -> None:
        bad = tmp_path / "bad"
        shutil.copytree(local_dir, bad)
        (bad / "MLmodel").write_text("corrupted in transit\n", encoding="utf-8")
        real_log(run_id, bad, artifact_path)

    regs["prod"].log_artifacts = corrupting_log  # type: ignore[method-assign]
    with pytest.raises(PromotionFailed, match="does not match"):
        approved.promote(prod=regs["prod"])
    assert "1" == approved.champion()

    approved.promote()

    champion = approved.champion()
    assert approved.get().candidate_digest == approved.digest(
        "prod", "demand_forecast", champion, tmp_path / "champion")


def test_a_crash_after_the_alias_moved_is_finished_without_a_second_copy(
        approved: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """The job died after model_promoted was written: the retry only does the bookkeeping."""
    head = approved.head()
    real = promotion_job._set_state

    def crash_on_completion(*args: Any, **kwargs: Any) -> None:
        if args[2] == "promoted":
            raise KeyboardInterrupt("killed after the alias moved")
        real(*args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(promotion_job, "_set_state", crash_on_completion)
        with pytest.raises(KeyboardInterrupt):
            approved.promote()
    assert ("promoting", "2") == (approved.state(), approved.champion())

    done = approved.promote()

    assert "promoted" == done.state
    assert (["1", "2"], "2") == (approved.prod_versions(), approved.champion())
    assert ["promotion_started", "model_promoted", "promotion_completed"] == _job_events(
        approved, head)
    assert approved.intact()


def test_run_dispatches_in_process_without_a_job_id(approved: Workspace) -> None:
    def no_workspace() -> Any:
        raise AssertionError("no Databricks client may be built without a job id")

    done = promotion_job.run(approved.warehouse, approved.uat, approved.prod, approved.settings,
                             DEMAND, client_factory=no_workspace)

    assert ("promoted", "2") == (done.state, approved.champion())
