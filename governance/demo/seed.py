"""Build the retail demo workspace: data, lineage, three trained models, bootstrap promotions.

The build is deterministic from the seed: the same seed gives the same tables and the same model
metrics (run ids and times differ). The last step writes ``demo_seeded`` to the ledger; a
workspace without it is incomplete (a crash mid-build) and is rebuilt from scratch on the next
``demo`` call, so nothing half-written survives.

The module plays the upstream pipelines that own production data (raw tables, feature tables,
inference logs), so it is one of the two callers allowed to write prod; models reach the prod
registry only through :func:`governance.promotion.promote`.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from governance import (
    approvals,
    envguard,
    ledger,
    lineage,
    mlflow_mirror,
    promotion,
    promotion_job,
    schema,
)
from governance.demo import large, models, retail
from governance.drift import monitor as drift_monitor
from governance.drift import profile as drift_profile
from governance.drift.policy import Policy
from governance.errors import GovernanceError
from governance.identity import Identity
from governance.registry import Registry, registries, release_local_stores
from governance.response import training as trainer
from governance.response.pipeline import respond_to
from governance.settings import Settings
from governance.warehouse import Session, Warehouse, open_warehouse

log = logging.getLogger(__name__)
ACTOR = "system:demo"
EXPERIMENT = "driftgate-demo"
RAW_TABLES = ("stores", "products", "calendar", "weather", "sales", "customer_sessions")
# Which raw tables each model's feature table is built from.
SOURCES = {
    "demand_forecast": ("sales", "stores", "products", "calendar", "weather"),
    "price_elasticity": ("sales", "products"),
    "basket_propensity": ("customer_sessions",),
}
Progress = Callable[[str], None]


@dataclass(frozen=True)
class SeedReport:
    """What ``demo`` did: ``built`` is False when a complete workspace was already there."""

    built: bool
    seconds: float
    tables: dict[str, int]
    metrics: dict[str, dict[str, float]]


def feature_table(name: str) -> str:
    """Full name of a model's feature table (prod, owned by the feature pipeline)."""
    return f"prod.features.{name}_features"


def training_table(name: str, version: int) -> str:
    """Full name of a model version's immutable training set (uat)."""
    return f"uat.training.{name}_v{version}"


def inference_table(name: str) -> str:
    """Full name of a production model's inference log."""
    return f"prod.inference.{name}"


def is_seeded(warehouse: Warehouse) -> bool:
    """True when the workspace holds a completed demo build of the current schema."""
    try:
        with warehouse.session() as session:
            # A workspace from an older schema lacks tables today's code needs: rebuild it.
            return (schema.schema_version(session) == schema.SCHEMA_VERSION
                    and bool(ledger.latest_by_type(session, "demo_seeded")))
    except GovernanceError:
        return False


def seed(settings: Settings, *, reset: bool = False, progress: Progress = log.info) -> SeedReport:
    """Build the demo workspace under ``settings.home`` unless a complete one exists.

    Args:
        settings: Resolved settings (home, seed, scale).
        reset: Throw away any existing workspace first.
        progress: Called with one line per step.

    Returns:
        What was built.
    """
    started = time.monotonic()
    if not reset and settings.duckdb_dir.exists():
        if is_seeded(open_warehouse(settings, create=True)):
            return SeedReport(False, time.monotonic() - started, {}, {})
        progress("found an incomplete or older workspace: rebuilding it")
    release_local_stores(settings)
    for folder in (settings.duckdb_dir, settings.mlflow_dir):
        shutil.rmtree(folder, ignore_errors=True)
    # The large demo is the default demo on top of years of synthetic history.
    scale = retail.SCALES["default" if settings.demo_scale == "large" else settings.demo_scale]
    warehouse = open_warehouse(settings, create=True)
    regs = registries(settings)
    history = None
    if settings.demo_scale == "large":
        progress("generating three years of synthetic history for ~200 models")
        history = large.generate(settings.demo_seed)
    progress(f"generating retail data (seed {settings.demo_seed}, scale {scale.name})")
    ref = retail.generate_reference(settings.demo_seed, scale)
    training = retail.build_training_sets(ref)
    logs = retail.generate_inference_logs(ref, settings.demo_seed, scale)
    with envguard.prod_writes("governance.demo.seed", "demo upstream pipelines"):
        tables = _build_data(warehouse, ref, training, history, progress)
        progress("creating the uat and prod MLflow stores")
        for reg in regs.values():
            reg.create_store()
    metrics = _train_and_promote(warehouse, regs, training, logs, settings.demo_seed, progress)
    for name in training:
        tables[training_table(name, 1)] = len(training[name])
        tables[inference_table(name)] = len(logs[name])
    progress("monitor backfill: eight weeks of drift history")
    outcomes = drift_monitor.run(warehouse, Policy(), since=retail.INFERENCE_START)
    for outcome in outcomes:
        if outcome.incident_action:
            progress(f"  {outcome.model} {outcome.window[0]}: {outcome.verdict}, incident "
                     f"{outcome.incident_id} {outcome.incident_action}")
    progress("drift response: refresh, retrain and evaluate a candidate per incident (uat)")
    opened = [o.incident_id for o in outcomes if o.incident_action == "opened" and o.incident_id]
    for response in respond_to(warehouse, regs["uat"], regs["prod"], opened, policy=Policy(),
                               progress=lambda line: progress(f"  {line}")):
        if not response.ok:
            raise GovernanceError(f"demo drift response to {response.incident_id} failed: "
                                  + "; ".join(response.problems))
    _complete_one_request(warehouse, regs, settings, progress)
    progress("monitor: the newly promoted champion's windows after its training data")
    drift_monitor.run(warehouse, Policy(), since=retail.INFERENCE_START)
    progress("mirroring MLflow runs for the audit view")
    mlflow_mirror.sync(warehouse, regs)
    with warehouse.session() as session:
        ledger.append(session, actor=ACTOR, environment="global", event_type="demo_seeded",
                      subject="workspace",
                      payload={"seed": settings.demo_seed, "scale": settings.demo_scale,
                               "tables": tables})
    return SeedReport(True, time.monotonic() - started, tables, metrics)


#: The demo's scripted approver. Its source says "demo": no login vouched for it.
DEMO_APPROVER = Identity(email="alice@retail.example", name="Alice Approver", subject="alice",
                         issuer="driftgate-demo", groups=("model-approvers",), source="demo")
COMPLETED_MODEL = "basket_propensity"


def _complete_one_request(warehouse: Warehouse, regs: dict[str, Registry], settings: Settings,
                          progress: Progress) -> None:
    """Approve and promote one model's request, so the approvals page has history on first
    open; the other drifting model's request stays pending."""
    with warehouse.session() as session:
        pending = [a for a in approvals.list_approvals(session, "pending")
                   if a.model_name == COMPLETED_MODEL]
    for request in pending:
        progress(f"approving and promoting {request.approval_id} as {DEMO_APPROVER.email}")
        approvals.decide(warehouse, regs["uat"], settings, Policy(), request.approval_id,
                         DEMO_APPROVER, "approve",
                         "Candidate beats the champion on the drifted holdout; approved for "
                         "the demo.")
        promotion_job.promote_approved(warehouse, regs["uat"], regs["prod"],
                                       request.approval_id)


def _build_data(warehouse: Warehouse, ref: dict[str, pd.DataFrame],
                training: dict[str, pd.DataFrame], history: large.History | None = None,
                progress: Progress = log.info) -> dict[str, int]:
    tables: dict[str, int] = {}
    with warehouse.session() as session:
        schema.ensure_schema(session)
        session.execute("demo/prod_schemas")
        if history is not None:
            # First in the chain: the history's entries are all older than the demo's own.
            progress("writing the synthetic history (ledger chain, drift, approvals, lineage)")
            large.write(session, history, progress=progress)
        now = ledger.utc_now()
        for name in RAW_TABLES:
            tables[f"prod.retail.{name}"] = _load(session, f"prod.retail.{name}", ref[name])
        for name, frame in training.items():
            tables[feature_table(name)] = _load(session, feature_table(name), frame)
        lineage.record(session, _raw_lineage(training), now)
        ledger.append(session, actor=ACTOR, environment="prod", event_type="workspace_created",
                      subject="workspace",
                      payload={"schema_version": schema.SCHEMA_VERSION, "tables": tables})
    return tables


DATE_COLUMNS = ("date", "event_date", "opened_on")


def _load(session: Session, table: str, frame: pd.DataFrame) -> int:
    session.load_table(table, _with_dates(frame))
    return len(frame)


def _with_dates(frame: pd.DataFrame) -> pd.DataFrame:
    """Store calendar days as DATE, not midnight TIMESTAMPs (they are days, not instants)."""
    present = [c for c in DATE_COLUMNS if c in frame.columns]
    return frame.assign(**{c: frame[c].dt.date for c in present}) if present else frame


def _raw_lineage(training: dict[str, pd.DataFrame]) -> list[lineage.Edge]:
    edges = []
    for name, frame in training.items():
        spec = models.MODEL_SPECS[name]
        for source in SOURCES[name]:
            edges.append(lineage.Edge(
                f"prod.retail.{source}", feature_table(name), "JOB", f"{name}_feature_pipeline",
                f"{name}-features-1", "system:feature-pipeline",
            ))
        # The primary source carries the row grain; column lineage follows the model features.
        primary = f"prod.retail.{SOURCES[name][0]}"
        columns = tuple((c, c) for c in (*spec.features, spec.target) if c in frame.columns)
        edges.append(lineage.Edge(
            primary, feature_table(name), "JOB", f"{name}_feature_pipeline",
            f"{name}-features-1", "system:feature-pipeline", columns,
        ))
    return edges


def _train_and_promote(
    warehouse: Warehouse, regs: dict[str, Registry], training: dict[str, pd.DataFrame],
    logs: dict[str, pd.DataFrame], seed: int, progress: Progress,
) -> dict[str, dict[str, float]]:
    uat, all_metrics = regs["uat"], {}
    for name, frame in training.items():
        spec = models.MODEL_SPECS[name]
        progress(f"training {name} ({spec.algorithm}, {len(frame):,} rows)")
        trained = models.train(spec, frame, seed)
        all_metrics[name] = dict(trained.metrics)
        table = training_table(name, 1)
        digest = lineage.frame_digest(frame)
        logged_run = trainer.log_trained(
            uat, trained, frame, experiment=EXPERIMENT, run_name=f"{name}-v1", table=table,
            digest=digest, seed=seed, tags={"mlflow.user": ACTOR})
        run_id, version = logged_run.run_id, logged_run.version
        logged = _score_logs(trained, logs[name])
        now = ledger.utc_now()
        with envguard.prod_writes("governance.demo.seed", "demo upstream pipelines"), \
                warehouse.session() as session:
            _load(session, table, frame)
            _load(session, inference_table(name), logged)
            # Freeze the baseline at training time: later windows are binned on these edges.
            frozen = drift_profile.build_profile(
                session, table, trainer.feature_specs(spec, trained.feature_importance, frame))
            drift_profile.store(session, name, version, run_id, frozen, now)
            session.execute("models/register", _model_row(spec, table, now))
            lineage.record(session, [lineage.Edge(
                feature_table(name), table, "JOB", "driftgate-demo", run_id, ACTOR,
                tuple((c, c) for c in (*spec.features, spec.target)),
            )], now)
            ledger.append(session, actor=ACTOR, environment="uat", event_type="model_trained",
                          subject=f"{name}/{version}",
                          payload={"run_id": run_id, "training_table": table,
                                   "dataset_digest": digest, "metrics": dict(trained.metrics)})
        with tempfile.TemporaryDirectory(prefix="driftgate-profile-") as tmp:
            doc = Path(tmp) / "baseline_profile.json"
            doc.write_text(drift_profile.to_document(frozen), encoding="utf-8")
            uat.log_artifacts(run_id, Path(tmp), "")
        progress(f"bootstrap promotion of {name} v{version} to prod")
        promotion.promote(warehouse, uat, regs["prod"], model_name=name,
                          uat_version=version,
                          approval_id=f"bootstrap-{name}-v{version}",
                          actor=ACTOR, reason="bootstrap")
    return all_metrics


def _score_logs(trained: models.TrainedModel, frame: pd.DataFrame) -> pd.DataFrame:
    return frame.assign(
        prediction=trainer.served_scores(trained, frame[list(trained.spec.features)]))


def _model_row(spec: models.ModelSpec, table: str, now: object) -> dict[str, object]:
    return {
        "model_name": spec.name, "task": spec.task, "algorithm": spec.algorithm,
        "description": spec.description, "owner": "retail-data-science",
        "features": json.dumps(list(spec.features)),
        "categorical": json.dumps(list(spec.categorical)), "target": spec.target,
        "primary_metric": spec.primary_metric, "training_table": table,
        "inference_table": inference_table(spec.name), "registered_at": now,
    }
