"""Crash and resume at every step boundary, and the lease that keeps two runners apart.

A kill is simulated by raising :class:`Killed` (a BaseException, so the pipeline records no
failure, exactly as after SIGKILL) at a chosen point: at the start of a step (the boundary
between two commits), inside a step after its MLflow work but before its commit, or in the
middle of its MLflow work. A rerun must then continue from the last committed step and end
with one dataset, one candidate and one request. A real SIGKILL of the CLI is in test_cli_kill.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest

from governance import ledger
from governance.errors import EnvironmentViolation, WorkspaceBusy
from governance.registry import Registry
from governance.response import dataset, pipeline, state, steps, training
from governance.warehouse import Warehouse
from tests.unit.response.conftest import (
    DEMAND,
    STEP_EVENTS,
    Killed,
    Workspace,
    duckdb_connection,
)
from tests.unit.response.test_pipeline import assert_answered_once

Inject = Callable[[pytest.MonkeyPatch], None]


def kill(*args: object, **kwargs: object) -> None:
    raise Killed("SIGKILL")


def at_step(name: str) -> Inject:
    """Killed as the step starts: the previous step's commit is the last thing that happened."""
    return lambda m: m.setattr(steps, name, kill)


def before_commit(step: str) -> Inject:
    """Killed inside the step's unit of work, after its warehouse writes, before the commit."""
    def inject(m: pytest.MonkeyPatch) -> None:
        real = state.record

        def record(session: object, current: state.Response, name: str,
                   **kwargs: object) -> state.Response:
            if name == step and not kwargs.get("failed_step"):
                raise Killed(f"before committing {step}")
            return real(session, current, name, **kwargs)  # type: ignore[arg-type]

        m.setattr(state, "record", record)
    return inject


def in_registry(method: str, *, after: bool = False,
                when: Callable[..., bool] = lambda *a, **k: True) -> Inject:
    """Killed in a Registry call (before it, or right after it returned)."""
    def inject(m: pytest.MonkeyPatch) -> None:
        real = getattr(Registry, method)

        def call(self: Registry, *args: object, **kwargs: object) -> object:
            if not when(*args, **kwargs):
                return real(self, *args, **kwargs)
            if not after:
                raise Killed(method)
            real(self, *args, **kwargs)
            raise Killed(f"after {method}")

        m.setattr(Registry, method, call)
    return inject


@dataclass(frozen=True)
class Crash:
    inject: Inject
    base: str  # "fresh": train really trains; "adopt": UAT v2 exists (cheap, evaluate on)
    step: str  # the response's step after the crash
    versions: int  # candidates tagged with the incident after the crash
    evaluations: int = 0


CRASHES = {
    "refresh|train": Crash(at_step("train"), "fresh", "refresh_staged", 0),
    "train: run logged, not registered": Crash(in_registry("register_version"), "fresh",
                                               "refresh_staged", 0),
    "train: saving model files": Crash(in_registry("log_artifacts"), "adopt",
                                       "refresh_staged", 1),
    "train: registered, before commit": Crash(before_commit("candidate_trained"), "fresh",
                                              "refresh_staged", 1),
    "train|evaluate": Crash(at_step("evaluate"), "adopt", "candidate_trained", 1),
    "evaluate: champion run open": Crash(
        in_registry("start_run", after=True,
                    when=lambda experiment, *a, **k: experiment == steps.EVALUATIONS),
        "fresh", "candidate_trained", 1),
    "evaluate|request": Crash(at_step("request"), "adopt", "candidate_evaluated", 1, 2),
}


@pytest.mark.parametrize("where", list(CRASHES))
def test_rerun_after_a_crash_yields_one_dataset_candidate_and_request(
        where: str, request: pytest.FixtureRequest,
        monkeypatch: pytest.MonkeyPatch) -> None:
    crash = CRASHES[where]
    ws: Workspace = request.getfixturevalue(crash.base)
    head = ws.head()

    with monkeypatch.context() as m:
        crash.inject(m)
        with pytest.raises(Killed):
            ws.respond()

    r = ws.response()
    assert r is not None
    assert (crash.step, None) == (r.step, r.failed_step)
    assert crash.versions == len(ws.candidates())
    assert crash.evaluations == len(ws.evaluations())
    assert [] == ws.approvals()
    done = STEP_EVENTS[:STEP_EVENTS.index(crash.step) + 1] if crash.step != "started" else ()
    assert list(done) == ws.events(head)  # nothing of the killed step reached the ledger
    assert ws.intact()

    outcome = ws.respond()

    assert outcome.ok
    assert "approval_requested" == outcome.step
    assert_answered_once(ws, since=head)
    r = ws.response()
    assert r is not None
    candidate = ws.uat.model_version("demand_forecast", str(r.candidate_version))
    assert r.dataset_digest == candidate.tags["driftgate.dataset_digest"]
    assert "FINISHED" == ws.uat.run(str(candidate.run_id)).info.status
    for run_id in ws.sql("SELECT mlflow_run_id FROM governance.evaluations "
                         "WHERE incident_id = ?", [DEMAND]):
        assert "FINISHED" == ws.uat.run(run_id[0]).info.status


def test_crash_at_every_boundary_in_turn(fresh: Workspace,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """One incident killed once inside every step's unit of work, then finished: each rerun
    moves exactly one step on, and the end state is as after one clean run."""
    head = fresh.head()
    for step, after in (("refresh_staged", "started"), ("candidate_trained", "refresh_staged"),
                        ("candidate_evaluated", "candidate_trained"),
                        ("approval_requested", "candidate_evaluated")):
        with monkeypatch.context() as m:
            before_commit(step)(m)
            with pytest.raises(Killed):
                fresh.respond()
        r = fresh.response()
        assert r is not None
        assert (after, None) == (r.step, r.failed_step)
        assert (None, None) == (r.lease_owner, r.lease_until)
        assert list(STEP_EVENTS[:STEP_EVENTS.index(step)]) == fresh.events(head)
        if step == "refresh_staged":  # the staged tables and lineage rolled back with it
            assert ([], []) == fresh.staged_tables()
            assert not fresh.sql("SELECT * FROM lineage.table_lineage "
                                 "WHERE entity_run_id = ?", [DEMAND])
        if step == "candidate_trained":  # registered before the kill: adopted later
            assert 1 == len(fresh.candidates())
        if step == "candidate_evaluated":
            assert [] == fresh.evaluations()
        if step == "approval_requested":
            assert [] == fresh.approvals()

    assert fresh.respond().ok
    assert_answered_once(fresh, since=head)
    assert 1 == len(fresh.candidates())


# --- environment separation -----------------------------------------------------------------


def test_writing_a_prod_table_raises_and_only_the_violation_is_ledgered(
        adopt: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = adopt  # the refresh step is the same either way; the rerun adopts (cheaper)
    real = dataset.plan

    def to_prod(*args: object, **kwargs: object) -> dataset.Plan:
        p = real(*args, **kwargs)  # type: ignore[arg-type]
        return dataset.Plan(**{**p.__dict__,
                               "dataset_table": "prod.training.demand_forecast_leak"})

    monkeypatch.setattr(dataset, "plan", to_prod)
    head, prod = fresh.head(), fresh.prod_snapshot()

    with pytest.raises(EnvironmentViolation, match=r"prod\.training\.demand_forecast_leak"):
        fresh.respond()

    (entry,) = fresh.entries(head)
    assert ("environment_violation", "prod", DEMAND) == (entry.type, entry.environment,
                                                         entry.subject)
    assert ("refresh", "demand_forecast") == (entry.payload["step"], entry.payload["model"])
    assert "prod.training.demand_forecast_leak" in entry.payload["error"]
    assert prod == fresh.prod_snapshot()
    assert [] == fresh.tables("prod_training")
    r = fresh.response()
    assert r is not None
    assert ("started", None, None) == (r.step, r.failed_step, r.lease_owner)
    assert fresh.intact()

    monkeypatch.undo()
    assert fresh.respond().ok
    assert ["environment_violation", *STEP_EVENTS] == fresh.events(head)


def test_logging_the_candidate_to_the_prod_registry_raises_and_changes_nothing(
        fresh: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        at_step("train")(m)
        with pytest.raises(Killed):
            fresh.respond()
    real = training.log_trained
    prod = fresh.prod

    def crossed(uat: Registry, *args: object, **kwargs: object) -> object:
        return real(prod, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(training, "log_trained", crossed)
    head, snapshot = fresh.head(), fresh.prod_snapshot()

    with pytest.raises(EnvironmentViolation, match="prod"):
        fresh.respond()

    assert ["environment_violation"] == [e.type for e in fresh.entries(head)]
    assert "train" == fresh.entries(head)[0].payload["step"]
    assert snapshot == fresh.prod_snapshot()
    assert [] == fresh.candidates()
    r = fresh.response()
    assert r is not None
    assert ("refresh_staged", None, None) == (r.step, r.failed_step, r.lease_owner)
    assert "refresh_staged" == fresh.status()

    monkeypatch.undo()
    assert fresh.respond().ok
    assert_answered_once(fresh, since=head - 1)


# --- the lease ------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _claim(warehouse: Warehouse, owner: str) -> state.Response:
    with warehouse.session() as session:
        return state.claim(session, incident_id=DEMAND, model="demand_forecast",
                           champion_version="1", requested_by=steps.ACTOR, owner=owner)


def _hold(warehouse: Warehouse, owner: str, minutes: float) -> None:
    _claim(warehouse, owner)
    until = ledger.utc_now() + timedelta(minutes=minutes)
    with duckdb_connection(warehouse) as con:
        con.execute("UPDATE governance.responses SET lease_until = ? WHERE incident_id = ?",
                    [until, DEMAND])


HERE = socket.gethostname()
LIVE = {
    "live runner on this host": (lambda: f"{HERE}:{os.getpid()}:another", 10),
    "another host, unexpired": (lambda: "elsewhere.example:4242:abcd1234", 10),
}
TAKEN_OVER = {
    "dead runner on this host": (lambda: f"{HERE}:{_dead_pid()}:deadbeef", 10),
    "live runner, lease expired": (lambda: f"{HERE}:{os.getpid()}:stale", -1),
    "another host, lease expired": (lambda: "elsewhere.example:4242:abcd1234", -1),
    "not a pid": (lambda: f"{HERE}:web-worker:1", -1),
}


@pytest.mark.parametrize("case", list(LIVE))
def test_claim_refuses_a_live_lease(warehouse: Warehouse, case: str) -> None:
    holder, minutes = LIVE[case]
    owner = holder()
    _hold(warehouse, owner, minutes)

    with pytest.raises(WorkspaceBusy, match=rf"the drift response to {DEMAND} is already "
                                            rf"running \({owner}, lease until ") as info:
        _claim(warehouse, "me")

    assert "retry after the lease expires" in info.value.hint
    with warehouse.session() as session:
        r = state.get(session, DEMAND)
    assert r is not None
    assert owner == r.lease_owner


@pytest.mark.parametrize("case", list(TAKEN_OVER))
def test_claim_takes_over_a_dead_or_expired_lease(warehouse: Warehouse, case: str) -> None:
    holder, minutes = TAKEN_OVER[case]
    _hold(warehouse, holder(), minutes)

    r = _claim(warehouse, "me")

    assert "me" == r.lease_owner
    assert r.lease_until is not None
    assert r.lease_until > ledger.utc_now()


def test_the_same_owner_renews_and_only_the_holder_releases(warehouse: Warehouse) -> None:
    first = _claim(warehouse, "me")
    again = _claim(warehouse, "me")
    with warehouse.session() as session:
        state.release(session, DEMAND, "someone-else")
        assert "me" == (state.get(session, DEMAND) or first).lease_owner
        state.release(session, DEMAND, "me")
        released = state.get(session, DEMAND)

    assert "started" == first.step == again.step
    assert again.lease_until is not None
    assert first.lease_until is not None
    assert again.lease_until >= first.lease_until
    assert released is not None
    assert (None, None) == (released.lease_owner,
                                                     released.lease_until)


def test_respond_is_busy_while_a_live_runner_holds_the_lease(adopt: Workspace) -> None:
    _hold(adopt.warehouse, f"{HERE}:{os.getpid()}:another", 10)
    head, before = adopt.head(), adopt.sql("SELECT * FROM governance.responses")

    with pytest.raises(WorkspaceBusy):
        adopt.respond()

    assert head == adopt.head()
    assert before == adopt.sql("SELECT * FROM governance.responses")


def test_respond_takes_over_a_dead_runners_lease_and_continues(
        adopt: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    head = adopt.head()
    with monkeypatch.context() as m:
        at_step("evaluate")(m)
        with pytest.raises(Killed):
            adopt.respond()
    _hold(adopt.warehouse, f"{HERE}:{_dead_pid()}:deadbeef", 10)

    assert adopt.respond().ok

    assert [f"{DEMAND}: {line}" for line in ("evaluate ...", "candidate evaluated",
                                             "request ...", "approval requested")] == \
        adopt.progress[-4:]
    assert_answered_once(adopt, since=head)


def test_a_second_runner_during_a_run_is_busy_and_the_first_finishes(
        adopt: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the first runner is inside its train step, a second one (same process, its own
    owner id, as the app's button and a CLI would be) is refused; nothing is written twice."""
    real, seen = steps.train, []

    def train(run: pipeline.Run, current: state.Response) -> state.Response:
        r = adopt.response()
        assert r is not None
        assert r.lease_owner is not None
        with pytest.raises(WorkspaceBusy):
            adopt.respond()
        seen.append(r.lease_owner)
        return real(run, current)

    monkeypatch.setattr(steps, "train", train)
    head = adopt.head()

    assert adopt.respond().ok

    assert 1 == len(seen)
    assert_answered_once(adopt, since=head)
