"""The four steps of the drift response; :mod:`governance.response.pipeline` runs them.

Each step reads what earlier steps recorded, does its work (warehouse reads, training, MLflow
writes to UAT), then commits its state change, incident status and ledger entry together.
Work outside the warehouse (MLflow) happens before that commit and is found again on a rerun
(by the incident id tag), so a crash between the two never produces a second candidate.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import asdict
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from governance import ledger, lineage
from governance.demo import models
from governance.drift import monitor, profile
from governance.errors import DataError, GovernanceError
from governance.ledger import canonical_json
from governance.registry import model_digest
from governance.response import dataset, harness, state, training
from governance.response.state import Response
from governance.warehouse import Session

if TYPE_CHECKING:
    from governance.response.pipeline import Run

ACTOR = "system:drift-response"
CANDIDATES = "driftgate-candidates"
EVALUATIONS = "driftgate-evaluations"
JOB = "driftgate-drift-response"
EARLIEST = date(1900, 1, 1)


class Rejected(GovernanceError):
    """A step's checks failed; ``problems`` lists every finding."""

    def __init__(self, problems: tuple[str, ...]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _day(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


def _champion_dir(run: Run) -> Path:
    """The prod champion's model files (read from prod; cached for the run)."""
    if "champion_dir" not in run.cache:
        # The champion recorded when the response started, even if prod moved on since.
        version = str(run.cache["champion_version"])
        run.cache["champion_dir"] = run.prod.download_model(
            run.model["model_name"], version, run.workdir / f"champion-v{version}")
    return Path(run.cache["champion_dir"])


def _sources(session: Session, run: Run) -> tuple[str, str]:
    """The champion's feature table (upstream of its training table) and its pipeline run."""
    training_table = _champion_training_table(session, run)
    upstream = [r for r in session.fetch_rows("lineage/upstream", {"target": training_table})
                if r["source"] != run.model["inference_table"]]
    if len(upstream) != 1:
        raise DataError(f"{training_table}: expected one upstream feature table in the lineage, "
                        f"found {[r['source'] for r in upstream] or 'none'}",
                        hint="record the feature pipeline's lineage for the training table")
    feature_table = upstream[0]["source"]
    writers = session.fetch_rows("lineage/upstream", {"target": feature_table})
    pipeline_run = max(writers, key=lambda r: r["event_time"])["entity_run_id"] if writers \
        else "unknown"
    return feature_table, str(pipeline_run)


def _champion_training_table(session: Session, run: Run) -> str:
    """The table the champion was trained on: the demo's v1 or an earlier response's set."""
    return monitor.training_table_of(session, run.model["model_name"],
                                     str(run.model["uat_version"]),
                                     default=str(run.model["training_table"]))


def refresh(run: Run, current: Response) -> Response:
    """Stage the candidate training set and the holdout in UAT, validated, with lineage."""
    name, incident = run.model["model_name"], run.incident
    rule = run.policy.response_for(name)
    with run.warehouse.session() as session:
        feature_table, pipeline_run = _sources(session, run)
        last = session.fetch_scalar("response/last_label_day", {
            "tbl": run.model["inference_table"], "until": _day(incident["last_window"])})
        if last is None:
            raise Rejected((f"{run.model['inference_table']}: no labelled rows on or before "
                            f"{_day(incident['last_window'])}",))
        version = int(session.fetch_scalar("response/dataset_count", {"model_name": name})) + 2
        p = dataset.plan(name, current.incident_id, feature_table=feature_table,
                         inference_table=run.model["inference_table"],
                         drift_start=_day(incident["first_window"]), last_label_day=_day(last),
                         dataset_version=version, rule=rule)
        features = session.fetch_df("response/source_rows", {
            "tbl": feature_table, "start": EARLIEST, "cutoff": p.cutoff})
        log = session.fetch_df("response/source_rows", {
            "tbl": p.inference_table, "start": min(p.drift_start, p.holdout[0]),
            "cutoff": p.holdout[1]})
    sig = harness.signature(_champion_dir(run))
    staged = dataset.stage(p, features=features, log=log, signature=sig,
                           target=run.model["target"], rule=rule)
    if staged.problems:
        raise Rejected(staged.problems)
    digest, holdout_digest = (lineage.frame_digest(staged.dataset),
                              lineage.frame_digest(staged.holdout))
    columns = [c for c, _ in sig]
    with run.warehouse.session() as session:
        session.load_table(p.dataset_table, staged.dataset)
        session.load_table(p.holdout_table, staged.holdout)
        now = ledger.utc_now()
        from_log = (("request_id", "row_id"), *((c, c) for c in columns),
                    ("label", run.model["target"]))
        lineage.record(session, [
            lineage.Edge(feature_table, p.dataset_table, "JOB", JOB, current.incident_id, ACTOR,
                         tuple((c, c) for c in ("row_id", *columns, run.model["target"]))),
            lineage.Edge(p.inference_table, p.dataset_table, "JOB", JOB, current.incident_id,
                         ACTOR, from_log),
            lineage.Edge(p.inference_table, p.holdout_table, "JOB", JOB, current.incident_id,
                         ACTOR, from_log),
        ], now)
        updated = state.record(
            session, current, "refresh_staged", cutoff=p.cutoff, dataset_table=p.dataset_table,
            dataset_digest=digest, dataset_rows=len(staged.dataset),
            holdout_table=p.holdout_table, holdout_digest=holdout_digest)
        ledger.append(session, actor=ACTOR, environment="uat", event_type="refresh_staged",
                      subject=current.incident_id, payload={
                          "model": name, "dataset_table": p.dataset_table,
                          "dataset_digest": digest, "holdout_table": p.holdout_table,
                          "holdout_digest": holdout_digest, "cutoff": p.cutoff.isoformat(),
                          "holdout": [d.isoformat() for d in p.holdout],
                          "sources": [feature_table, p.inference_table],
                          "feature_pipeline_version": pipeline_run,
                          "checks": json.loads(canonical_json(staged.report))})
    run.cache["pipeline_run"] = pipeline_run
    return updated


def _read_staged(session: Session, table: str, digest: str | None) -> pd.DataFrame:
    """A staged table, checked against the digest recorded when it was written."""
    frame = session.fetch_df("response/read_table", {"tbl": table})
    if lineage.frame_digest(frame) != digest:
        raise Rejected((f"{table} changed since it was staged (digest "
                        f"{lineage.frame_digest(frame)[:12]}, recorded {str(digest)[:12]}); "
                        "staged datasets are immutable",))
    return frame


def _spec(run: Run) -> tuple[models.ModelSpec, int]:
    m = run.model
    base = models.ModelSpec(
        name=m["model_name"], task=m["task"], algorithm=m["algorithm"],
        features=tuple(m["features"]), categorical=tuple(m["categorical"]), target=m["target"],
        params={}, primary_metric=m["primary_metric"], description=m["description"])
    params = run.uat.run(str(m["champion_run_id"])).data.params
    return training.spec_from_run(base, params)


def train(run: Run, current: Response) -> Response:
    """Retrain with the champion's settings on the staged set; log and register in UAT."""
    name = current.model_name
    spec, seed = _spec(run)
    tag = {"driftgate.incident_id": current.incident_id}
    with run.warehouse.session() as session:
        frame = _read_staged(session, str(current.dataset_table), current.dataset_digest)
        _, pipeline_run = _sources(session, run)
    # Only a version trained on exactly this staged set may be adopted.
    existing = [v for v in run.uat.versions_tagged(name, "driftgate.incident_id",
                                                   current.incident_id)
                if v.tags.get("driftgate.dataset_digest") == current.dataset_digest]
    if existing:  # registered before a crash: adopt it rather than train a second candidate
        version, run_id = str(existing[-1].version), str(existing[-1].run_id)
        metrics = run.uat.run(run_id).data.metrics
        importance = {k.removeprefix("importance."): v for k, v in metrics.items()
                      if k.startswith("importance.")}
        train_metrics = {k: v for k, v in metrics.items() if not k.startswith(("importance.",
                                                                              "harness."))}
    else:
        trained = models.train(spec, frame, seed)
        logged = training.log_trained(
            run.uat, trained, frame, experiment=CANDIDATES,
            run_name=f"{name}-candidate-{current.incident_id}",
            table=str(current.dataset_table), digest=str(current.dataset_digest), seed=seed,
            tags={**tag, "mlflow.user": current.requested_by,
                  "driftgate.role": "candidate",
                  "driftgate.champion_version": current.champion_version,
                  "driftgate.code_version": training.code_version(),
                  "driftgate.feature_pipeline_version": pipeline_run})
        version, run_id = logged.version, logged.run_id
        importance, train_metrics = dict(trained.feature_importance), dict(trained.metrics)
    with run.warehouse.session() as session:
        frozen = profile.build_profile(session, str(current.dataset_table),
                                       training.feature_specs(spec, importance, frame))
    with tempfile.TemporaryDirectory(dir=run.workdir) as tmp:
        folder = Path(tmp)
        (folder / "baseline_profile.json").write_text(profile.to_document(frozen),
                                                      encoding="utf-8")
        run.uat.log_artifacts(run_id, folder, "")
    with run.warehouse.session() as session:
        if not profile.load(session, name, version):
            profile.store(session, name, version, run_id, frozen, ledger.utc_now())
        updated = state.record(session, current, "candidate_trained",
                               candidate_version=version, candidate_run_id=run_id)
        ledger.append(session, actor=ACTOR, environment="uat", event_type="candidate_trained",
                      subject=current.incident_id, payload={
                          "model": name, "uat_version": version, "run_id": run_id,
                          "training_table": current.dataset_table,
                          "dataset_digest": current.dataset_digest,
                          "algorithm": spec.algorithm, "seed": seed,
                          "params": {k: str(v) for k, v in spec.params.items()},
                          "code_version": training.code_version(),
                          "feature_pipeline_version": pipeline_run,
                          "metrics": train_metrics, "requested_by": current.requested_by})
    return updated


def evaluate(run: Run, current: Response) -> Response:
    """Champion and candidate on the same harness and holdout; apply the policy."""
    name, m = current.model_name, run.model
    rule = run.policy.response_for(name)
    h = harness.harness_for(name, m["task"], m["primary_metric"])
    with run.warehouse.session() as session:
        holdout = _read_staged(session, str(current.holdout_table), current.holdout_digest)
    candidate_dir = run.uat.download_model(name, str(current.candidate_version),
                                           run.workdir / "candidate")
    # What an approver signs: the request pins these exact model files.
    candidate_digest = model_digest(candidate_dir)
    scores = {
        "champion": harness.evaluate(h, _champion_dir(run), holdout, m["target"]),
        "candidate": harness.evaluate(h, candidate_dir, holdout, m["target"]),
    }
    verdict = harness.qualify(h, scores["champion"], scores["candidate"], rule)
    tags = {"driftgate.incident_id": current.incident_id, "driftgate.harness": h.name,
            "driftgate.harness_version": h.version}
    run.uat.log_run(str(current.candidate_run_id), tags=tags,
                    metrics={f"harness.{k}": v for k, v in scores["candidate"].items()})
    champion_tags = {**tags, "driftgate.role": "champion-evaluation",
                     "driftgate.model_version": f"prod/{current.champion_version}"}
    champion_run = run.uat.find_run(EVALUATIONS, champion_tags)
    if champion_run is None:
        champion_run = run.uat.start_run(
            EVALUATIONS, f"{name}-champion-v{current.champion_version}-{current.incident_id}",
            {**champion_tags, "mlflow.user": ACTOR})
        run.uat.log_run(champion_run, params={"holdout_table": current.holdout_table,
                                              "holdout_digest": current.holdout_digest},
                        metrics={f"harness.{k}": v for k, v in scores["champion"].items()})
        run.uat.end_run(champion_run)
    where = {"champion": ("prod", current.champion_version, champion_run),
             "candidate": ("uat", str(current.candidate_version), str(current.candidate_run_id))}
    step = "candidate_evaluated" if verdict.qualifies else "not_qualified"
    with run.warehouse.session() as session:
        now = ledger.utc_now()
        for role, (env, version, run_id) in where.items():
            session.execute("evaluations/insert", {
                "incident_id": current.incident_id, "model_name": name, "role": role,
                "environment": env, "model_version": version, "harness": h.name,
                "harness_version": h.version, "holdout_table": current.holdout_table,
                "holdout_digest": current.holdout_digest, "n_rows": len(holdout),
                "metrics": canonical_json(_finite(scores[role])), "mlflow_run_id": run_id,
                "evaluated_at": now})
        updated = state.record(session, current, step,
                               problems=() if verdict.qualifies else (verdict.reason,))
        ledger.append(session, actor=ACTOR, environment="uat", event_type="candidate_evaluated",
                      subject=current.incident_id, payload={
                          "model": name, "harness": h.name, "harness_version": h.version,
                          "holdout_table": current.holdout_table,
                          "holdout_digest": current.holdout_digest, "n_rows": len(holdout),
                          "champion": {"prod_version": current.champion_version,
                                       "metrics": _finite(scores["champion"])},
                          "candidate": {"uat_version": current.candidate_version,
                                        "model_digest": candidate_digest,
                                        "metrics": _finite(scores["candidate"])},
                          "verdict": {**asdict(verdict), "change": _num(verdict.change)},
                          "primary_metric": h.primary_metric,
                          "rule": {"max_regression": rule.max_regression}})
    return updated


def _num(value: float) -> float | None:
    """JSON has no NaN: a metric that is not a number is recorded as null."""
    return value if value == value and abs(value) != float("inf") else None


def _finite(metrics: dict[str, float]) -> dict[str, float | None]:
    return {k: _num(v) for k, v in metrics.items()}


def request(run: Run, current: Response) -> Response:
    """Open the ``pending`` approval request for a qualifying candidate."""
    name = current.model_name
    approval_id = f"APR-{current.incident_id.removeprefix('INC-')}"
    with run.warehouse.session() as session:
        evaluated = ledger.latest_by_type(session, "candidate_evaluated")[current.incident_id]
        staged = ledger.latest_by_type(session, "refresh_staged")[current.incident_id]
        incident = run.incident
        detail = {
            "incident": {"incident_id": current.incident_id,
                         "windows": [str(_day(incident["first_window"])),
                                     str(_day(incident["last_window"]))],
                         "score": incident["score"],
                         "drifted_features": json.loads(incident["drifted_features"])},
            "dataset": {k: staged.payload[k] for k in (
                "dataset_table", "dataset_digest", "holdout_table", "holdout_digest", "cutoff",
                "holdout", "sources", "feature_pipeline_version")},
            "candidate": {"uat_version": current.candidate_version,
                          "run_id": current.candidate_run_id,
                          "model_digest": evaluated.payload["candidate"]["model_digest"]},
            "evaluation": evaluated.payload,
            "ledger": {"refresh_staged": staged.seq, "candidate_evaluated": evaluated.seq},
        }
        now = ledger.utc_now()
        session.execute("approvals/insert", {
            "approval_id": approval_id, "model_name": name,
            "candidate_version": current.candidate_version,
            "champion_version": current.champion_version, "incident_id": current.incident_id,
            "state": "pending", "requested_by": current.requested_by, "requested_at": now,
            "detail": canonical_json(detail)})
        updated = state.record(session, current, "approval_requested", approval_id=approval_id)
        ledger.append(session, actor=current.requested_by, environment="uat",
                      event_type="approval_requested", subject=current.incident_id, payload={
                          "approval_id": approval_id, "model": name,
                          "candidate_version": current.candidate_version,
                          "candidate_run_id": current.candidate_run_id,
                          "champion_version": current.champion_version,
                          "requested_by": current.requested_by,
                          "verdict": evaluated.payload["verdict"]})
    return updated
