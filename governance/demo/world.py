"""Scales, fixed dates, vocabularies and the dimension tables of the synthetic retail world.

Everything here is a pure function of a seed. Each table draws from its own generator, derived
from the seed and the table's name, so adding or reordering tables never changes the others.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class DemoScale:
    """How big the demo world is.

    Attributes:
        name: ``"small"`` for tests, ``"default"`` for ``make run``.
        n_stores: Number of stores.
        n_skus: Number of products.
        train_rows: Rows in each model's training set.
        inference_rows_per_day: Inference requests logged per model per day.
    """

    name: str
    n_stores: int
    n_skus: int
    train_rows: int
    inference_rows_per_day: int

    def __post_init__(self) -> None:
        if min(self.n_stores, self.n_skus, self.train_rows, self.inference_rows_per_day) < 1:
            raise ValueError(f"every size in {self!r} must be positive")
        if self.n_stores < len(REGIONS) or self.n_skus < len(CATEGORIES):
            raise ValueError("need at least one store per region and one SKU per category")
        # Inference rows are distinct (store, sku) pairs within a day.
        if self.inference_rows_per_day > self.n_stores * self.n_skus:
            raise ValueError("inference_rows_per_day exceeds the number of (store, sku) pairs")


TRAIN_START = date(2025, 9, 1)
TRAIN_END = date(2026, 8, 31)
INFERENCE_START = date(2026, 9, 7)
INFERENCE_DAYS = 56
DRIFT_START = INFERENCE_START + timedelta(weeks=4)
CALENDAR_END = INFERENCE_START + timedelta(days=INFERENCE_DAYS - 1)

REGIONS = ("North", "South", "East", "West", "Central")
STORE_FORMATS = ("hyper", "super", "express")
CATEGORIES = (
    "grocery", "dairy", "bakery", "beverages",
    "household", "personal_care", "electronics", "apparel",
)  # fmt: skip
BRAND_TIERS = ("value", "standard", "premium")
PRODUCT_SEASONS = ("all_year", "summer", "winter", "holiday")
CHANNELS = ("store", "web", "app")
LOYALTY_TIERS = ("none", "silver", "gold")
DEVICES = ("desktop", "mobile", "none")

# Five days a year, none between September and November: a holiday inside a weekly drift window
# would make `is_holiday` look drifted every time one falls in it, which is seasonality, not drift.
HOLIDAYS = (
    date(2025, 12, 25),  # Christmas Day
    date(2025, 12, 26),  # Boxing Day
    date(2026, 1, 1),  # New Year's Day
    date(2026, 4, 3),  # Good Friday
    date(2026, 4, 6),  # Easter Monday
)
# (month, day) windows, inclusive: back-to-school, then Black Friday through the holidays.
PROMO_SEASONS = (((8, 10), (9, 6)), ((11, 20), (12, 31)))

_STORE_FORMAT_WEIGHTS = (0.2, 0.5, 0.3)
_STORE_SIZE_MEDIAN = {"hyper": 9000.0, "super": 2500.0, "express": 450.0}
_CATEGORY_WEIGHTS = (0.24, 0.12, 0.08, 0.14, 0.12, 0.12, 0.08, 0.10)
# (median price, log-sd) per category. A grocery-led assortment (small-ticket electronics and
# apparel basics) keeps prices within a narrow band, so a 20-25% price cut shows up as drift
# in quantile-binned PSI instead of vanishing inside a 100x spread of list prices.
_CATEGORY_PRICE = {
    "grocery": (3.2, 0.22), "dairy": (2.6, 0.22), "bakery": (2.9, 0.22),
    "beverages": (2.4, 0.22), "household": (4.5, 0.22), "personal_care": (4.8, 0.22),
    "electronics": (6.5, 0.25), "apparel": (6.0, 0.25),
}  # fmt: skip
_TIER_WEIGHTS = (0.3, 0.5, 0.2)
TIER_PRICE_FACTOR = {"value": 0.85, "standard": 1.0, "premium": 1.2}
# Log-scale demand level per category before the price effect.
_CATEGORY_DEMAND = {
    "grocery": 1.9, "dairy": 2.0, "bakery": 1.8, "beverages": 1.9,
    "household": 1.3, "personal_care": 1.2, "electronics": 1.0, "apparel": 0.9,
}  # fmt: skip
_SEASON_WEIGHTS = {
    "grocery": (0.85, 0.05, 0.05, 0.05), "dairy": (0.95, 0.05, 0.0, 0.0),
    "bakery": (0.8, 0.0, 0.05, 0.15), "beverages": (0.6, 0.3, 0.05, 0.05),
    "household": (0.9, 0.05, 0.05, 0.0), "personal_care": (0.85, 0.1, 0.05, 0.0),
    "electronics": (0.6, 0.1, 0.1, 0.2), "apparel": (0.3, 0.3, 0.3, 0.1),
}  # fmt: skip

# Regional climates differ a lot and the annual cycle is muted (peak early July, so the
# September-October inference weeks straddle the yearly mean): weekly windows of `temp_c` then
# match the year-long training mix instead of tripping drift checks on seasonality.
REGION_TEMP_C = {"North": 5.0, "South": 20.0, "East": 12.0, "West": 14.0, "Central": 10.5}
TEMP_AMPLITUDE_C = 0.6
_TEMP_PEAK_DAY = 186
_TEMP_DAILY_SD = 0.6
REGION_WET_PROB = {"North": 0.45, "South": 0.25, "East": 0.32, "West": 0.5, "Central": 0.38}
WET_DAY_MEAN_MM = 4.8


def child_rng(seed: int, *key: str) -> np.random.Generator:
    """Return a generator for one named stream, independent of every other stream.

    Args:
        seed: The world seed (non-negative).
        *key: Names identifying the stream, e.g. ``("reference", "stores")``.

    Returns:
        A generator that depends only on ``seed`` and ``key``.
    """
    spawn_key = tuple(zlib.crc32(part.encode()) for part in key)
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=spawn_key))


def day_range(start: date, end: date) -> np.ndarray:
    """Inclusive range of days as ``datetime64[D]``."""
    return np.arange(np.datetime64(start, "D"), np.datetime64(end, "D") + 1)


def as_date_column(days: np.ndarray) -> pd.Series:
    """Convert ``datetime64[D]`` values to the date column type, ``datetime64[us]``."""
    return pd.Series(np.asarray(days, dtype="datetime64[D]").astype("datetime64[us]"))


def _covering_choice(
    rng: np.random.Generator, values: tuple[str, ...], weights: tuple[float, ...], n: int
) -> np.ndarray:
    """Draw ``n`` values with the given weights, each value at least once (small worlds too)."""
    p = np.asarray(weights) / np.sum(weights)
    drawn = np.concatenate([np.asarray(values), rng.choice(values, size=n - len(values), p=p)])
    return rng.permutation(drawn)


def make_stores(seed: int, n_stores: int) -> pd.DataFrame:
    """Stores with region, format, floor area and opening date."""
    rng = child_rng(seed, "reference", "stores")
    region = rng.permutation(np.resize(np.asarray(REGIONS), n_stores))
    store_format = _covering_choice(rng, STORE_FORMATS, _STORE_FORMAT_WEIGHTS, n_stores)
    median = np.array([_STORE_SIZE_MEDIAN[f] for f in store_format])
    size = np.round(median * rng.lognormal(0.0, 0.22, n_stores), -1)
    opened = np.datetime64("1998-01-01") + rng.integers(0, 27 * 365, n_stores)
    return pd.DataFrame(
        {
            "store_id": pd.Series([f"S{i + 1:03d}" for i in range(n_stores)], dtype="str"),
            "region": pd.Series(region, dtype="str"),
            "store_format": pd.Series(store_format, dtype="str"),
            "size_sqm": size.astype("float64"),
            "opened_on": as_date_column(opened),
        }
    )


def make_products(seed: int, n_skus: int) -> pd.DataFrame:
    """Products with category, list price, brand tier, selling season and a demand index.

    ``demand_index`` is the product's relative sales velocity (units per day in a reference
    store at list price), as a merchandising system would hold it.
    """
    rng = child_rng(seed, "reference", "products")
    category = _covering_choice(rng, CATEGORIES, _CATEGORY_WEIGHTS, n_skus)
    tier = rng.choice(BRAND_TIERS, size=n_skus, p=_TIER_WEIGHTS)
    median = np.array([_CATEGORY_PRICE[c][0] for c in category])
    log_sd = np.array([_CATEGORY_PRICE[c][1] for c in category])
    tier_factor = np.array([TIER_PRICE_FACTOR[t] for t in tier])
    price = np.round(median * tier_factor * np.exp(log_sd * rng.standard_normal(n_skus)), 2)
    price = np.maximum(price, 0.29)
    season = np.array([rng.choice(PRODUCT_SEASONS, p=_SEASON_WEIGHTS[c]) for c in category])
    level = np.array([_CATEGORY_DEMAND[c] for c in category])
    # Cheaper items sell more units: the usual price-velocity relation in grocery retail.
    demand = np.exp(level - 0.55 * np.log(price) + rng.normal(0.0, 0.45, n_skus))
    return pd.DataFrame(
        {
            "sku": pd.Series([f"SKU{i + 1:04d}" for i in range(n_skus)], dtype="str"),
            "category": pd.Series(category, dtype="str"),
            "base_price": price.astype("float64"),
            "brand_tier": pd.Series(tier, dtype="str"),
            "product_season": pd.Series(season, dtype="str"),
            "demand_index": np.round(demand, 3).astype("float64"),
        }
    )


def _season(month: np.ndarray) -> np.ndarray:
    names = np.array(["winter", "spring", "summer", "autumn"])
    return np.asarray(names[(month % 12) // 3])


def _in_windows(month: np.ndarray, day: np.ndarray) -> np.ndarray:
    md = month * 100 + day
    hit = np.zeros(md.shape, dtype=bool)
    for (m0, d0), (m1, d1) in PROMO_SEASONS:
        hit |= (md >= m0 * 100 + d0) & (md <= m1 * 100 + d1)
    return hit


def make_calendar() -> pd.DataFrame:
    """One row per day from TRAIN_START to the last inference day; no randomness."""
    days = day_range(TRAIN_START, CALENDAR_END)
    stamps = pd.DatetimeIndex(days.astype("datetime64[us]"))
    month, dom = stamps.month.to_numpy(), stamps.day.to_numpy()
    return pd.DataFrame(
        {
            "date": as_date_column(days),
            "day_of_week": stamps.day_of_week.to_numpy().astype("int64"),
            "is_holiday": np.isin(days, np.array(HOLIDAYS, dtype="datetime64[D]")),
            "season": pd.Series(_season(month), dtype="str"),
            "promo_season": _in_windows(month, dom),
        }
    )


def make_weather(seed: int) -> pd.DataFrame:
    """Regional daily weather: mean temperature and area-average rainfall."""
    rng = child_rng(seed, "reference", "weather")
    days = day_range(TRAIN_START, CALENDAR_END)
    doy = (days - np.datetime64("2025-01-01")).astype("int64")
    cycle = np.cos(2 * np.pi * (doy - _TEMP_PEAK_DAY) / 365.25)
    frames = []
    for region in REGIONS:
        temp = REGION_TEMP_C[region] + TEMP_AMPLITUDE_C * cycle
        temp = temp + rng.normal(0.0, _TEMP_DAILY_SD, days.size)
        wet = REGION_WET_PROB[region] - 0.03 * cycle + rng.normal(0.0, 0.06, days.size)
        frames.append(
            pd.DataFrame(
                {
                    "region": pd.Series([region] * days.size, dtype="str"),
                    "date": as_date_column(days),
                    "temp_c": np.round(temp, 1),
                    "precip_mm": np.round(np.clip(wet, 0.02, 0.95) * WET_DAY_MEAN_MM, 2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
