"""harness.qualify, harness_for and model_inputs as pure functions (evaluate runs in the
pipeline tests on real model files)."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.demo.models import HIGHER_IS_BETTER
from governance.drift.policy import ResponseRule
from governance.errors import DataError
from governance.response import harness

PROPERTY = settings(derandomize=True, max_examples=300, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
RULE = ResponseRule(max_regression=0.25)  # a power of two: the boundary is exact in floats
RMSE = harness.harness_for("m", "regression", "rmse")
AUC = harness.harness_for("m", "classification", "auc")
metric_value = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)


def test_harness_is_named_per_model_and_versioned() -> None:
    h = harness.harness_for("demand_forecast", "regression", "rmse")

    assert harness.Harness("demand_forecast-harness", harness.HARNESS_VERSION, "regression",
                           "rmse") == h


def test_unknown_primary_metric_is_a_data_error_listing_the_known_ones() -> None:
    with pytest.raises(DataError, match=r"m: unknown primary metric 'f1'") as info:
        harness.harness_for("m", "classification", "f1")

    assert all(metric in info.value.hint for metric in HIGHER_IS_BETTER)


# --- qualify: both directions ---------------------------------------------------------------


@pytest.mark.parametrize(("h", "old", "new", "qualifies", "change"), [
    # lower is better (rmse)
    (RMSE, 4.0, 3.0, True, 0.25),
    (RMSE, 4.0, 4.0, True, 0.0),
    (RMSE, 4.0, 5.0, True, -0.25),  # exactly max_regression worse: allowed
    (RMSE, 4.0, 5.0 + 2 ** -40, False, None),  # a hair beyond
    (RMSE, 4.0, 8.0, False, -1.0),
    # higher is better (auc)
    (AUC, 0.5, 0.75, True, 0.5),
    (AUC, 0.5, 0.375, True, -0.25),  # exactly max_regression worse: allowed
    (AUC, 0.5, 0.375 - 2 ** -40, False, None),
    (AUC, 0.5, 0.25, False, -0.5),
])
def test_qualify_applies_max_regression_in_the_metrics_direction(
        h: harness.Harness, old: float, new: float, qualifies: bool,
        change: float | None) -> None:
    verdict = harness.qualify(h, {h.primary_metric: old, "other": 1.0},
                              {h.primary_metric: new, "other": -5.0}, RULE)

    assert qualifies is verdict.qualifies
    if change is not None:
        assert change == verdict.change
    assert verdict.reason.startswith("qualifies: " if qualifies else "does not qualify: ")
    assert f"{h.primary_metric} {new:.4g} vs champion {old:.4g}" in verdict.reason
    assert "response.max_regression allows at most 25% worse" in verdict.reason


def test_qualify_words_say_better_or_worse() -> None:
    better = harness.qualify(RMSE, {"rmse": 4.0}, {"rmse": 3.0}, RULE)
    worse = harness.qualify(RMSE, {"rmse": 4.0}, {"rmse": 4.4}, RULE)

    assert "(25.0% better)" in better.reason
    assert "(10.0% worse)" in worse.reason


def test_qualify_uses_only_the_primary_metric() -> None:
    verdict = harness.qualify(RMSE, {"rmse": 4.0, "mae": 1.0, "r2": 0.9},
                              {"rmse": 4.0, "mae": 100.0, "r2": -3.0}, RULE)

    assert verdict.qualifies


def test_a_negative_champion_metric_keeps_the_direction() -> None:
    """r2 can be negative: -0.5 -> -0.4 is better, not worse."""
    r2 = harness.harness_for("m", "regression", "r2")

    verdict = harness.qualify(r2, {"r2": -0.5}, {"r2": -0.25}, RULE)

    assert verdict.qualifies
    assert 0.5 == verdict.change


def test_a_zero_champion_metric_compares_absolute_differences() -> None:
    verdict = harness.qualify(RMSE, {"rmse": 0.0}, {"rmse": 0.25}, RULE)

    assert (True, -0.25) == (verdict.qualifies, verdict.change)


@pytest.mark.parametrize(("champion", "candidate", "who"), [
    ({"auc": math.nan}, {"auc": 0.7}, "champion"),
    ({"auc": 0.7}, {"auc": math.nan}, "candidate"),
    ({"auc": math.nan}, {"auc": math.nan}, "champion"),
    ({"auc": math.inf}, {"auc": 0.7}, "champion"),
    ({"auc": 0.7}, {"auc": -math.inf}, "candidate"),
    ({}, {"auc": 0.7}, "champion"),  # metric missing (e.g. one class in the holdout)
    ({"auc": 0.7}, {"log_loss": 0.1}, "candidate"),
])
def test_non_finite_or_missing_metric_never_qualifies(
        champion: dict[str, float], candidate: dict[str, float], who: str) -> None:
    verdict = harness.qualify(AUC, champion, candidate, RULE)

    assert not verdict.qualifies
    assert math.isnan(verdict.change)
    assert verdict.reason == (f"auc is not a number for the {who} on this holdout, so the two "
                              "cannot be compared")


# --- qualify: properties --------------------------------------------------------------------


@PROPERTY
@given(metric=st.sampled_from(sorted(HIGHER_IS_BETTER)), old=metric_value, a=metric_value,
       b=metric_value, max_regression=st.floats(0, 1))
def test_qualify_is_monotone_in_the_candidates_metric(metric: str, old: float, a: float,
                                                      b: float, max_regression: float) -> None:
    """If a candidate qualifies, every candidate at least as good qualifies too."""
    h = harness.Harness("m-harness", "1", "regression", metric)
    rule = ResponseRule(max_regression=max_regression)
    worse, better = (min(a, b), max(a, b)) if HIGHER_IS_BETTER[metric] else (max(a, b),
                                                                               min(a, b))

    v_worse = harness.qualify(h, {metric: old}, {metric: worse}, rule)
    v_better = harness.qualify(h, {metric: old}, {metric: better}, rule)

    assert v_better.change >= v_worse.change
    if v_worse.qualifies:
        assert v_better.qualifies


@PROPERTY
@given(metric=st.sampled_from(sorted(HIGHER_IS_BETTER)), old=metric_value, new=metric_value,
       max_regression=st.floats(0, 1))
def test_qualify_matches_its_rule(metric: str, old: float, new: float,
                                  max_regression: float) -> None:
    """Qualifies exactly when the signed change is >= -max_regression; the change is positive
    exactly when the candidate is better; a candidate equal to the champion qualifies."""
    h = harness.Harness("m-harness", "1", "regression", metric)
    rule = ResponseRule(max_regression=max_regression)

    verdict = harness.qualify(h, {metric: old}, {metric: new}, rule)
    same = harness.qualify(h, {metric: old}, {metric: old}, rule)

    assert verdict.qualifies is (verdict.change >= -max_regression or math.isclose(
        verdict.change, -max_regression, rel_tol=harness.BOUNDARY_REL_TOL))
    improved = new > old if HIGHER_IS_BETTER[metric] else new < old
    assert (verdict.change > 0) is improved
    assert same.qualifies
    assert same.change == 0


@PROPERTY
@given(old=metric_value, new=metric_value, low=st.floats(0, 1), high=st.floats(0, 1))
def test_a_looser_policy_never_rejects_what_a_stricter_one_accepts(
        old: float, new: float, low: float, high: float) -> None:
    strict, loose = (replace(RULE, max_regression=min(low, high)),
                     replace(RULE, max_regression=max(low, high)))

    if harness.qualify(AUC, {"auc": old}, {"auc": new}, strict).qualifies:
        assert harness.qualify(AUC, {"auc": old}, {"auc": new}, loose).qualifies


# --- model_inputs ---------------------------------------------------------------------------


def test_model_inputs_cast_as_serving_does() -> None:
    frame = pd.DataFrame({
        "n": pd.array([1, None, 3], dtype="Int64"),
        "x": np.array([1, 2, 3], dtype=np.int64),
        "city": pd.array(["a", None, "c"], dtype="str"),
        "flag": [True, False, True],
        "ignored": [9, 9, 9],
    })
    sig = [("n", "double"), ("x", "float"), ("city", "string"), ("flag", "boolean")]

    out = harness.model_inputs(frame, sig)

    assert ["n", "x", "city", "flag"] == list(out.columns)
    assert np.float64 == out["n"].dtype
    assert np.float64 == out["x"].dtype
    assert np.isnan(out["n"].iloc[1])
    assert ["a", None, "c"] == list(out["city"])
    assert object == out["city"].dtype
    assert [True, False, True] == list(out["flag"])


@pytest.mark.parametrize(("h", "old", "new"), [(RMSE, 1.0, 1.02), (AUC, 0.5, 0.49),
                                               (AUC, 0.8, 0.784)])
def test_a_candidate_exactly_max_regression_worse_in_decimal_terms_qualifies(
        h: harness.Harness, old: float, new: float) -> None:
    verdict = harness.qualify(h, {h.primary_metric: old}, {h.primary_metric: new},
                              ResponseRule(max_regression=0.02))

    assert verdict.qualifies, verdict.reason
