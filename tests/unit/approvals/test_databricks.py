"""``promotion_job.run_on_databricks`` against a fake Jobs API.

No Databricks workspace exists here: the client is a stand-in with the SDK's ``jobs.run_now``
/ ``jobs.get_run`` shape, returning the SDK's own ``databricks.sdk.service.jobs`` objects
(``Run``, ``RunState``, ``RunLifeCycleState``, ``RunResultState``). The governance store is the
real DuckDB copy, so what is recorded is checked for real; prod's registry is never touched
(the remote job would do the copy).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from databricks.sdk.service.jobs import (
    Run,
    RunLifeCycleState,
    RunNowResponse,
    RunResultState,
    RunState,
)

from governance import promotion_job
from governance.errors import DecisionConflict
from governance.promotion import PromotionFailed

from .conftest import BASKET, BOB, CAROL, DEMAND, Workspace

JOB_ID, RUN_ID = 4711, 90210
URL = f"https://adb-1.azuredatabricks.net/#job/{JOB_ID}/run/{RUN_ID}"
L, R = RunLifeCycleState, RunResultState


def run(life: RunLifeCycleState, result: RunResultState | None = None) -> Run:
    return Run(run_id=RUN_ID, job_id=JOB_ID, run_page_url=URL,
               state=RunState(life_cycle_state=life, result_state=result))


@dataclass
class FakeJobs:
    """``client.jobs``: run_now records its arguments; get_run replays ``runs`` (the last one
    repeats forever)."""

    runs: list[Run]
    run_now_calls: list[dict[str, Any]] = field(default_factory=list)
    polls: int = 0

    def run_now(self, **kwargs: Any) -> RunNowResponse:
        self.run_now_calls.append(kwargs)
        return RunNowResponse(run_id=RUN_ID, number_in_job=RUN_ID)

    def get_run(self, run_id: int) -> Run:
        assert RUN_ID == run_id
        found = self.runs[min(self.polls, len(self.runs) - 1)]
        self.polls += 1
        return found


@dataclass
class FakeClient:
    jobs: FakeJobs


@dataclass
class Clock:
    slept: list[float] = field(default_factory=list)

    def __call__(self, seconds: float) -> None:
        self.slept.append(seconds)


def start(ws: Workspace, runs: list[Run], approval_id: str = DEMAND, **kwargs: Any
          ) -> tuple[FakeJobs, Clock, Any]:
    jobs, clock = FakeJobs(runs), Clock()
    kwargs.setdefault("poll_seconds", 10.0)
    try:
        result: Any = promotion_job.run_on_databricks(
            ws.warehouse, FakeClient(jobs), JOB_ID, approval_id, sleep=clock, **kwargs)
    except Exception as exc:  # returned for the test to inspect
        result = exc
    return jobs, clock, result


def test_success_is_recorded_with_the_run_page(approved: Workspace) -> None:
    head = approved.head()
    decided = approved.entries(0, DEMAND, ["approval_decided"])[-1]

    jobs, clock, done = start(approved, [run(L.PENDING), run(L.RUNNING), run(L.RUNNING),
                                         run(L.TERMINATED, R.SUCCESS)])

    assert "promoted" == done.state, done
    (call,) = jobs.run_now_calls
    assert JOB_ID == call["job_id"]
    assert DEMAND == call["idempotency_token"]
    assert {"approval_id": DEMAND, "model_name": "demand_forecast", "uat_version": "2",
            "decision_seq": str(decided.seq)} == call["job_parameters"]
    assert [10.0, 10.0, 10.0] == clock.slept
    started, completed = approved.entries(head, DEMAND)
    assert ("promotion_started", RUN_ID, URL, decided.seq) == (
        started.type, started.payload["databricks_run_id"], started.payload["run_page_url"],
        started.payload["decision_seq"])
    assert ("promotion_completed", "SUCCESS", "TERMINATED", URL) == (
        completed.type, completed.payload["result_state"], completed.payload["life_cycle_state"],
        completed.payload["run_page_url"])
    assert URL == done.detail["promotion"]["run_page_url"]
    assert "promoted" == approved.incident_status()
    assert approved.intact()


@pytest.mark.parametrize(("final", "shown"), [
    (run(L.TERMINATED, R.FAILED), "ended FAILED"),
    (run(L.TERMINATED, R.CANCELED), "ended CANCELED"),
    (run(L.TERMINATED, R.TIMEDOUT), "ended TIMEDOUT"),
    (run(L.INTERNAL_ERROR), "ended None"),
    (run(L.SKIPPED), "ended None"),
], ids=["failed", "canceled", "timedout", "internal-error", "skipped"])
def test_a_run_that_did_not_succeed_is_a_recorded_failure(
        approved: Workspace, final: Run, shown: str) -> None:
    """The SDK returns normally for a FAILED run: result_state decides, not the return."""
    head = approved.head()

    jobs, _, error = start(approved, [run(L.RUNNING), final])

    assert isinstance(error, PromotionFailed), error
    assert f"Databricks promotion run {RUN_ID} {shown}" in str(error)
    assert URL in error.hint
    assert 1 == len(jobs.run_now_calls)
    assert "promotion_failed" == approved.state()
    started, failed = approved.entries(head, DEMAND)
    assert ("promotion_started", "promotion_failed") == (started.type, failed.type)
    assert (URL, RUN_ID) == (failed.payload["run_page_url"], failed.payload["databricks_run_id"])
    assert f"Databricks run {RUN_ID} {shown}" == failed.payload["error"]
    assert "1" == approved.champion()
    assert approved.intact()


def test_a_run_that_never_finishes_times_out_as_a_failure(approved: Workspace) -> None:
    head = approved.head()

    jobs, clock, error = start(approved, [run(L.RUNNING)], timeout_seconds=30.0)

    assert isinstance(error, PromotionFailed), error
    assert "timed out" in str(error)
    assert [10.0, 10.0, 10.0] == clock.slept
    assert 4 == jobs.polls
    assert "promotion_failed" == approved.state()
    failed = approved.entries(head, DEMAND)[-1]
    assert ("promotion_failed", "RUNNING", None) == (
        failed.type, failed.payload["life_cycle_state"], failed.payload["result_state"])
    assert approved.intact()


def test_a_failed_run_is_retried_with_the_same_idempotency_token(approved: Workspace) -> None:
    first, _, error = start(approved, [run(L.TERMINATED, R.FAILED)])
    assert isinstance(error, PromotionFailed)

    second, _, done = start(approved, [run(L.TERMINATED, R.SUCCESS)])

    assert "promoted" == done.state
    assert [DEMAND, DEMAND] == [c["idempotency_token"]
                                for c in first.run_now_calls + second.run_now_calls]
    assert approved.intact()


@pytest.mark.parametrize("prepare", ["pending", "approved-by-sql", "rejected"])
def test_not_approved_is_refused_before_run_now(ws: Workspace, prepare: str) -> None:
    if prepare == "approved-by-sql":
        ws.sql("UPDATE governance.approvals SET state = 'approved' WHERE approval_id = ?",
               [DEMAND])
    elif prepare == "rejected":
        ws.decide(BOB, "reject", "no")
    before = ws.snapshot()

    jobs, clock, error = start(ws, [run(L.TERMINATED, R.SUCCESS)])

    assert isinstance(error, DecisionConflict), error
    assert "ledger holds no approval" in str(error)
    assert ([], 0, []) == (jobs.run_now_calls, jobs.polls, clock.slept)
    assert before == ws.snapshot()


def test_an_already_promoted_request_starts_no_run(ws: Workspace) -> None:
    before = ws.snapshot(BASKET)

    jobs, _, done = start(ws, [run(L.TERMINATED, R.SUCCESS)], approval_id=BASKET)

    assert "promoted" == done.state
    assert [] == jobs.run_now_calls
    assert before == ws.snapshot(BASKET)


def test_run_dispatches_to_databricks_when_a_job_id_is_set(approved: Workspace) -> None:
    from dataclasses import replace

    jobs = FakeJobs([run(L.TERMINATED, R.SUCCESS)])
    settings = replace(approved.settings, promotion_job_id=str(JOB_ID))

    done = promotion_job.run(approved.warehouse, approved.uat, approved.prod, settings, DEMAND,
                             client_factory=lambda: FakeClient(jobs))

    assert "promoted" == done.state
    assert [JOB_ID] == [c["job_id"] for c in jobs.run_now_calls]
    assert "1" == approved.champion()  # the remote job copies; nothing local was promoted


def test_long_approval_ids_get_distinct_idempotency_tokens(ws: Workspace) -> None:
    prefix = "APR-" + "x" * 60
    ids = [f"{prefix}-a", f"{prefix}-b"]
    for approval_id in ids:
        ws.sql("INSERT INTO governance.approvals SELECT ? AS approval_id, * EXCLUDE "
               "(approval_id) FROM governance.approvals WHERE approval_id = ?",
               [approval_id, DEMAND])
        ws.decide(BOB if approval_id.endswith("a") else CAROL, approval_id=approval_id)

    tokens = [start(ws, [run(L.TERMINATED, R.SUCCESS)], approval_id=i)[0]
              .run_now_calls[0]["idempotency_token"] for i in ids]

    assert all(len(t) <= 64 for t in tokens)
    assert tokens[0] != tokens[1]
