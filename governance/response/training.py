"""Train a model version and log it to UAT MLflow: the demo's v1 and every drift candidate.

A candidate is trained with the champion's algorithm and hyperparameters *as logged* on the
champion's training run (:func:`spec_from_run`), not with whatever the code's defaults are
today, so a retrain changes the data and nothing else.
"""

from __future__ import annotations

import functools
import json
import subprocess
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pandas as pd

from governance.demo import models
from governance.drift.engine import FeatureSpec, Kind
from governance.drift.files import LOW_CARDINALITY
from governance.errors import DataError
from governance.registry import Registry, table_dataset

# Logged next to the hyperparameters; not estimator arguments.
_BOOKKEEPING = frozenset({"algorithm", "features", "seed"})
PIP_REQUIREMENTS = ["scikit-learn==1.9.1", "xgboost==3.2.0", "pandas==3.1.1"]


def _parse(value: str) -> object:
    """A logged parameter back to its Python value (MLflow stores every param as text)."""
    if value in ("True", "False"):
        return value == "True"
    if value == "None":
        return None
    for cast in (int, float):
        try:
            return cast(value)
        except ValueError:
            pass
    return value


def spec_from_run(base: models.ModelSpec, params: Mapping[str, str]) -> tuple[models.ModelSpec,
                                                                               int]:
    """The spec and seed a run was trained with, from its logged params.

    Args:
        base: The governed model's spec (task, categorical columns, target, primary metric).
        params: The champion training run's params.

    Returns:
        ``(spec, seed)`` with the run's algorithm, feature order and hyperparameters.

    Raises:
        DataError: The run did not log its algorithm, features or seed.
    """
    missing = sorted(_BOOKKEEPING - set(params))
    if missing:
        raise DataError(f"{base.name}: the champion's training run did not log {missing}",
                        hint="retrain the champion with Driftgate so its settings are recorded")
    algorithm = params["algorithm"]
    if algorithm not in ("xgboost", "random_forest"):
        raise DataError(f"{base.name}: cannot retrain algorithm {algorithm!r}",
                        hint="supported algorithms: xgboost, random_forest")
    hyper = {k: _parse(v) for k, v in params.items() if k not in _BOOKKEEPING}
    features = tuple(params["features"].split(","))
    spec = replace(base, algorithm=algorithm, features=features,  # type: ignore[arg-type]
                   categorical=tuple(c for c in base.categorical if c in features),
                   params=MappingProxyType(hyper))
    return spec, int(params["seed"])


def feature_specs(spec: models.ModelSpec, importance: Mapping[str, float],
                  frame: pd.DataFrame) -> list[FeatureSpec]:
    """Kinds as the drift engine sees them: booleans, named categoricals and low-cardinality
    integers are categorical; everything else numeric."""
    specs = []
    for feature in spec.features:
        column = frame[feature]
        kind: Kind = "numeric"
        if column.dtype == bool:
            kind = "boolean"
        elif (feature in spec.categorical
              or not pd.api.types.is_numeric_dtype(column)
              or (pd.api.types.is_integer_dtype(column)
                  and column.nunique() <= LOW_CARDINALITY)):
            kind = "categorical"
        specs.append(FeatureSpec(feature, kind, importance.get(feature)))
    return specs


@functools.cache
def code_version() -> str:
    """The git commit of the running code, or ``unknown`` outside a checkout."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             timeout=5, check=True, cwd=Path(__file__).resolve().parent)
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


@dataclass(frozen=True)
class Logged:
    """Where a trained model landed in UAT MLflow."""

    run_id: str
    version: str


def log_trained(uat: Registry, trained: models.TrainedModel, frame: pd.DataFrame, *,
                experiment: str, run_name: str, table: str, digest: str, seed: int,
                tags: Mapping[str, str]) -> Logged:
    """Log a trained model (params, metrics, importances, dataset input, model files with
    signature) to a UAT run and register it as a new version.

    Args:
        uat: The UAT registry.
        trained: The fitted model.
        frame: Its training set (for the dataset record and the signature example).
        experiment: MLflow experiment name.
        run_name: Run name.
        table: Full name of the training table (the dataset's source).
        digest: Content digest of ``frame``.
        seed: The training seed (logged so a retrain can reuse it).
        tags: Run tags (``mlflow.user`` names the author).
    """
    spec = trained.spec
    run_id = uat.start_run(experiment, run_name, {
        "driftgate.model": spec.name, "driftgate.training_table": table,
        "driftgate.dataset_digest": digest, **tags})
    uat.log_run(run_id, params={**spec.params, "algorithm": spec.algorithm,
                                "features": ",".join(spec.features), "seed": seed},
                metrics={**trained.metrics,
                         **{f"importance.{k}": v for k, v in trained.feature_importance.items()}})
    uat.log_dataset(run_id, table_dataset(frame, table, spec.target, digest), "training")
    with tempfile.TemporaryDirectory(prefix="driftgate-model-") as tmp:
        save_model(trained, frame, Path(tmp))
        uat.log_artifacts(run_id, Path(tmp), "")
    uat.end_run(run_id)
    version = uat.register_version(spec.name, run_id, "model",
                                   {"driftgate.dataset_digest": digest, **{
                                       k: v for k, v in tags.items() if k.startswith("driftgate.")
                                   }}, description=spec.description)
    return Logged(run_id, str(version.version))


def save_model(trained: models.TrainedModel, frame: pd.DataFrame, dest: Path) -> None:
    """Save the served model (MLflow sklearn flavour, with signature) under ``dest/model``."""
    import mlflow.sklearn
    import skops.io
    from mlflow.models import infer_signature

    sample = frame[list(trained.spec.features)].head(5)
    # Declare integer features as doubles: inference rows may carry nulls (MLflow's own hint).
    ints = sample.select_dtypes("integer").columns
    sample = sample.astype(dict.fromkeys(ints, "float64"))
    signature = infer_signature(sample, served_scores(trained, sample))
    served = trained.pipeline if trained.spec.task == "regression" else \
        models.PositiveClassProbability(trained.pipeline)
    mlflow.sklearn.save_model(
        served, str(dest / "model"), signature=signature,
        # Explicit requirements: inferring them imports the model in a subprocess (slow).
        pip_requirements=PIP_REQUIREMENTS,
        # MLflow serialises with skops, which refuses types it does not know; these are the
        # estimator classes this very process just trained, so trusting them is sound.
        skops_trusted_types=skops.io.get_untrusted_types(data=skops.io.dumps(served)),
    )
    (dest / "feature_importance.json").write_text(
        json.dumps(dict(trained.feature_importance), indent=2), encoding="utf-8")


def served_scores(trained: models.TrainedModel, features: pd.DataFrame) -> Any:
    """What the model serves: the positive-class probability for classifiers."""
    if trained.spec.task == "classification":
        return trained.pipeline.predict_proba(features)[:, 1].astype(float)
    return trained.pipeline.predict(features).astype(float)
