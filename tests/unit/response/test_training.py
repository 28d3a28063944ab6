"""training._parse and spec_from_run: the champion's settings back from MLflow's text params."""

from __future__ import annotations

import math
from types import MappingProxyType

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from governance.demo import models
from governance.errors import DataError
from governance.response import training

PROPERTY = settings(derandomize=True, max_examples=300, deadline=None, database=None)


def logged(spec: models.ModelSpec, seed: int = 42) -> dict[str, str]:
    """The params exactly as log_trained logs them and MLflow stores them: str(value)."""
    params = {**spec.params, "algorithm": spec.algorithm, "features": ",".join(spec.features),
              "seed": seed}
    return {k: str(v) for k, v in params.items()}


def bare(spec: models.ModelSpec) -> models.ModelSpec:
    """The governed model's row as the pipeline rebuilds it: no params, default algorithm."""
    return models.ModelSpec(name=spec.name, task=spec.task, algorithm="xgboost",
                            features=tuple(reversed(spec.features)),
                            categorical=spec.categorical, target=spec.target, params={},
                            primary_metric=spec.primary_metric, description=spec.description)


@pytest.mark.parametrize("name", sorted(models.MODEL_SPECS))
def test_demo_specs_round_trip_through_mlflow_text_params(name: str) -> None:
    spec = models.MODEL_SPECS[name]

    got, seed = training.spec_from_run(bare(spec), logged(spec, seed=1234))

    assert 1234 == seed
    assert spec.algorithm == got.algorithm
    assert spec.features == got.features
    assert spec.categorical == got.categorical
    assert dict(spec.params) == dict(got.params)
    # same types too: 5.0 stays a float, 200 an int, "hist" a string
    assert {k: type(v) for k, v in spec.params.items()} == {
        k: type(v) for k, v in got.params.items()}
    assert isinstance(got.params, MappingProxyType)
    assert spec == got


def test_bookkeeping_params_are_not_hyperparameters() -> None:
    spec = models.MODEL_SPECS["demand_forecast"]

    got, _ = training.spec_from_run(bare(spec), logged(spec))

    assert not {"algorithm", "features", "seed"} & set(got.params)


def test_categorical_columns_follow_the_logged_features() -> None:
    spec = models.MODEL_SPECS["basket_propensity"]
    params = logged(spec) | {"features": "visits_last_30d,channel,device"}

    got, _ = training.spec_from_run(bare(spec), params)

    assert ("visits_last_30d", "channel", "device") == got.features
    assert ("channel", "device") == got.categorical


@pytest.mark.parametrize("drop", ["algorithm", "features", "seed"])
def test_missing_bookkeeping_param_is_a_data_error(drop: str) -> None:
    spec = models.MODEL_SPECS["demand_forecast"]
    params = {k: v for k, v in logged(spec).items() if k != drop}

    with pytest.raises(DataError, match=rf"demand_forecast: the champion's training run did "
                                        rf"not log \['{drop}'\]") as info:
        training.spec_from_run(bare(spec), params)

    assert "retrain the champion with Driftgate" in info.value.hint


def test_unknown_algorithm_is_a_data_error() -> None:
    spec = models.MODEL_SPECS["demand_forecast"]

    with pytest.raises(DataError, match=r"cannot retrain algorithm 'lightgbm'"):
        training.spec_from_run(bare(spec), logged(spec) | {"algorithm": "lightgbm"})


@pytest.mark.parametrize(("text", "value"), [
    ("True", True), ("False", False), ("None", None), ("200", 200), ("-3", -3),
    ("0.08", 0.08), ("5.0", 5.0), ("1e-05", 1e-05), ("hist", "hist"),
    ("count:poisson", "count:poisson"), ("binary:logistic", "binary:logistic"), ("", ""),
    ("true", "true"),
])
def test_parse_examples(text: str, value: object) -> None:
    parsed = training._parse(text)

    assert value == parsed
    assert type(value) is type(parsed)


def test_parse_nan_and_infinity_come_back_as_floats() -> None:
    assert math.isnan(training._parse(str(math.nan)))  # type: ignore[arg-type]
    assert math.inf == training._parse(str(math.inf))


@PROPERTY
@given(value=st.one_of(
    st.booleans(), st.none(), st.integers(-10**12, 10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(alphabet=st.characters(categories=["Ll", "Lu"]), min_size=1).filter(
        lambda s: s not in ("True", "False", "None") and s.lower() not in (
            "nan", "inf", "infinity")),
))
def test_parse_inverts_str_for_every_param_type(value: object) -> None:
    """int, float, bool, None and ordinary words survive str() -> _parse() with their type."""
    parsed = training._parse(str(value))

    assert value == parsed
    assert type(value) is type(parsed)
