"""The response pipeline on private copies of the demo: a full run, idempotence, validation
failures, injected faults, and the state each leaves behind for a rerun to continue from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from governance import envguard
from governance.demo import models
from governance.drift.policy import Policy, ResponseRule
from governance.errors import BackendUnavailable, DataError
from governance.registry import MlflowEnv, Registry
from governance.response import harness, pipeline, state, steps
from tests.unit.response.conftest import BASKET, DEMAND, STEP_EVENTS, Killed, Workspace

FEATURES = "prod_features.demand_forecast_features"
LOG = "prod_inference.demand_forecast"


def assert_answered_once(ws: Workspace, incident: str = DEMAND, since: int = 0) -> None:
    """One dataset, one holdout, one candidate, one pending request, two evaluations, every
    step's ledger entry once and in order, the chain intact, the lease given back."""
    r = ws.response(incident)
    assert r is not None
    training_tables, holdouts = ws.staged_tables(incident)
    assert ("approval_requested", None) == (r.step, r.failed_step)
    assert [str(r.dataset_table).rsplit(".", 1)[1]] == training_tables
    assert [str(r.holdout_table).rsplit(".", 1)[1]] == holdouts
    assert [r.candidate_version] == ws.candidates(incident)
    assert [(r.approval_id, "pending", r.candidate_version, r.requested_by)] == \
        ws.approvals(incident)
    evaluations = ws.evaluations(incident)
    assert ["candidate", "champion"] == [e[0] for e in evaluations]
    assert evaluations[0][3:] == evaluations[1][3:]  # same harness version, holdout, rows
    assert evaluations[0][4] == r.holdout_digest
    done = [e for e in ws.events(since, incident) if e in STEP_EVENTS]
    assert list(STEP_EVENTS) == done
    assert "awaiting_approval" == ws.status(incident)
    assert (None, None) == (r.lease_owner, r.lease_until)
    assert ws.intact()


# --- a full run -----------------------------------------------------------------------------


def test_fresh_incident_is_answered_up_to_a_pending_request(fresh: Workspace) -> None:
    head = fresh.head()

    outcome = fresh.respond(requested_by="alice@example.com")

    assert pipeline.Outcome(DEMAND, "demand_forecast", "approval_requested", None, (),
                            "APR-demand_forecast-20261005", "3") == outcome
    assert outcome.ok
    assert_answered_once(fresh, since=head)
    assert [f"{DEMAND}: {line}" for line in (
        "refresh ...", "refresh staged", "train ...", "candidate trained", "evaluate ...",
        "candidate evaluated", "request ...", "approval requested")] == fresh.progress
    # the requester is the person, all the way to the request and its ledger entry
    (approval,) = fresh.approvals()
    assert "alice@example.com" == approval[3]
    version = fresh.uat.model_version("demand_forecast", "3")
    assert "alice@example.com" == fresh.uat.run(str(version.run_id)).data.tags["mlflow.user"]
    last = fresh.entries(head, DEMAND)[-1]
    assert ("approval_requested", "alice@example.com") == (last.type, last.actor)
    # the candidate's baseline profile was frozen for the drift monitor
    assert 0 < fresh.scalar("SELECT count(*) FROM governance.model_baselines WHERE "
                            "model_name = 'demand_forecast' AND model_version = '3'")
    # the other incident was left alone
    assert fresh.response(BASKET) is None
    assert "open" == fresh.status(BASKET)


def test_running_twice_changes_nothing(adopt: Workspace) -> None:
    start = adopt.head()
    first = adopt.respond()
    head, snapshot = adopt.head(), adopt.sql("SELECT * FROM governance.responses")

    second = adopt.respond()

    assert first == second
    assert head == adopt.head()
    assert snapshot[0][:-2] == adopt.sql("SELECT * FROM governance.responses")[0][:-2]
    assert_answered_once(adopt, since=start)


def test_rerun_adopts_the_candidate_already_registered_for_the_incident(
        adopt: Workspace) -> None:
    """The brief's un-answered demo: UAT v2 is tagged with the incident, so no v3 appears."""
    head = adopt.head()

    outcome = adopt.respond()

    assert ("approval_requested", "2") == (outcome.step, outcome.candidate_version)
    assert ["1", "2"] == [str(v.version) for v in adopt.uat.versions("demand_forecast")]
    assert_answered_once(adopt, since=head)
    r = adopt.response()
    assert r is not None
    assert r.dataset_digest == adopt.uat.model_version(
        "demand_forecast", "2").tags["driftgate.dataset_digest"]


def test_an_adopted_candidate_was_trained_on_the_staged_dataset(adopt: Workspace) -> None:
    """Re-staged with another holdout length, the set differs from what v2 was trained on:
    adopting v2 would put a candidate trained on other data behind the request."""
    adopt.respond(policy=Policy(response=ResponseRule(holdout_days=6)))
    r = adopt.response()
    assert r is not None
    assert r.candidate_version is not None

    tags = adopt.uat.model_version("demand_forecast", r.candidate_version).tags

    assert r.dataset_digest == tags["driftgate.dataset_digest"]


def test_both_incidents_in_one_call(adopt: Workspace) -> None:
    head = adopt.head()
    outcomes = pipeline.respond_to(adopt.warehouse, adopt.uat, adopt.prod, [BASKET, DEMAND],
                                   policy=Policy(), progress=adopt.progress.append)

    assert [(BASKET, "approval_requested"), (DEMAND, "approval_requested")] == [
        (o.incident_id, o.step) for o in outcomes]
    for incident in (BASKET, DEMAND):
        assert_answered_once(adopt, incident, since=head)
    assert [] == pipeline.unfinished(adopt.warehouse)


def test_a_second_incident_of_the_same_model_gets_the_next_dataset_version(
        answered: Workspace) -> None:
    """A later incident trains its own candidate (the first incident's one is not adopted) and
    stages uat.training.<model>_v3_inc<date>."""
    second = "INC-demand_forecast-20261012"
    answered.sql("INSERT INTO governance.drift_incidents SELECT ?, model_name, model_version, "
                 "'open', opened_at, updated_at, DATE '2026-10-12', last_window, score, "
                 "drifted_features, detail FROM governance.drift_incidents "
                 "WHERE incident_id = ?", [second, DEMAND])

    outcome = answered.respond(second)

    assert ("approval_requested", "3") == (outcome.step, outcome.candidate_version)
    r = answered.response(second)
    assert r is not None
    assert "uat.training.demand_forecast_v3_inc20261012" == r.dataset_table
    assert "uat.evaluation.demand_forecast_holdout_inc20261012" == r.holdout_table
    assert ["3"] == answered.candidates(second)
    assert ["2"] == answered.candidates(DEMAND)
    assert_answered_once(answered, second)


def test_a_candidate_the_policy_rejects_is_recorded_without_a_request(
        adopt: Workspace) -> None:
    policy = Policy(response=ResponseRule(max_regression=-0.9))  # must be 90% better
    head = adopt.head()

    outcome = adopt.respond(policy=policy)

    assert ("not_qualified", None, None) == (outcome.step, outcome.failed_step,
                                             outcome.approval_id)
    r = adopt.response()
    assert r is not None
    assert r.done
    (reason,) = r.problems
    assert reason.startswith("does not qualify: rmse ")
    assert "response.max_regression allows at most -90% worse" in reason
    assert "candidate_not_qualified" == adopt.status()
    assert [] == adopt.approvals()
    assert 2 == len(adopt.evaluations())
    assert ["refresh_staged", "candidate_trained", "candidate_evaluated"] == adopt.events(head)
    verdict = adopt.entries(head, DEMAND)[-1].payload["verdict"]
    assert (False, reason) == (verdict["qualifies"], verdict["reason"])
    # final: neither a rerun nor `response run` touches it again
    assert outcome == adopt.respond(policy=policy)
    assert DEMAND not in pipeline.unfinished(adopt.warehouse)
    assert adopt.intact()


def test_unknown_incident_is_a_data_error_that_writes_nothing(adopt: Workspace) -> None:
    head = adopt.head()

    with pytest.raises(DataError, match=r"no incident 'INC-nope'"):
        adopt.respond("INC-nope")

    assert head == adopt.head()
    assert [] == adopt.sql("SELECT * FROM governance.responses")


def test_steps_never_hold_a_prod_write_grant(adopt: Workspace,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    grants = []
    for name in ("refresh", "train", "evaluate", "request"):
        real = getattr(steps, name)

        def watched(run: pipeline.Run, current: state.Response, real: object = real) -> object:
            grants.append(envguard.current_grant())
            return real(run, current)  # type: ignore[operator]

        monkeypatch.setattr(steps, name, watched)

    adopt.respond()

    assert [None] * 4 == grants


# --- validation failures --------------------------------------------------------------------


def assert_refresh_failed(ws: Workspace, head: int, outcome: pipeline.Outcome) -> list[str]:
    """refresh_failed everywhere, nothing downstream; returns the problems."""
    r = ws.response()
    assert r is not None
    assert ("started", "refresh") == (outcome.step, outcome.failed_step)
    assert ("started", "refresh") == (r.step, r.failed_step)
    assert r.problems == outcome.problems
    assert r.problems
    assert "refresh_failed" == ws.status()
    (entry,) = ws.entries(head, DEMAND)
    assert ("refresh_failed", "uat") == (entry.type, entry.environment)
    assert list(r.problems) == entry.payload["problems"]
    assert ("refresh", "started") == (entry.payload["step"], entry.payload["completed_step"])
    assert (None, None, None) == (r.dataset_table, r.candidate_version, r.approval_id)
    assert ([], []) == (ws.evaluations(), ws.approvals())
    assert f"{DEMAND}: refresh failed: " + "; ".join(r.problems) == ws.progress[-1]
    assert ws.intact()
    return list(r.problems)


def test_feature_table_missing_a_feature_fails_the_refresh_then_a_rerun_completes(
        fresh: Workspace) -> None:
    fresh.sql(f"CREATE TABLE prod_features.backup AS SELECT * FROM {FEATURES}")
    fresh.sql(f"ALTER TABLE {FEATURES} DROP COLUMN stock_level")
    head = fresh.head()

    problems = assert_refresh_failed(fresh, head, fresh.respond())

    assert ["prod.features.demand_forecast_features: missing column 'stock_level' (in the "
            "model's input signature)"] == problems
    assert ([], []) == fresh.staged_tables()
    assert [] == fresh.candidates()
    assert not fresh.sql("SELECT * FROM lineage.table_lineage WHERE entity_run_id = ?",
                         [DEMAND])
    # the unanswered refresh is retried by the monitor's hand-off and by `response run`
    assert {DEMAND, BASKET} == set(pipeline.unfinished(fresh.warehouse))
    assert DEMAND in pipeline.unfinished(fresh.warehouse, automatic=True)

    fresh.sql(f"CREATE OR REPLACE TABLE {FEATURES} AS "
              "SELECT * FROM prod_features.backup")
    fresh.sql("DROP TABLE prod_features.backup")
    outcome = fresh.respond()

    assert outcome.ok
    assert "approval_requested" == outcome.step
    assert ["refresh_failed", *STEP_EVENTS] == fresh.events(head)
    assert_answered_once(fresh, since=head)


def test_inference_log_missing_a_feature_names_the_log_and_column(adopt: Workspace) -> None:
    adopt.sql(f"ALTER TABLE {LOG} DROP COLUMN price")
    head = adopt.head()

    problems = assert_refresh_failed(adopt, head, adopt.respond())

    assert ["prod.inference.demand_forecast: missing column 'price' (in the model's input "
            "signature)"] == problems


def test_feature_stored_as_text_fails_the_refresh(adopt: Workspace) -> None:
    adopt.sql(f"ALTER TABLE {FEATURES} ALTER COLUMN price TYPE VARCHAR")
    head = adopt.head()

    (problem,) = assert_refresh_failed(adopt, head, adopt.respond())

    assert problem.startswith("prod.features.demand_forecast_features: column 'price' holds ")
    assert problem.endswith("the model's input signature needs double")


def test_labels_all_null_fail_the_refresh(adopt: Workspace) -> None:
    adopt.sql(f"UPDATE {LOG} SET label = NULL")
    head = adopt.head()

    problems = assert_refresh_failed(adopt, head, adopt.respond())

    assert ["prod.inference.demand_forecast: no labelled rows on or before 2026-11-01"] == \
        problems


def test_labels_missing_from_the_drifted_period_fail_coverage(adopt: Workspace) -> None:
    adopt.sql(f"UPDATE {LOG} SET label = NULL "
              "WHERE event_date BETWEEN DATE '2026-10-05' AND DATE '2026-10-18'")
    head = adopt.head()

    problems = assert_refresh_failed(adopt, head, adopt.respond())

    assert any("labels cover 0.0% of the drifted period's" in p for p in problems)
    assert any("(response.min_recent_rows)" in p for p in problems)


def test_policy_minimums_are_applied_per_model(adopt: Workspace) -> None:
    policy = Policy(model_response={"demand_forecast": {"min_rows": 10**6}})
    head = adopt.head()

    problems = assert_refresh_failed(adopt, head, adopt.respond(policy=policy))

    assert [p for p in problems if "(response.min_rows)" in p]


# --- faults in later steps ------------------------------------------------------------------


def test_trainer_exception_is_candidate_failed_and_a_rerun_continues_from_train(
        fresh: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected trainer failure")

    monkeypatch.setattr(models, "train", broken)
    head = fresh.head()

    outcome = fresh.respond()

    assert ("refresh_staged", "train", ("RuntimeError: injected trainer failure",)) == (
        outcome.step, outcome.failed_step, outcome.problems)
    r = fresh.response()
    assert r is not None
    assert ("refresh_staged", "train") == (r.step, r.failed_step)
    assert "candidate_failed" == fresh.status()
    assert ["refresh_staged", "candidate_failed"] == fresh.events(head)
    failed = fresh.entries(head, DEMAND)[-1].payload
    assert (["RuntimeError: injected trainer failure"], "train", "refresh_staged") == (
        failed["problems"], failed["step"], failed["completed_step"])
    assert [] == fresh.candidates()
    # a person retries a training failure; the monitor's hand-off does not
    assert DEMAND in pipeline.unfinished(fresh.warehouse)
    assert DEMAND not in pipeline.unfinished(fresh.warehouse, automatic=True)

    monkeypatch.undo()
    fresh.progress.clear()
    outcome = fresh.respond()

    assert outcome.ok
    assert f"{DEMAND}: train ..." == fresh.progress[0]  # no second refresh
    assert ["refresh_staged", "candidate_failed", *STEP_EVENTS[1:]] == fresh.events(head)
    assert_answered_once(fresh, since=head)


def test_unreachable_uat_store_is_candidate_failed_with_a_hint(adopt: Workspace,
                                                               tmp_path: Path) -> None:
    missing = Registry(MlflowEnv("uat", f"sqlite:///{tmp_path / 'gone' / 'uat.db'}",
                                 tmp_path / "gone"))
    head = adopt.head()

    outcome = adopt.respond(uat=missing)

    assert ("refresh_staged", "train") == (outcome.step, outcome.failed_step)
    (problem,) = outcome.problems
    assert "the uat MLflow store" in problem
    assert "does not exist" in problem
    assert "GOV_UAT_MLFLOW_URI" in problem  # the hint travels with the problem
    assert ["refresh_staged", "candidate_failed"] == adopt.events(head)
    assert not (tmp_path / "gone").exists()

    assert adopt.respond().ok
    assert_answered_once(adopt, since=head)


def test_mlflow_failing_mid_evaluation_is_evaluation_failed(
        adopt: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    def down(self: Registry, *args: object, **kwargs: object) -> None:
        raise BackendUnavailable("the uat MLflow store stopped answering")

    monkeypatch.setattr(Registry, "log_run", down)
    head = adopt.head()

    outcome = adopt.respond()

    assert ("candidate_trained", "evaluate") == (outcome.step, outcome.failed_step)
    assert ("the uat MLflow store stopped answering",) == outcome.problems
    assert "evaluation_failed" == adopt.status()
    assert ["refresh_staged", "candidate_trained", "evaluation_failed"] == adopt.events(head)
    assert [] == adopt.evaluations()

    monkeypatch.undo()
    assert adopt.respond().ok
    assert_answered_once(adopt, since=head)


def test_harness_error_is_evaluation_failed(adopt: Workspace,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def empty(h: harness.Harness, *args: object) -> None:
        raise DataError(f"{h.name}: the holdout has no labelled rows")

    monkeypatch.setattr(harness, "evaluate", empty)

    outcome = adopt.respond()

    assert ("evaluate", ("demand_forecast-harness: the holdout has no labelled rows",)) == (
        outcome.failed_step, outcome.problems)
    assert "evaluation_failed" == adopt.status()


def test_a_staged_training_set_changed_after_staging_is_refused(
        adopt: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staged datasets are immutable: a changed table fails the train step, every time."""
    with monkeypatch.context() as m:
        m.setattr(steps, "train", _killer("between refresh and train"))
        with pytest.raises(Killed):
            adopt.respond()
    r = adopt.response()
    assert r is not None
    env, schema, table = str(r.dataset_table).split(".")
    adopt.sql(f'UPDATE "{env}_{schema}"."{table}" SET units_sold = units_sold + 1 '
              f'WHERE row_id = (SELECT min(row_id) FROM "{env}_{schema}"."{table}")')

    for _ in range(2):
        outcome = adopt.respond()
        assert ("refresh_staged", "train") == (outcome.step, outcome.failed_step)
        (problem,) = outcome.problems
        assert problem.startswith(f"{r.dataset_table} changed since it was staged")
        assert problem.endswith("staged datasets are immutable")
    assert "candidate_failed" == adopt.status()


def test_a_changed_holdout_is_refused_at_evaluation(adopt: Workspace,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as m:
        m.setattr(steps, "evaluate", _killer("between train and evaluate"))
        with pytest.raises(Killed):
            adopt.respond()
    r = adopt.response()
    assert r is not None
    env, schema, table = str(r.holdout_table).split(".")
    adopt.sql(f'DELETE FROM "{env}_{schema}"."{table}" '
              f'WHERE row_id = (SELECT min(row_id) FROM "{env}_{schema}"."{table}")')

    outcome = adopt.respond()

    assert ("candidate_trained", "evaluate") == (outcome.step, outcome.failed_step)
    assert "changed since it was staged" in outcome.problems[0]
    assert [] == adopt.evaluations()


def _killer(where: str) -> object:
    def kill(*args: object, **kwargs: object) -> None:
        raise Killed(where)
    return kill


def test_response_list_survives_the_json_round_trip_of_problems(adopt: Workspace) -> None:
    """Problems with quotes and non-ASCII text come back exactly."""
    with adopt.warehouse.session() as session:
        current = state.claim(session, incident_id=DEMAND, model="demand_forecast",
                              champion_version="1", requested_by="x", owner="me")
        state.record(session, current, "started", failed_step="refresh",
                     problems=('column "prix" is 60% null — «trop»', "a\nb"))

    r = adopt.response()

    assert r is not None
    assert ('column "prix" is 60% null — «trop»', "a\nb") == r.problems
    assert "refresh_failed" == adopt.status()
    with pytest.raises(TypeError, match="unknown response columns"), \
            adopt.warehouse.session() as session:
        state.record(session, r, "started", dataset=json.dumps({}))
    assert r == adopt.response()


# --- the incident and champion the response answers -----------------------------------------


def test_a_closed_incident_is_not_answered(adopt: Workspace) -> None:
    adopt.sql("UPDATE governance.drift_incidents SET status = 'closed' WHERE incident_id = ?",
              [DEMAND])
    head = adopt.head()

    with pytest.raises(DataError):
        adopt.respond()

    assert "closed" == adopt.status()
    assert [] == adopt.approvals()
    assert head == adopt.head()


def test_evaluation_records_the_champion_version_it_scored(
        adopt: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    from governance import promotion

    with monkeypatch.context() as m:
        m.setattr(steps, "evaluate", _killer("between train and evaluate"))
        with pytest.raises(Killed):
            adopt.respond()
    promotion.promote(adopt.warehouse, adopt.uat, adopt.prod, model_name="demand_forecast",
                      uat_version="2", approval_id="approval-elsewhere", actor="bob",
                      reason="approved")
    scored: list[str] = []
    real = harness.evaluate

    def spy(h: harness.Harness, model_dir: Path, *args: object) -> dict[str, float]:
        scored.append(model_dir.parent.name)
        return real(h, model_dir, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(harness, "evaluate", spy)

    adopt.respond()

    (champion,) = [e for e in adopt.evaluations() if e[0] == "champion"]
    assert f"champion-v{champion[2]}" == scored[0]
