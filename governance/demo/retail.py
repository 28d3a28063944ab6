"""A deterministic synthetic retail world: reference tables, training sets and inference logs.

Everything is a pure function of ``(seed, scale)``: no I/O, no wall clock. Column types are the
same everywhere: dates are ``datetime64[us]`` at midnight, text is pandas' ``str`` dtype, flags
are numpy ``bool``, counts ``int64`` and measures ``float64``. Inference ``label`` is ``float64``
so that it can be missing (NaN) during the label delay.

Example:
    >>> from governance.demo.retail import SCALES, generate_reference, build_training_sets
    >>> ref = generate_reference(7, SCALES["small"])
    >>> sorted(build_training_sets(ref))
    ['basket_propensity', 'demand_forecast', 'price_elasticity']
"""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd

from governance.demo.simulate import World, simulate_sales, simulate_sessions
from governance.demo.world import (
    DRIFT_START,
    INFERENCE_DAYS,
    INFERENCE_START,
    TRAIN_END,
    TRAIN_START,
    DemoScale,
    as_date_column,
    child_rng,
    day_range,
    make_calendar,
    make_products,
    make_stores,
    make_weather,
)

__all__ = [
    "DRIFT_RAMP_DAYS",
    "DRIFT_START",
    "FEATURES",
    "INFERENCE_DAYS",
    "INFERENCE_START",
    "LABEL_DELAY_DAYS",
    "MODEL_NAMES",
    "PLANTED_DRIFT",
    "SCALES",
    "TARGETS",
    "TRAIN_END",
    "TRAIN_START",
    "DemoScale",
    "build_training_sets",
    "drift_weight",
    "generate_inference_logs",
    "generate_reference",
]

SCALES: dict[str, DemoScale] = {
    "small": DemoScale(
        "small", n_stores=12, n_skus=40, train_rows=6_000, inference_rows_per_day=300
    ),
    "default": DemoScale(
        "default", n_stores=48, n_skus=240, train_rows=60_000, inference_rows_per_day=1_500
    ),
}

MODEL_NAMES = ("demand_forecast", "price_elasticity", "basket_propensity")
FEATURES: dict[str, tuple[str, ...]] = {
    "demand_forecast": (
        "price", "discount_pct", "promo_flag", "is_holiday", "day_of_week", "temp_c",
        "precip_mm", "stock_level", "region", "category", "store_format", "size_sqm",
    ),
    "price_elasticity": (
        "base_price", "price", "discount_pct", "category", "brand_tier", "promo_flag",
        "competitor_price_index", "product_season",
    ),
    "basket_propensity": (
        "visits_last_30d", "avg_basket_value", "days_since_last_visit", "loyalty_tier",
        "channel", "region", "promo_exposed", "device",
    ),
}  # fmt: skip
TARGETS: dict[str, str] = {
    "demand_forecast": "units_sold",
    "price_elasticity": "units_sold_log",
    "basket_propensity": "purchased",
}
PLANTED_DRIFT: dict[str, frozenset[str]] = {
    "demand_forecast": frozenset({"price", "discount_pct", "promo_flag", "region"}),
    "basket_propensity": frozenset({"days_since_last_visit", "device"}),
    "price_elasticity": frozenset(),
}
LABEL_DELAY_DAYS = 7
# Days from DRIFT_START until the drift reaches full strength.
DRIFT_RAMP_DAYS = 4

_DTYPES: dict[str, str] = {
    "row_id": "str", "request_id": "str", "event_date": "datetime64[us]", "label": "float64",
    "price": "float64", "discount_pct": "float64", "promo_flag": "bool", "is_holiday": "bool",
    "day_of_week": "int64", "temp_c": "float64", "precip_mm": "float64", "stock_level": "int64",
    "region": "str", "category": "str", "store_format": "str", "size_sqm": "float64",
    "base_price": "float64", "brand_tier": "str", "competitor_price_index": "float64",
    "product_season": "str", "visits_last_30d": "int64", "avg_basket_value": "float64",
    "days_since_last_visit": "float64", "loyalty_tier": "str", "channel": "str",
    "promo_exposed": "bool", "device": "str", "units_sold": "int64", "units_sold_log": "float64",
    "purchased": "int64",
}  # fmt: skip
_SALES_COLUMNS = (
    "date", "store_id", "sku", "price", "discount_pct", "promo_flag", "stock_level",
    "competitor_price_index", "temp_c", "precip_mm", "units_sold",
)  # fmt: skip
_REQUEST_PREFIX = {"demand_forecast": "DF", "price_elasticity": "PE", "basket_propensity": "BP"}


def _typed(frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Project ``frame`` onto ``columns`` with the shared column types."""
    return pd.DataFrame({c: frame[c].to_numpy() for c in columns}).astype(
        {c: _DTYPES[c] for c in columns}
    )


def generate_reference(seed: int, scale: DemoScale) -> dict[str, pd.DataFrame]:
    """Generate the raw reference tables of the retail world.

    Args:
        seed: Non-negative world seed.
        scale: How big the world is, usually one of :data:`SCALES`.

    Returns:
        ``stores``, ``products``, ``calendar``, ``weather``, ``sales`` (one row per sampled
        (date, store, sku) over the training period) and ``customer_sessions``.
    """
    ref = {
        "stores": make_stores(seed, scale.n_stores),
        "products": make_products(seed, scale.n_skus),
        "calendar": make_calendar(),
        "weather": make_weather(seed),
    }
    world = World.from_ref(ref)
    train_days = day_range(TRAIN_START, TRAIN_END)
    pairs = scale.n_stores * scale.n_skus

    rng = child_rng(seed, "reference", "sales")
    keys = np.sort(rng.choice(train_days.size * pairs, size=scale.train_rows, replace=False))
    zeros = np.zeros(keys.size)
    sales = simulate_sales(
        rng, world, train_days[keys // pairs], (keys % pairs) // scale.n_skus,
        keys % scale.n_skus, zeros, zeros,
    )  # fmt: skip
    ref["sales"] = sales.loc[:, list(_SALES_COLUMNS)].astype(
        {"store_id": "str", "sku": "str", "promo_flag": "bool"}
    )

    rng = child_rng(seed, "reference", "customer_sessions")
    days = np.sort(rng.choice(train_days, size=scale.train_rows))
    sessions = simulate_sessions(rng, days, zeros, zeros)
    session_id = pd.Series([f"SES{i + 1:07d}" for i in range(len(sessions))], dtype="str")
    sessions.insert(0, "session_id", session_id)
    text = ("region", "channel", "loyalty_tier", "device")
    ref["customer_sessions"] = sessions.astype(dict.fromkeys(text, "str"))
    return ref


def build_training_sets(ref: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Join the reference tables into one feature-and-target table per model.

    Args:
        ref: Output of :func:`generate_reference`.

    Returns:
        Per model name, a table with ``row_id`` (unique), ``event_date``, the model's
        :data:`FEATURES` and its :data:`TARGETS` column, ordered by ``event_date``.
    """
    sales = (
        ref["sales"]
        .merge(ref["stores"], on="store_id", how="left", validate="many_to_one")
        .merge(ref["products"], on="sku", how="left", validate="many_to_one")
        .merge(ref["calendar"], on="date", how="left", validate="many_to_one")
    )
    stamp = sales["date"].dt.strftime("%Y%m%d")
    sales["row_id"] = stamp + "-" + sales["store_id"] + "-" + sales["sku"]
    sales["event_date"] = sales["date"]
    sales["units_sold_log"] = np.log1p(sales["units_sold"].to_numpy(dtype="float64"))
    sessions = ref["customer_sessions"].rename(
        columns={"session_id": "row_id", "date": "event_date"}
    )
    sources = {"demand_forecast": sales, "price_elasticity": sales, "basket_propensity": sessions}
    return {
        name: _typed(sources[name], ["row_id", "event_date", *FEATURES[name], TARGETS[name]])
        for name in MODEL_NAMES
    }


def drift_weight(days: np.ndarray) -> np.ndarray:
    """Strength of the planted drift per day: 0 before DRIFT_START, ramping linearly to 1."""
    offset = (days - np.datetime64(DRIFT_START, "D")).astype("int64")
    return np.clip((offset + 1) / DRIFT_RAMP_DAYS, 0.0, 1.0)


def generate_inference_logs(
    ref: dict[str, pd.DataFrame], seed: int, scale: DemoScale
) -> dict[str, pd.DataFrame]:
    """Generate eight weeks of daily inference requests per model, with drift from week five.

    Args:
        ref: Output of :func:`generate_reference` (products, stores, weather are reused).
        seed: Non-negative seed for the logs; independent of the reference seed's streams.
        scale: Gives ``inference_rows_per_day``.

    Returns:
        Per model name, a table with ``request_id`` (unique), ``event_date``, the model's
        features and ``label`` (the realised target, NaN for the last LABEL_DELAY_DAYS days).
        There is no prediction column: score the rows with the trained model.
    """
    world = World.from_ref(ref)
    days = np.repeat(day_range(INFERENCE_START, INFERENCE_START + timedelta(INFERENCE_DAYS - 1)),
                     scale.inference_rows_per_day)  # fmt: skip
    weight = drift_weight(days)
    labelled = days < np.datetime64(INFERENCE_START + timedelta(INFERENCE_DAYS - LABEL_DELAY_DAYS))
    logs = {}
    for name in MODEL_NAMES:
        rng = child_rng(seed, "inference", name)
        knob = np.zeros(days.size) if name == "price_elasticity" else weight
        if name == "basket_propensity":
            frame = simulate_sessions(rng, days, knob, knob)
            frame["label"] = frame["purchased"].astype("float64")
        else:
            n_skus, pairs = len(world.products), len(world.stores) * len(world.products)
            keys = np.concatenate(
                [np.sort(rng.choice(pairs, size=scale.inference_rows_per_day, replace=False))
                 for _ in range(INFERENCE_DAYS)]
            )  # fmt: skip
            frame = simulate_sales(rng, world, days, keys // n_skus, keys % n_skus, knob, knob)
            units = frame["units_sold"].to_numpy(dtype="float64")
            frame["label"] = units if name == "demand_forecast" else np.log1p(units)
        frame["label"] = frame["label"].where(labelled)
        frame["event_date"] = as_date_column(days)
        frame["request_id"] = _request_ids(_REQUEST_PREFIX[name], days, scale)
        logs[name] = _typed(frame, ["request_id", "event_date", *FEATURES[name], "label"])
    return logs


def _request_ids(prefix: str, days: np.ndarray, scale: DemoScale) -> list[str]:
    stamps = pd.DatetimeIndex(days.astype("datetime64[us]")).strftime("%Y%m%d")
    within = np.tile(np.arange(1, scale.inference_rows_per_day + 1), INFERENCE_DAYS)
    return [f"{prefix}-{s}-{i:05d}" for s, i in zip(stamps, within, strict=True)]
