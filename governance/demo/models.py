"""The three demo models: specs, training and the shared metric harness.

Pure functions: no MLflow, no I/O. A trained model is an sklearn :class:`Pipeline` whose input
is a DataFrame with the spec's feature columns (extra columns are ignored). Unseen or missing
categories encode to -1 and missing numbers stay NaN (XGBoost) or are imputed with the training
median (random forest), so drifted inference rows score without error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import RandomForestRegressor
from sklearn.impute import SimpleImputer
from sklearn.metrics import (
    accuracy_score,
    log_loss,
    mean_absolute_error,
    r2_score,
    roc_auc_score,
    root_mean_squared_error,
)
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OrdinalEncoder
from xgboost import XGBClassifier, XGBRegressor

from governance.demo.retail import FEATURES, TARGETS

TEST_FRACTION = 0.15
TOP_K_FRACTION = 0.10

#: Direction of every metric :func:`evaluate` returns, for champion-vs-candidate comparisons.
HIGHER_IS_BETTER: Mapping[str, bool] = MappingProxyType(
    {
        "rmse": False, "mae": False, "mape": False, "r2": True,
        "auc": True, "log_loss": False, "precision_at_k": True, "accuracy": True,
    }
)  # fmt: skip


@dataclass(frozen=True)
class ModelSpec:
    """What a model predicts, from which columns, with which algorithm and settings.

    Attributes:
        name: Model name, also the key of its training set and inference log.
        task: ``"regression"`` or ``"classification"`` (binary).
        algorithm: ``"xgboost"`` or ``"random_forest"``.
        features: Input columns, in a fixed order.
        categorical: The subset of ``features`` that holds text categories.
        target: Target column of the training set.
        params: Estimator hyperparameters (read-only); ``random_state`` comes from the seed.
        primary_metric: The metric that decides champion versus candidate.
        description: One line for people.
    """

    name: str
    task: Literal["regression", "classification"]
    algorithm: Literal["xgboost", "random_forest"]
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    target: str
    # Excluded from the hash because mapping proxies are unhashable; still compared by ==.
    params: Mapping[str, object] = field(hash=False)
    primary_metric: str
    description: str


# One thread: XGBoost's OpenMP workers spin-wait, so with the app, the monitor or a second
# training on the same two cores `n_jobs=2` measured 0.8-37 s per fit, while one thread stays
# near 1 s at the default scale. The forest keeps two joblib threads, which do not spin.
_XGB_COMMON: dict[str, object] = {
    "n_estimators": 200, "max_depth": 6, "learning_rate": 0.08, "subsample": 0.9,
    "colsample_bytree": 0.9, "min_child_weight": 5.0, "reg_lambda": 1.0,
    "tree_method": "hist", "n_jobs": 1, "importance_type": "gain",
}  # fmt: skip
# Sessions carry less signal per row than sales: shallower, slower trees overfit less.
_SHALLOW: dict[str, object] = {"max_depth": 4, "learning_rate": 0.05}
_FOREST: dict[str, object] = {
    "n_estimators": 120,
    "max_depth": 12,
    "min_samples_leaf": 5,
    "max_features": 0.6,
    "n_jobs": 2,
}

MODEL_SPECS: dict[str, ModelSpec] = {
    "demand_forecast": ModelSpec(
        name="demand_forecast",
        task="regression",
        algorithm="xgboost",
        features=FEATURES["demand_forecast"],
        categorical=("region", "category", "store_format"),
        target=TARGETS["demand_forecast"],
        # Poisson loss because units sold are small counts with many zeros.
        params=MappingProxyType({**_XGB_COMMON, "objective": "count:poisson"}),
        primary_metric="rmse",
        description="Daily units sold per store and SKU, for replenishment.",
    ),
    "price_elasticity": ModelSpec(
        name="price_elasticity",
        task="regression",
        algorithm="random_forest",
        features=FEATURES["price_elasticity"],
        categorical=("category", "brand_tier", "product_season"),
        target=TARGETS["price_elasticity"],
        params=MappingProxyType(_FOREST),
        primary_metric="rmse",
        description="Log units sold as a function of price, discount and competitor prices.",
    ),
    "basket_propensity": ModelSpec(
        name="basket_propensity",
        task="classification",
        algorithm="xgboost",
        features=FEATURES["basket_propensity"],
        categorical=("loyalty_tier", "channel", "region", "device"),
        target=TARGETS["basket_propensity"],
        params=MappingProxyType(
            {**_XGB_COMMON, **_SHALLOW, "objective": "binary:logistic", "eval_metric": "logloss"}
        ),
        primary_metric="auc",
        description="Probability that a customer session ends in a purchase.",
    ),
}


@dataclass(frozen=True, eq=False)
class TrainedModel:
    """A fitted pipeline with its holdout metrics and input-feature importances.

    Attributes:
        spec: The spec it was trained from.
        pipeline: Preprocessing and estimator; ``predict``/``predict_proba`` take a DataFrame.
        metrics: :func:`evaluate` on the time-based holdout.
        feature_importance: Share per input feature in ``spec.features`` order; sums to 1.
        n_train: Rows used to fit.
        n_test: Rows in the holdout.
    """

    spec: ModelSpec
    pipeline: Pipeline
    metrics: Mapping[str, float]
    feature_importance: Mapping[str, float]
    n_train: int
    n_test: int


def _as_float(frame: Any) -> np.ndarray:
    """Numbers and flags to one float64 block, so the estimator never sees an object array."""
    return np.asarray(frame, dtype=np.float64)


def build_pipeline(spec: ModelSpec, seed: int) -> Pipeline:
    """An unfitted pipeline for ``spec``: categorical encoding, numeric block, estimator."""
    numeric = [f for f in spec.features if f not in spec.categorical]
    encoder = OrdinalEncoder(
        handle_unknown="use_encoded_value",
        unknown_value=-1,
        encoded_missing_value=-1,
        dtype=np.float64,
    )
    numbers: Any = FunctionTransformer(_as_float, feature_names_out="one-to-one")
    params = dict(spec.params)
    estimator: Any
    if spec.algorithm == "random_forest":
        # Random forests reject NaN in older sklearn paths and treat it crudely in newer ones.
        imputer = SimpleImputer(strategy="median", keep_empty_features=True)
        numbers = Pipeline([("to_float", numbers), ("impute", imputer)])
        estimator = RandomForestRegressor(**params, random_state=seed)
    elif spec.task == "regression":
        estimator = XGBRegressor(**params, random_state=seed)
    else:
        estimator = XGBClassifier(**params, random_state=seed)
    columns = ColumnTransformer(
        [("categorical", encoder, list(spec.categorical)), ("numeric", numbers, numeric)],
        remainder="drop",
        verbose_feature_names_out=False,
    )
    return Pipeline([("prepare", columns), ("model", estimator)])


def split(df: pd.DataFrame, spec: ModelSpec, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Time-based holdout: rows after the 85th percentile of ``event_date`` form the test set.

    Args:
        df: A training set with ``event_date``, the spec's features and target.
        spec: The model spec; its columns must be present.
        seed: Accepted for a uniform signature; a time-based split needs no randomness.

    Returns:
        ``(train, test)``, each with a fresh index.

    Raises:
        ValueError: If columns are missing or either side would be empty.
    """
    del seed
    missing = {"event_date", spec.target, *spec.features} - set(df.columns)
    if missing:
        raise ValueError(f"{spec.name}: missing columns {sorted(missing)}")
    cutoff = df["event_date"].quantile(1.0 - TEST_FRACTION)
    is_test = (df["event_date"] > cutoff).to_numpy()
    if is_test.all() or not is_test.any():
        raise ValueError(f"{spec.name}: event_date has too few distinct days to hold out")
    return df.loc[~is_test].reset_index(drop=True), df.loc[is_test].reset_index(drop=True)


def train(spec: ModelSpec, df: pd.DataFrame, seed: int) -> TrainedModel:
    """Fit ``spec`` on the older 85% of ``df`` and evaluate it on the newest 15%.

    Args:
        spec: What to train.
        df: The model's training set (see ``build_training_sets``).
        seed: Seeds the estimator; same seed and data give the same model.

    Returns:
        The fitted model with holdout metrics and feature importances.
    """
    fit_rows, test_rows = split(df, spec, seed)
    pipeline = build_pipeline(spec, seed)
    pipeline.fit(fit_rows.loc[:, list(spec.features)], fit_rows[spec.target].to_numpy())
    if spec.algorithm == "random_forest":
        # A forest sums its trees' predictions across threads in completion order, so parallel
        # predict differs in the last bits between runs; one thread makes scores reproducible.
        pipeline.named_steps["model"].set_params(n_jobs=1)
    return TrainedModel(
        spec=spec,
        pipeline=pipeline,
        metrics=MappingProxyType(evaluate(spec, pipeline, test_rows)),
        feature_importance=MappingProxyType(_importance(spec, pipeline)),
        n_train=len(fit_rows),
        n_test=len(test_rows),
    )


def _importance(spec: ModelSpec, pipeline: Pipeline) -> dict[str, float]:
    names = pipeline.named_steps["prepare"].get_feature_names_out()
    raw = np.nan_to_num(np.asarray(pipeline.named_steps["model"].feature_importances_, float))
    by_name = dict(zip(names, raw, strict=True))
    total = float(sum(by_name.values()))
    if total <= 0.0:  # a model that never split: no feature is more important than another
        return {f: 1.0 / len(spec.features) for f in spec.features}
    return {f: float(by_name[f]) / total for f in spec.features}


def evaluate(spec: ModelSpec, pipeline: Pipeline, df: pd.DataFrame) -> dict[str, float]:
    """Score ``pipeline`` on the labelled rows of ``df`` with the shared metric harness.

    Regression: ``rmse``, ``mae``, ``r2`` and ``mape``. MAPE is the mean of
    ``|y - y_hat| / |y|`` over rows whose target is not zero (zero-sales days have no
    percentage error); it is NaN when every target is zero. Classification: ``auc`` (NaN when
    only one class is present), ``log_loss``, ``precision_at_k`` (share of positives among the
    top 10% of scores, at least one row) and ``accuracy`` at a 0.5 threshold.

    Args:
        spec: The model spec (features, target, task).
        pipeline: A fitted pipeline from :func:`train` or :func:`build_pipeline`.
        df: Rows with the spec's features and target; rows with a missing target are skipped.

    Returns:
        Metric name to value; see :data:`HIGHER_IS_BETTER` for directions.

    Raises:
        ValueError: If no row has a target.
    """
    rows = df.loc[df[spec.target].notna()]
    if rows.empty:
        raise ValueError(f"{spec.name}: no labelled rows to evaluate")
    y = rows[spec.target].to_numpy(dtype=np.float64)
    x = rows.loc[:, list(spec.features)]
    if spec.task == "regression":
        return score(spec.task, y, np.asarray(pipeline.predict(x), dtype=np.float64))
    return score(spec.task, y, np.asarray(pipeline.predict_proba(x), dtype=np.float64)[:, 1])


def score(task: str, y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """The harness metrics of predictions ``pred`` (P(class 1) for classifiers) against ``y``.

    See :func:`evaluate` for the metric definitions; both the training holdout and the drift
    response's champion-versus-candidate harness use this one function.
    """
    if task == "regression":
        nonzero = y != 0
        ape = np.abs(y - pred)[nonzero] / np.abs(y[nonzero])
        mape = float(np.mean(ape)) if nonzero.any() else math.nan
        return {
            "rmse": float(root_mean_squared_error(y, pred)),
            "mae": float(mean_absolute_error(y, pred)),
            "mape": mape,
            "r2": float(r2_score(y, pred)) if len(y) > 1 else math.nan,
        }
    k = max(1, math.ceil(TOP_K_FRACTION * len(y)))
    top = np.argsort(-pred, kind="stable")[:k]
    both_classes = np.unique(y).size == 2
    return {
        "auc": float(roc_auc_score(y, pred)) if both_classes else math.nan,
        "log_loss": float(log_loss(y, pred, labels=[0, 1])),
        "precision_at_k": float(np.mean(y[top])),
        "accuracy": float(accuracy_score(y, pred >= 0.5)),
    }


class PositiveClassProbability(BaseEstimator):  # type: ignore[misc]
    """Serve a fitted classifier's positive-class probability as its ``predict``.

    MLflow's scikit-learn flavour serves ``predict``, which for a classifier returns labels;
    what the business (and the drift monitor, and the inference log) uses is P(class 1).
    """

    def __init__(self, pipeline: Pipeline) -> None:
        self.pipeline = pipeline

    def predict(self, features: pd.DataFrame) -> np.ndarray:
        """P(class 1) per row, as float64."""
        proba: np.ndarray = self.pipeline.predict_proba(features)[:, 1].astype(np.float64)
        return proba
