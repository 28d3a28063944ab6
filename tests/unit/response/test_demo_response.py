"""What the seeded demo's drift response left behind, read from the shared demo (never written).

Both drifting models (demand_forecast, basket_propensity) were answered up to a pending
approval request: staged tables in UAT with lineage and digests, a retrained UAT candidate with
the champion's logged settings, champion and candidate scored by one harness on one holdout.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from governance import ledger, lineage
from governance.demo import models
from governance.drift.policy import Policy
from governance.registry import Registry
from governance.response import harness, pipeline, steps, training
from tests.unit.response.conftest import INCIDENTS, Workspace

MODELS = sorted(INCIDENTS)


def _read(demo: Workspace, table: str) -> pd.DataFrame:
    with demo.warehouse.session() as session:
        return session.fetch_df("response/read_table", {"tbl": table})


def _payload(demo: Workspace, event: str, incident: str) -> ledger.LedgerEntry:
    with demo.warehouse.session() as session:
        return ledger.latest_by_type(session, event)[incident]


@pytest.fixture(scope="module")
def champions(demo: Workspace, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return {m: demo.prod.download_model(m, "1", tmp_path_factory.mktemp(m) / "champion")
            for m in MODELS}


@pytest.mark.parametrize("model", MODELS)
def test_each_drifting_model_has_an_approval_requested_response(demo: Workspace,
                                                                model: str) -> None:
    incident = INCIDENTS[model]
    r = demo.response(incident)
    slug = "20261005"

    assert r is not None
    assert ("approval_requested", None, (), "system:drift-response", "1", "2") == (
        r.step, r.failed_step, r.problems, r.requested_by, r.champion_version,
        r.candidate_version)
    assert f"uat.training.{model}_v2_inc{slug}" == r.dataset_table
    assert f"uat.evaluation.{model}_holdout_inc{slug}" == r.holdout_table
    assert f"APR-{model}-{slug}" == r.approval_id
    assert r.done
    assert r.lease_owner is None
    assert r.lease_until is None
    # the demo then approves and promotes basket_propensity's request (the sign-off flow)
    state = "promoted" if model == "basket_propensity" else "pending"
    assert ("promoted" if state == "promoted" else "awaiting_approval") == demo.status(incident)
    assert [(r.approval_id, state, "2", "system:drift-response")] == demo.approvals(incident)


def test_the_non_drifting_model_has_no_response_and_nothing_is_unfinished(
        demo: Workspace) -> None:
    assert [] == demo.sql("SELECT * FROM governance.responses "
                          "WHERE model_name = 'price_elasticity'")
    assert [] == pipeline.unfinished(demo.warehouse)
    assert [] == pipeline.unfinished(demo.warehouse, automatic=True)


@pytest.mark.parametrize("model", MODELS)
def test_staged_tables_match_their_digests_and_never_leak(demo: Workspace, model: str) -> None:
    r = demo.response(INCIDENTS[model])
    assert r is not None
    assert r.cutoff is not None
    training_set, holdout = _read(demo, str(r.dataset_table)), _read(demo, str(r.holdout_table))
    staged = _payload(demo, "refresh_staged", INCIDENTS[model]).payload

    assert lineage.frame_digest(training_set) == r.dataset_digest == staged["dataset_digest"]
    assert lineage.frame_digest(holdout) == r.holdout_digest == staged["holdout_digest"]
    assert len(training_set) == r.dataset_rows == staged["checks"]["rows"]
    assert max(pd.to_datetime(training_set["event_date"]).dt.date) <= r.cutoff
    first, last = (date.fromisoformat(d) for d in staged["holdout"])
    assert (first - r.cutoff).days == 1
    assert (last - first).days + 1 == Policy().response.holdout_days
    assert pd.to_datetime(holdout["event_date"]).dt.date.between(first, last).all()
    assert not training_set["row_id"].duplicated().any()
    assert not holdout["row_id"].duplicated().any()
    assert not set(training_set["row_id"]) & set(holdout["row_id"])
    assert holdout[models.MODEL_SPECS[model].target].notna().all()
    assert training_set[models.MODEL_SPECS[model].target].notna().all()


@pytest.mark.parametrize("model", MODELS)
def test_refresh_recorded_table_and_column_lineage(demo: Workspace, model: str) -> None:
    incident = INCIDENTS[model]
    r = demo.response(incident)
    assert r is not None
    spec = models.MODEL_SPECS[model]
    feature_table, log = f"prod.features.{model}_features", f"prod.inference.{model}"

    edges = set(demo.sql(
        "SELECT source_table_full_name, target_table_full_name, entity_id, created_by "
        "FROM lineage.table_lineage WHERE entity_run_id = ?", [incident]))
    columns = set(demo.sql(
        "SELECT source_table_full_name, source_column_name, target_table_full_name, "
        "target_column_name FROM lineage.column_lineage WHERE entity_run_id = ?", [incident]))

    job, actor = steps.JOB, steps.ACTOR
    assert {(feature_table, r.dataset_table, job, actor), (log, r.dataset_table, job, actor),
            (log, r.holdout_table, job, actor)} == edges
    for target in (r.dataset_table, r.holdout_table):
        assert (log, "label", target, spec.target) in columns
        assert (log, "request_id", target, "row_id") in columns
        assert {(log, f, target, f) for f in spec.features} <= columns
    assert {(feature_table, f, r.dataset_table, f) for f in (*spec.features, spec.target)} \
        <= columns


@pytest.mark.parametrize("model", MODELS)
def test_candidate_is_logged_to_uat_with_dataset_input_and_provenance_tags(
        demo: Workspace, model: str) -> None:
    incident = INCIDENTS[model]
    r = demo.response(incident)
    assert r is not None
    version = demo.uat.model_version(model, "2")
    run = demo.uat.run(str(r.candidate_run_id))
    staged = _payload(demo, "refresh_staged", incident).payload

    assert str(version.run_id) == r.candidate_run_id
    assert ["2"] == demo.candidates(incident)
    assert {"driftgate.incident_id": incident, "driftgate.dataset_digest": r.dataset_digest,
            "driftgate.role": "candidate", "driftgate.champion_version": "1",
            "driftgate.feature_pipeline_version": staged["feature_pipeline_version"],
            }.items() <= dict(version.tags).items()
    assert re.fullmatch(r"[0-9a-f]{40}|unknown", version.tags["driftgate.code_version"])
    assert version.tags["driftgate.code_version"] == training.code_version()
    assert f"{model}-features-1" == staged["feature_pipeline_version"]
    tags = run.data.tags
    assert (incident, r.dataset_table, r.dataset_digest, "system:drift-response") == (
        tags["driftgate.incident_id"], tags["driftgate.training_table"],
        tags["driftgate.dataset_digest"], tags["mlflow.user"])
    assert "FINISHED" == run.info.status
    (dataset_input,) = run.inputs.dataset_inputs
    assert r.dataset_table == dataset_input.dataset.name
    assert str(r.dataset_digest)[:32] == dataset_input.dataset.digest
    assert {"table": r.dataset_table} == json.loads(dataset_input.dataset.source)
    assert "warehouse_table" == dataset_input.dataset.source_type
    assert ["training"] == [t.value for t in dataset_input.tags
                            if t.key == "mlflow.data.context"]


@pytest.mark.parametrize("model", MODELS)
def test_candidate_reuses_the_champions_logged_algorithm_and_hyperparameters(
        demo: Workspace, model: str) -> None:
    with demo.warehouse.session() as session:
        promoted = ledger.latest_by_type(session, "model_promoted")[model].payload
    r = demo.response(INCIDENTS[model])
    assert r is not None
    champion = demo.uat.run(promoted["source_run_id"]).data.params
    candidate = demo.uat.run(str(r.candidate_run_id)).data.params
    trained = _payload(demo, "candidate_trained", INCIDENTS[model]).payload

    assert champion == candidate
    spec, seed = training.spec_from_run(models.MODEL_SPECS[model], champion)
    assert models.MODEL_SPECS[model] == spec
    assert (spec.algorithm, seed) == (trained["algorithm"], trained["seed"])
    assert {k: str(v) for k, v in spec.params.items()} == trained["params"]


@pytest.mark.parametrize("model", MODELS)
def test_champion_and_candidate_evaluated_by_one_harness_on_one_holdout(
        demo: Workspace, model: str) -> None:
    incident = INCIDENTS[model]
    r = demo.response(incident)
    assert r is not None
    rows = {row[2]: row for row in demo.sql(
        "SELECT environment, model_version, role, harness, harness_version, holdout_table, "
        "holdout_digest, n_rows, metrics, mlflow_run_id FROM governance.evaluations "
        "WHERE incident_id = ?", [incident])}
    holdout_rows = len(_read(demo, str(r.holdout_table)))

    assert {"champion", "candidate"} == set(rows)
    champion, candidate = rows["champion"], rows["candidate"]
    assert ("prod", "1") == champion[:2]
    assert ("uat", "2") == candidate[:2]
    assert champion[3:8] == candidate[3:8] == (
        f"{model}-harness", harness.HARNESS_VERSION, r.holdout_table, r.holdout_digest,
        holdout_rows)
    assert candidate[9] == r.candidate_run_id
    for row in (champion, candidate):
        logged = demo.uat.run(row[9])
        assert {f"harness.{k}": v for k, v in json.loads(row[8]).items()} == {
            k: v for k, v in logged.data.metrics.items() if k.startswith("harness.")}
        assert (incident, f"{model}-harness", harness.HARNESS_VERSION) == (
            logged.data.tags["driftgate.incident_id"], logged.data.tags["driftgate.harness"],
            logged.data.tags["driftgate.harness_version"])
    assert "prod/1" == demo.uat.run(champion[9]).data.tags["driftgate.model_version"]


@pytest.mark.parametrize("model", MODELS)
def test_the_harness_reproduces_the_stored_evaluations(
        demo: Workspace, model: str, champions: dict[str, Path],
        tmp_path: Path) -> None:
    """Scoring both models again on the staged holdout gives the stored metrics exactly."""
    r = demo.response(INCIDENTS[model])
    assert r is not None
    spec = models.MODEL_SPECS[model]
    h = harness.harness_for(model, spec.task, spec.primary_metric)
    holdout = _read(demo, str(r.holdout_table))
    stored = {row[0]: json.loads(row[1]) for row in demo.sql(
        "SELECT role, metrics FROM governance.evaluations WHERE incident_id = ?",
        [INCIDENTS[model]])}
    candidate_dir = demo.uat.download_model(model, "2", tmp_path / "candidate")

    scores = {"champion": harness.evaluate(h, champions[model], holdout, spec.target),
              "candidate": harness.evaluate(h, candidate_dir, holdout, spec.target)}

    for role in scores:
        np.testing.assert_allclose([stored[role][k] for k in sorted(stored[role])],
                                   [scores[role][k] for k in sorted(stored[role])], rtol=1e-12)
    verdict = harness.qualify(h, scores["champion"], scores["candidate"],
                              Policy().response_for(model))
    assert verdict.qualifies


@pytest.mark.parametrize("model", MODELS)
def test_approval_request_links_incident_drift_dataset_lineage_and_both_evaluations(
        demo: Workspace, model: str) -> None:
    incident = INCIDENTS[model]
    r = demo.response(incident)
    assert r is not None
    ((detail_text,),) = demo.sql("SELECT detail FROM governance.approvals "
                                 "WHERE incident_id = ?", [incident])
    detail = json.loads(detail_text)
    staged = _payload(demo, "refresh_staged", incident)
    evaluated = _payload(demo, "candidate_evaluated", incident)
    ((drifted,),) = demo.sql("SELECT drifted_features FROM governance.drift_incidents "
                             "WHERE incident_id = ?", [incident])

    assert incident == detail["incident"]["incident_id"]
    assert ["2026-10-05", "2026-11-01"] == detail["incident"]["windows"]
    assert json.loads(drifted) == detail["incident"]["drifted_features"]
    assert (r.dataset_table, r.dataset_digest, r.holdout_table, r.holdout_digest) == tuple(
        detail["dataset"][k] for k in ("dataset_table", "dataset_digest", "holdout_table",
                                       "holdout_digest"))
    assert [f"prod.features.{model}_features", f"prod.inference.{model}"] == \
        detail["dataset"]["sources"]
    assert {"uat_version": "2", "run_id": r.candidate_run_id,
            "model_digest": evaluated.payload["candidate"]["model_digest"]} == \
        detail["candidate"]
    assert evaluated.payload == detail["evaluation"]
    assert {"champion", "candidate"} <= set(detail["evaluation"])
    assert {"refresh_staged": staged.seq, "candidate_evaluated": evaluated.seq} == \
        detail["ledger"]


@pytest.mark.parametrize("model", MODELS)
def test_one_ledger_entry_per_step_in_order_and_the_chain_is_intact(
        demo: Workspace, model: str) -> None:
    incident = INCIDENTS[model]
    entries = demo.entries(subject=incident)

    assert ["refresh_staged", "candidate_trained", "candidate_evaluated",
                 "approval_requested"] == [e.type for e in entries]
    assert {"uat"} == {e.environment for e in entries}
    assert {"system:drift-response"} == {e.actor for e in entries}
    assert entries[-1].payload["verdict"]["qualifies"] is True
    assert demo.intact()


def test_prod_holds_only_the_bootstrap_champions(demo: Workspace) -> None:
    """The response wrote nothing to the prod registry or prod tables: prod holds the
    bootstrap v1s and the one version the promotion job copied for the approved request."""
    versions, _, _, tables = demo.prod_snapshot()

    assert sorted([(m, "1") for m in models.MODEL_SPECS] + [("basket_propensity", "2")]) == \
        sorted(v[:2] for v in versions)
    assert not [t for s, t, _ in tables if "inc2026" in t or s.startswith("prod_training")]


def test_demo_champion_run_params_round_trip_through_spec_from_run(demo: Workspace) -> None:
    """Every model's v1 run params (text, as MLflow stores them) give back the demo spec."""
    uat: Registry = demo.uat
    for name, spec in models.MODEL_SPECS.items():
        params = uat.run(str(uat.model_version(name, "1").run_id)).data.params

        assert (spec, 42) == training.spec_from_run(spec, params)
