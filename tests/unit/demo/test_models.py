"""The demo models: specs, time-based split, training, metrics and robust scoring."""

from __future__ import annotations

import math
from dataclasses import FrozenInstanceError

import numpy as np
import pandas as pd
import pytest

from governance.demo import models, retail
from governance.demo.models import HIGHER_IS_BETTER, MODEL_SPECS, TrainedModel
from tests.unit.demo.conftest import SEED

Tables = dict[str, pd.DataFrame]
REGRESSION_KEYS = {"rmse", "mae", "mape", "r2"}
CLASSIFICATION_KEYS = {"auc", "log_loss", "precision_at_k", "accuracy"}


@pytest.fixture(scope="module")
def trained(training: Tables) -> dict[str, TrainedModel]:
    """Each model trained once on the small training set."""
    return {name: models.train(spec, training[name], SEED) for name, spec in MODEL_SPECS.items()}


def _scores(model: TrainedModel, frame: pd.DataFrame) -> np.ndarray:
    features = frame.loc[:, list(model.spec.features)]
    if model.spec.task == "classification":
        return np.asarray(model.pipeline.predict_proba(features))[:, 1]
    return np.asarray(model.pipeline.predict(features))


def test_specs_match_the_data_contract(training: Tables) -> None:
    """Features and targets come from retail; categoricals are exactly the text features."""
    assert set(retail.MODEL_NAMES) == set(MODEL_SPECS)
    for name, spec in MODEL_SPECS.items():
        assert name == spec.name
        assert retail.FEATURES[name] == spec.features
        assert retail.TARGETS[name] == spec.target
        text = {f for f in spec.features if training[name][f].dtype == "str"}
        assert text == set(spec.categorical)
        assert spec.primary_metric in HIGHER_IS_BETTER
    assert "xgboost" == MODEL_SPECS["demand_forecast"].algorithm
    assert "random_forest" == MODEL_SPECS["price_elasticity"].algorithm
    assert "classification" == MODEL_SPECS["basket_propensity"].task


def test_specs_are_frozen_and_hashable() -> None:
    """Specs can key a dict and neither they nor their params can be changed in place."""
    spec = MODEL_SPECS["demand_forecast"]
    assert {spec: 1}[spec] == 1
    with pytest.raises(FrozenInstanceError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError, match="does not support item assignment"):
        spec.params["max_depth"] = 3  # type: ignore[index]


def test_split_holds_out_the_newest_dates(training: Tables) -> None:
    """The test set is the latest ~15% of days, strictly after every training day."""
    spec = MODEL_SPECS["demand_forecast"]
    fit_rows, test_rows = models.split(training["demand_forecast"], spec, SEED)
    assert fit_rows["event_date"].max() < test_rows["event_date"].min()
    assert len(fit_rows) + len(test_rows) == len(training["demand_forecast"])
    assert 0.12 < len(test_rows) / len(training["demand_forecast"]) < 0.18


def test_split_refuses_data_it_cannot_hold_out(training: Tables) -> None:
    """One day of data or a missing column is an error, not an empty test set."""
    spec = MODEL_SPECS["basket_propensity"]
    frame = training["basket_propensity"]
    one_day = frame.assign(event_date=frame["event_date"].iloc[0])
    with pytest.raises(ValueError, match="too few distinct days"):
        models.split(one_day, spec, SEED)
    with pytest.raises(ValueError, match="missing columns"):
        models.split(frame.drop(columns=["device"]), spec, SEED)


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_each_model_trains_to_sensible_metrics(
    name: str, trained: dict[str, TrainedModel], training: Tables
) -> None:
    """Holdout metrics are finite and better than a naive model."""
    model = trained[name]
    assert model.n_train + model.n_test == len(training[name])
    assert all(math.isfinite(v) for v in model.metrics.values())
    if model.spec.task == "regression":
        assert REGRESSION_KEYS == set(model.metrics)
        assert model.metrics["r2"] > (0.3 if name == "demand_forecast" else 0.2)
        assert 0 < model.metrics["mae"] <= model.metrics["rmse"]
    else:
        assert CLASSIFICATION_KEYS == set(model.metrics)
        assert model.metrics["auc"] > 0.65
        base_rate = training[name][model.spec.target].mean()
        assert model.metrics["precision_at_k"] > base_rate
        assert model.metrics["log_loss"] < 0.69  # below a coin flip's log loss


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_importances_cover_the_input_features(name: str, trained: dict[str, TrainedModel]) -> None:
    """One non-negative share per input feature, in spec order, summing to one."""
    importance = trained[name].feature_importance
    assert trained[name].spec.features == tuple(importance)
    assert all(v >= 0 for v in importance.values())
    assert math.isclose(1.0, sum(importance.values()), abs_tol=1e-9)


def test_same_seed_gives_identical_models(
    trained: dict[str, TrainedModel], training: Tables, logs: Tables
) -> None:
    """Retraining with the same seed reproduces metrics and predictions exactly."""
    for name, spec in MODEL_SPECS.items():
        again = models.train(spec, training[name], SEED)
        assert dict(trained[name].metrics) == dict(again.metrics)
        np.testing.assert_array_equal(
            _scores(trained[name], logs[name]), _scores(again, logs[name])
        )


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_models_score_drifted_inference_rows(
    name: str, trained: dict[str, TrainedModel], logs: Tables
) -> None:
    """Whole log rows (extra columns included) with Online-Hub and outage nulls score fine."""
    log = logs[name]
    pipeline = trained[name].pipeline
    is_classifier = trained[name].spec.task == "classification"
    scores = np.asarray(pipeline.predict_proba(log) if is_classifier else pipeline.predict(log))
    assert len(log) == len(scores)
    assert np.isfinite(scores).all()
    if name == "demand_forecast":
        assert (log["region"] == "Online-Hub").any()
    if name == "basket_propensity":
        assert log["days_since_last_visit"].isna().mean() > 0.1


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_models_tolerate_unseen_and_missing_values(
    name: str, trained: dict[str, TrainedModel], training: Tables
) -> None:
    """Unknown or missing categories and missing numbers never raise; column order is free."""
    spec = trained[name].spec
    rows = training[name].loc[:4, list(reversed(spec.features))].copy()
    for column in spec.categorical:
        rows[column] = pd.Series(["never-seen", None, "x", "Online-Hub", ""], dtype="str")
    numeric = [f for f in spec.features if f not in spec.categorical]
    rows[numeric[0]] = rows[numeric[0]].astype("float64")
    rows.loc[rows.index[:2], numeric[0]] = np.nan
    assert np.isfinite(_scores(trained[name], rows)).all()


def test_evaluate_on_logs_skips_rows_awaiting_labels(
    trained: dict[str, TrainedModel], logs: Tables
) -> None:
    """Only labelled rows are scored; a window with no labels is an error."""
    spec = MODEL_SPECS["demand_forecast"]
    log = logs["demand_forecast"].rename(columns={"label": spec.target})
    pipeline = trained["demand_forecast"].pipeline
    labelled = log[log[spec.target].notna()]
    assert models.evaluate(spec, pipeline, log) == models.evaluate(spec, pipeline, labelled)
    with pytest.raises(ValueError, match="no labelled rows"):
        models.evaluate(spec, pipeline, log[log[spec.target].isna()])


def test_classification_metrics_with_one_class(
    trained: dict[str, TrainedModel], training: Tables
) -> None:
    """AUC is undefined for a single class and reported as NaN; the others still compute."""
    spec = MODEL_SPECS["basket_propensity"]
    frame = training["basket_propensity"]
    buyers = frame[frame[spec.target] == 1].head(50)
    metrics = models.evaluate(spec, trained["basket_propensity"].pipeline, buyers)
    assert math.isnan(metrics["auc"])
    assert 1.0 == metrics["precision_at_k"]
    assert math.isfinite(metrics["log_loss"])


def test_mape_ignores_zero_targets(trained: dict[str, TrainedModel], training: Tables) -> None:
    """Zero-sales rows do not enter MAPE; all-zero targets give NaN rather than infinity."""
    spec = MODEL_SPECS["demand_forecast"]
    pipeline = trained["demand_forecast"].pipeline
    frame = training["demand_forecast"]
    zeros = frame[frame[spec.target] == 0]
    assert math.isnan(models.evaluate(spec, pipeline, zeros)["mape"])
    mixed = pd.concat([zeros.head(20), frame[frame[spec.target] > 0].head(20)])
    nonzero = mixed[mixed[spec.target] > 0]
    assert models.evaluate(spec, pipeline, mixed)["mape"] == pytest.approx(
        models.evaluate(spec, pipeline, nonzero)["mape"]
    )


def test_metric_directions_cover_every_metric(trained: dict[str, TrainedModel]) -> None:
    """Champion-versus-candidate comparisons know which way every metric points."""
    names = {k for model in trained.values() for k in model.metrics}
    assert names == set(HIGHER_IS_BETTER)
