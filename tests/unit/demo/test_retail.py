"""The synthetic retail world: schemas, keys, dates, determinism and the planted drift."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.demo import retail
from governance.demo.retail import (
    DRIFT_START,
    FEATURES,
    INFERENCE_DAYS,
    INFERENCE_START,
    MODEL_NAMES,
    PLANTED_DRIFT,
    TARGETS,
    TRAIN_END,
    TRAIN_START,
)
from governance.demo.world import CATEGORIES, REGIONS
from tests.unit.demo.conftest import SCALE, SEED

Tables = dict[str, pd.DataFrame]
LAST_DAY = INFERENCE_START + timedelta(days=INFERENCE_DAYS - 1)
REF_SCHEMA = {
    "stores": {
        "store_id": "str", "region": "str", "store_format": "str", "size_sqm": "float64",
        "opened_on": "datetime64[us]",
    },
    "products": {
        "sku": "str", "category": "str", "base_price": "float64", "brand_tier": "str",
        "product_season": "str", "demand_index": "float64",
    },
    "calendar": {
        "date": "datetime64[us]", "day_of_week": "int64", "is_holiday": "bool", "season": "str",
        "promo_season": "bool",
    },
    "weather": {
        "region": "str", "date": "datetime64[us]", "temp_c": "float64", "precip_mm": "float64",
    },
    "sales": {
        "date": "datetime64[us]", "store_id": "str", "sku": "str", "price": "float64",
        "discount_pct": "float64", "promo_flag": "bool", "stock_level": "int64",
        "competitor_price_index": "float64", "temp_c": "float64", "precip_mm": "float64",
        "units_sold": "int64",
    },
    "customer_sessions": {
        "session_id": "str", "date": "datetime64[us]", "region": "str", "channel": "str",
        "loyalty_tier": "str", "visits_last_30d": "int64", "avg_basket_value": "float64",
        "days_since_last_visit": "float64", "promo_exposed": "bool", "device": "str",
        "purchased": "int64",
    },
}  # fmt: skip
KEYS = {
    "stores": ["store_id"], "products": ["sku"], "calendar": ["date"],
    "weather": ["region", "date"], "sales": ["date", "store_id", "sku"],
    "customer_sessions": ["session_id"],
}  # fmt: skip


def _psi(base: pd.Series, current: pd.Series, eps: float = 1e-4) -> float:
    """PSI on 10 training-quantile bins (numbers) or categories, with a bin for nulls."""
    if base.dtype.kind in "fiu":
        ref_values = base.dropna().to_numpy(dtype=float)
        edges = np.unique(np.quantile(ref_values, np.linspace(0, 1, 11))[1:-1])

        def counts(s: pd.Series) -> np.ndarray:
            bins = np.searchsorted(edges, s.dropna().to_numpy(dtype=float), side="right")
            return np.append(np.bincount(bins, minlength=edges.size + 1), s.isna().sum())

        p, q = counts(base), counts(current)
    else:
        labels = sorted(set(base.dropna().astype(str)) | set(current.dropna().astype(str)))
        p, q = (
            np.append(s.dropna().astype(str).value_counts().reindex(labels, fill_value=0),
                      s.isna().sum())
            for s in (base, current)
        )  # fmt: skip
    p_share = np.maximum(p / p.sum(), eps)
    q_share = np.maximum(q / q.sum(), eps)
    return float(np.sum((q_share - p_share) * np.log(q_share / p_share)))


def _normalised_wasserstein(base: pd.Series, current: pd.Series) -> float:
    """W1 between the non-null values (on a 1,000-point quantile grid) over the baseline std."""
    grid = np.linspace(0.0005, 0.9995, 1000)
    b, c = (s.dropna().to_numpy(dtype=float) for s in (base, current))
    return float(np.mean(np.abs(np.quantile(b, grid) - np.quantile(c, grid))) / max(b.std(), 1e-3))


def _weeks(log: pd.DataFrame) -> np.ndarray:
    return ((log["event_date"] - pd.Timestamp(INFERENCE_START)).dt.days // 7).to_numpy()


def test_reference_tables_have_the_documented_schema(ref: Tables) -> None:
    """Every raw table has exactly the documented columns and types."""
    assert set(REF_SCHEMA) == set(ref)
    for name, schema in REF_SCHEMA.items():
        assert schema == {c: str(t) for c, t in ref[name].dtypes.items()}, name


def test_row_counts_follow_the_scale(ref: Tables, training: Tables, logs: Tables) -> None:
    """Sizes come from the scale; the calendar and weather cover every day once."""
    n_days = (LAST_DAY - TRAIN_START).days + 1
    assert SCALE.n_stores == len(ref["stores"])
    assert SCALE.n_skus == len(ref["products"])
    assert n_days == len(ref["calendar"])
    assert 5 * n_days == len(ref["weather"])
    assert SCALE.train_rows == len(ref["sales"]) == len(ref["customer_sessions"])
    assert all(len(frame) == SCALE.train_rows for frame in training.values())
    per_day = {len(g) for log in logs.values() for _, g in log.groupby("event_date")}
    assert {SCALE.inference_rows_per_day} == per_day
    assert all(len(log) == INFERENCE_DAYS * SCALE.inference_rows_per_day for log in logs.values())


def test_keys_are_unique(ref: Tables, training: Tables, logs: Tables) -> None:
    """Natural keys of raw tables, row_id of training sets and request_id of logs are unique."""
    for name, key in KEYS.items():
        assert not ref[name].duplicated(key).any(), name
    for frame in training.values():
        assert frame["row_id"].is_unique
    request_ids = pd.concat([log["request_id"] for log in logs.values()])
    assert request_ids.is_unique


def test_dates_stay_in_their_periods(ref: Tables, training: Tables, logs: Tables) -> None:
    """Training data covers the training year only, logs the eight inference weeks only."""
    for frame, column in [(ref["sales"], "date"), (ref["customer_sessions"], "date")]:
        assert frame[column].between(pd.Timestamp(TRAIN_START), pd.Timestamp(TRAIN_END)).all()
    for frame in training.values():
        assert frame["event_date"].min() >= pd.Timestamp(TRAIN_START)
        assert frame["event_date"].max() <= pd.Timestamp(TRAIN_END)
        assert frame["event_date"].is_monotonic_increasing
    for log in logs.values():
        assert pd.Timestamp(INFERENCE_START) == log["event_date"].min()
        assert pd.Timestamp(LAST_DAY) == log["event_date"].max()
        assert (log["event_date"] == log["event_date"].dt.normalize()).all()
    assert pd.Timestamp(INFERENCE_START).day_name() == "Monday"


def test_training_sets_and_logs_share_feature_types(training: Tables, logs: Tables) -> None:
    """Each model's training set and log carry its features with identical dtypes."""
    for name in MODEL_NAMES:
        frame, log = training[name], logs[name]
        assert ["row_id", "event_date", *FEATURES[name], TARGETS[name]] == list(frame.columns)
        assert ["request_id", "event_date", *FEATURES[name], "label"] == list(log.columns)
        features = list(FEATURES[name])
        assert frame[features].dtypes.to_dict() == log[features].dtypes.to_dict()
        assert "float64" == str(log["label"].dtype)


def test_same_seed_gives_identical_tables(ref: Tables, logs: Tables) -> None:
    """Generation is a pure function of (seed, scale)."""
    again = retail.generate_reference(SEED, SCALE)
    for name, frame in ref.items():
        pd.testing.assert_frame_equal(frame, again[name])
    again_logs = retail.generate_inference_logs(again, SEED, SCALE)
    for name, log in logs.items():
        pd.testing.assert_frame_equal(log, again_logs[name])


def test_different_seed_gives_different_tables(ref: Tables) -> None:
    """Another seed changes every random table."""
    other = retail.generate_reference(SEED + 1, SCALE)
    for name in ("stores", "products", "weather", "sales", "customer_sessions"):
        assert not ref[name].equals(other[name]), name


def test_tables_draw_from_independent_streams(ref: Tables) -> None:
    """Changing the number of products leaves stores and weather untouched."""
    other = retail.generate_reference(SEED, replace(SCALE, n_skus=SCALE.n_skus + 7))
    for name in ("stores", "calendar", "weather"):
        pd.testing.assert_frame_equal(ref[name], other[name])


def test_labels_are_missing_exactly_for_the_last_seven_days(logs: Tables) -> None:
    """Label delay: the newest week has no realised target yet; older days all do."""
    for log in logs.values():
        unlabelled_days = log.loc[log["label"].isna(), "event_date"].unique()
        assert 7 == len(unlabelled_days)
        assert pd.Timestamp(LAST_DAY) - pd.Timedelta(days=6) == unlabelled_days.min()
        recent = log["event_date"].isin(unlabelled_days)
        assert log.loc[recent, "label"].isna().all()


def test_online_hub_appears_only_from_drift_start(training: Tables, logs: Tables) -> None:
    """The new region is absent from training and from the log before the drift starts."""
    log = logs["demand_forecast"]
    hub = log["region"] == "Online-Hub"
    assert "Online-Hub" not in set(training["demand_forecast"]["region"])
    assert pd.Timestamp(DRIFT_START) == log.loc[hub, "event_date"].min()
    assert 0.14 < hub[_weeks(log) >= 5].mean() < 0.22


def test_drift_ramps_in_over_four_days() -> None:
    """No drift before DRIFT_START, a linear ramp, then full strength."""
    days = np.arange(np.datetime64(DRIFT_START) - 2, np.datetime64(DRIFT_START) + 6)
    expected = [0.0, 0.0, 0.25, 0.5, 0.75, 1.0, 1.0, 1.0]
    np.testing.assert_allclose(expected, retail.drift_weight(days))


def test_planted_drift_has_the_documented_size(logs: Tables) -> None:
    """Prices fall 20-25%, discounts about triple, nulls jump to ~35%, web goes mobile."""
    demand, basket = logs["demand_forecast"], logs["basket_propensity"]
    before, after = _weeks(demand) < 4, _weeks(demand) >= 5
    assert 0.74 <= demand["price"][after].mean() / demand["price"][before].mean() <= 0.8
    discount_ratio = demand["discount_pct"][after].mean() / demand["discount_pct"][before].mean()
    assert 2.3 < discount_ratio < 3.7
    assert demand["promo_flag"][after].mean() > 2.5 * demand["promo_flag"][before].mean()
    before, after = _weeks(basket) < 4, _weeks(basket) >= 5
    missing = basket["days_since_last_visit"].isna()
    assert missing[before].mean() < 0.02
    assert 0.3 < missing[after].mean() < 0.4
    web = basket["channel"] == "web"
    desktop = basket["device"] == "desktop"
    assert desktop[web & before].mean() > 0.5 > 0.1 > desktop[web & after].mean()


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_planted_features_drift_and_the_others_stay_stable(
    name: str, training: Tables, logs: Tables
) -> None:
    """PSI flags exactly the planted features, and only once the drift has started."""
    base, log = training[name], logs[name]
    weeks = _weeks(log)
    for feature in FEATURES[name]:
        by_week = [_psi(base[feature], log.loc[weeks == w, feature]) for w in range(8)]
        assert max(by_week[:4]) < 0.1, (feature, by_week)
        if feature not in PLANTED_DRIFT[name]:
            assert max(by_week) < 0.1, (feature, by_week)
        else:
            floor = 0.1 if feature == "region" else 0.2
            # Week 5 is the ramp-in week: partly drifted, so only half the floor is required.
            assert by_week[4] >= floor / 2, (feature, by_week)
            assert min(by_week[5:]) >= floor, (feature, by_week)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_stable_numeric_features_keep_their_location_and_spread(
    name: str, training: Tables, logs: Tables
) -> None:
    """Normalised Wasserstein of stable numeric features stays small in every week.

    At the small scale a week is 2,100 rows against 6,000 training rows, so sampling noise
    alone reaches ~0.05; the bound leaves room for that. The default scale measures < 0.08.
    """
    base, log = training[name], logs[name]
    weeks = _weeks(log)
    stable = [f for f in FEATURES[name] if f not in PLANTED_DRIFT[name]]
    for feature in (f for f in stable if base[f].dtype.kind in "fi"):
        distances = [_normalised_wasserstein(base[feature], log.loc[weeks == w, feature])
                     for w in range(8)]  # fmt: skip
        assert max(distances) < 0.12, (feature, distances)


def test_price_elasticity_log_has_no_drift(training: Tables, logs: Tables) -> None:
    """The control model: nothing is planted and the drift weeks look like the quiet weeks."""
    assert frozenset() == PLANTED_DRIFT["price_elasticity"]
    base, log = training["price_elasticity"], logs["price_elasticity"]
    weeks = _weeks(log)
    late = log[weeks >= 5]
    for feature in FEATURES["price_elasticity"]:
        assert _psi(base[feature], late[feature]) < 0.05, feature


def test_planted_drift_names_real_features() -> None:
    """Ground truth covers every model and names only that model's features."""
    assert set(MODEL_NAMES) == set(PLANTED_DRIFT)
    for name, planted in PLANTED_DRIFT.items():
        assert planted <= set(FEATURES[name])


def test_calendar_is_fixed_and_the_inference_window_has_no_holiday(ref: Tables) -> None:
    """The calendar does not depend on the seed or on today's date."""
    calendar = ref["calendar"]
    pd.testing.assert_frame_equal(calendar, retail.generate_reference(SEED + 5, SCALE)["calendar"])
    assert (calendar["day_of_week"] == calendar["date"].dt.day_of_week).all()
    window = calendar["date"] >= pd.Timestamp(INFERENCE_START)
    assert not calendar.loc[window, "is_holiday"].any()
    assert {"autumn"} == set(calendar.loc[window, "season"])
    assert 5 == calendar["is_holiday"].sum()


@pytest.mark.parametrize(
    "sizes",
    [
        {"n_stores": 0},
        {"n_stores": 4},
        {"n_skus": 7},
        {"inference_rows_per_day": SCALE.n_stores * SCALE.n_skus + 1},
    ],
)
def test_scale_rejects_impossible_sizes(sizes: dict[str, int]) -> None:
    """A scale that cannot cover every region and category, or over-asks per day, is refused."""
    with pytest.raises(ValueError, match=r"must be positive|at least one|exceeds"):
        replace(SCALE, **sizes)


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    n_stores=st.integers(min_value=5, max_value=9),
    n_skus=st.integers(min_value=8, max_value=15),
)
def test_any_seed_and_size_give_consistent_tables(seed: int, n_stores: int, n_skus: int) -> None:
    """For any seed and tiny size: exact row counts, unique keys, every region and category."""
    scale = retail.DemoScale("tiny", n_stores, n_skus, train_rows=150, inference_rows_per_day=5)
    ref = retail.generate_reference(seed, scale)
    assert set(REGIONS) == set(ref["stores"]["region"])
    assert set(CATEGORIES) == set(ref["products"]["category"])
    for name, key in KEYS.items():
        assert not ref[name].duplicated(key).any(), name
    training = retail.build_training_sets(ref)
    assert all(len(frame) == 150 and frame["row_id"].is_unique for frame in training.values())
    assert not training["demand_forecast"].isna().any().any()
    logs = retail.generate_inference_logs(ref, seed, scale)
    assert all(len(log) == 5 * INFERENCE_DAYS for log in logs.values())
