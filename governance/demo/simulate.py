"""The generating processes for sales rows and customer sessions.

Training data and inference logs both come from these two functions, so any feature that no
drift knob touches has the same distribution before and after the model was trained. The knobs
are per-row weights in [0, 1]: 0 is the training-time process, 1 the fully drifted one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from governance.demo.world import (
    CHANNELS,
    REGIONS,
    TRAIN_START,
    WET_DAY_MEAN_MM,
    as_date_column,
)

ONLINE_HUB = "Online-Hub"

_PROMO_RATE = {
    "grocery": 0.18, "dairy": 0.15, "bakery": 0.12, "beverages": 0.2,
    "household": 0.15, "personal_care": 0.16, "electronics": 0.1, "apparel": 0.14,
}  # fmt: skip
_PROMO_DISCOUNTS = (np.array([0.1, 0.15, 0.2, 0.25, 0.3, 0.4]), (0.2, 0.25, 0.25, 0.15, 0.1, 0.05))
_FORMAT_PRICE = {"hyper": 0.96, "super": 1.0, "express": 1.08}
_REGION_PRICE = {"North": 1.02, "South": 0.97, "East": 1.0, "West": 1.01, "Central": 1.03}
_FORMAT_DEMAND = {"hyper": 1.0, "super": 1.0, "express": 1.3}
_ELASTICITY = {
    "grocery": -1.1, "dairy": -0.8, "bakery": -0.9, "beverages": -1.5,
    "household": -1.3, "personal_care": -1.4, "electronics": -2.0, "apparel": -1.7,
}  # fmt: skip
_TIER_ELASTICITY = {"value": 1.2, "standard": 1.0, "premium": 0.75}
_TEMP_SENSITIVITY = {"beverages": 0.05, "dairy": 0.01}
_DOW_EFFECT = np.array([-0.08, -0.1, -0.05, 0.0, 0.1, 0.22, 0.12])
_NB_SHAPE = 4.0

# The drifted price campaign: an everyday-low-price cut on top of far more frequent promotions.
CAMPAIGN_LIST_CUT = 0.82
CAMPAIGN_PROMO_RATE = 0.5
HUB_SHARE = 0.18


def _lookup(mapping: dict[str, float], keys: np.ndarray, default: float = 0.0) -> np.ndarray:
    return np.array([mapping.get(k, default) for k in keys], dtype="float64")


@dataclass(frozen=True)
class World:
    """The reference tables as arrays, indexed by store, product and day position."""

    stores: pd.DataFrame
    products: pd.DataFrame
    calendar: pd.DataFrame
    temp_c: np.ndarray  # [region position in REGIONS, day]
    wet_prob: np.ndarray  # [region position in REGIONS, day]

    @classmethod
    def from_ref(cls, ref: dict[str, pd.DataFrame]) -> World:
        """Index the reference tables returned by ``generate_reference``."""
        weather = ref["weather"]
        temp = weather.pivot(index="region", columns="date", values="temp_c").loc[list(REGIONS)]
        rain = weather.pivot(index="region", columns="date", values="precip_mm")
        rain = rain.loc[list(REGIONS)]
        return cls(
            stores=ref["stores"].reset_index(drop=True),
            products=ref["products"].reset_index(drop=True),
            calendar=ref["calendar"].reset_index(drop=True),
            temp_c=temp.to_numpy(dtype="float64"),
            wet_prob=rain.to_numpy(dtype="float64") / WET_DAY_MEAN_MM,
        )

    def day_index(self, days: np.ndarray) -> np.ndarray:
        """Positions of ``datetime64[D]`` days in the calendar (which starts at TRAIN_START)."""
        return (days - np.datetime64(TRAIN_START, "D")).astype("int64")


def simulate_sales(
    rng: np.random.Generator,
    world: World,
    days: np.ndarray,
    store_pos: np.ndarray,
    sku_pos: np.ndarray,
    campaign_weight: np.ndarray,
    hub_weight: np.ndarray,
) -> pd.DataFrame:
    """Simulate one day of trading for each (day, store, sku) row.

    Args:
        rng: Generator for this batch of rows.
        world: Reference tables.
        days: ``datetime64[D]`` per row.
        store_pos: Row position of each row's store in ``world.stores``.
        sku_pos: Row position of each row's product in ``world.products``.
        campaign_weight: Probability that the row belongs to the drifted price campaign.
        hub_weight: Probability (times HUB_SHARE) that the row is booked to the Online-Hub region.

    Returns:
        One row per input row with the store, product and calendar attributes joined, the
        observed price, promotion, stock and local weather, and ``units_sold``.
    """
    n = days.size
    st = world.stores.iloc[store_pos]
    pr = world.products.iloc[sku_pos]
    cal = world.calendar.iloc[world.day_index(days)]
    region = st["region"].to_numpy(dtype=object)
    fmt = st["store_format"].to_numpy(dtype=object)
    category = pr["category"].to_numpy(dtype=object)
    tier = pr["brand_tier"].to_numpy(dtype=object)
    base_price = pr["base_price"].to_numpy(dtype="float64")
    day = world.day_index(days)
    region_pos = np.array([REGIONS.index(r) for r in region], dtype="int64")

    campaign = rng.random(n) < campaign_weight
    hub = rng.random(n) < HUB_SHARE * hub_weight
    promo_rate = _lookup(_PROMO_RATE, category) + 0.1 * cal["promo_season"].to_numpy()
    promo = rng.random(n) < np.where(campaign, CAMPAIGN_PROMO_RATE, promo_rate)
    promo_discount = rng.choice(_PROMO_DISCOUNTS[0], size=n, p=_PROMO_DISCOUNTS[1])
    markdown = np.where(rng.random(n) < 0.06, rng.choice([0.05, 0.1, 0.15], size=n), 0.0)
    discount = np.where(promo, promo_discount, markdown)

    ref_price = base_price * _lookup(_FORMAT_PRICE, fmt) * _lookup(_REGION_PRICE, region)
    list_price = ref_price * np.exp(rng.normal(0.0, 0.03, n))
    list_price = np.where(campaign, list_price * CAMPAIGN_LIST_CUT, list_price)
    price = np.round(list_price * (1.0 - discount), 2)
    cpi = np.round(np.exp(rng.normal(0.0, 0.06, n)), 3)

    # Store-local readings: regional daily weather plus microclimate and time-of-reading spread.
    temp = np.round(world.temp_c[region_pos, day] + rng.normal(0.0, 3.0, n), 1)
    wet = rng.random(n) < world.wet_prob[region_pos, day]
    rain = np.round(np.where(wet, rng.gamma(0.8, WET_DAY_MEAN_MM / 0.8, n), 0.0), 1)

    size_factor = (st["size_sqm"].to_numpy(dtype="float64") / 2500.0) ** 0.45
    planned = pr["demand_index"].to_numpy(dtype="float64") * size_factor
    planned = planned * _lookup(_FORMAT_DEMAND, fmt)
    stock = rng.poisson(planned * np.exp(rng.normal(np.log(3.2), 0.4, n))).astype("int64")

    elasticity = _lookup(_ELASTICITY, category) * _lookup(_TIER_ELASTICITY, tier)
    log_lift = (
        elasticity * np.log(price / ref_price)
        + 0.25 * promo
        + 0.35 * cal["is_holiday"].to_numpy()
        + _DOW_EFFECT[cal["day_of_week"].to_numpy()]
        + _lookup(_TEMP_SENSITIVITY, category) * (temp - 12.0)
        - 0.02 * rain
        + 1.2 * np.log(cpi)
        + _season_lift(pr["product_season"].to_numpy(dtype=object), cal)
        + 0.1 * campaign
        + 0.2 * hub
    )
    mean = planned * np.exp(log_lift)
    demand = rng.negative_binomial(_NB_SHAPE, _NB_SHAPE / (_NB_SHAPE + mean))
    units = np.minimum(demand, stock).astype("int64")

    return pd.DataFrame(
        {
            "date": as_date_column(days),
            "store_id": st["store_id"].to_numpy(),
            "sku": pr["sku"].to_numpy(),
            "region": np.where(hub, ONLINE_HUB, region),
            "store_format": fmt,
            "size_sqm": st["size_sqm"].to_numpy(),
            "category": category,
            "base_price": base_price,
            "brand_tier": tier,
            "product_season": pr["product_season"].to_numpy(),
            "day_of_week": cal["day_of_week"].to_numpy(),
            "is_holiday": cal["is_holiday"].to_numpy(),
            "price": price,
            "discount_pct": discount,
            "promo_flag": promo,
            "stock_level": stock,
            "competitor_price_index": cpi,
            "temp_c": temp,
            "precip_mm": rain,
            "units_sold": units,
        }
    )


def _season_lift(product_season: np.ndarray, cal: pd.DataFrame) -> np.ndarray:
    season = cal["season"].to_numpy(dtype=object)
    festive = cal["promo_season"].to_numpy() & (cal["date"].dt.month.to_numpy() >= 11)
    lift = np.zeros(product_season.size)
    lift += np.where(product_season == "summer", np.where(season == "summer", 0.35, 0.0), 0.0)
    lift += np.where(product_season == "summer", np.where(season == "winter", -0.2, 0.0), 0.0)
    lift += np.where(product_season == "winter", np.where(season == "winter", 0.35, 0.0), 0.0)
    lift += np.where(product_season == "winter", np.where(season == "summer", -0.2, 0.0), 0.0)
    lift += np.where(product_season == "holiday", np.where(festive, 0.5, -0.05), 0.0)
    return lift


_SESSION_REGION_WEIGHTS = (0.22, 0.18, 0.2, 0.2, 0.2)
_CHANNEL_WEIGHTS = (0.45, 0.32, 0.23)
_LOYALTY = (np.array(["none", "silver", "gold"]), (0.55, 0.3, 0.15))
_VISIT_MEAN = {"none": 1.5, "silver": 3.5, "gold": 6.0}
_BASKET_MEDIAN = {"store": 38.0, "web": 55.0, "app": 45.0}
_PROMO_EXPOSURE = {"store": 0.2, "web": 0.3, "app": 0.45}
_CHANNEL_LOGIT = {"store": 0.7, "web": -0.5, "app": 0.2}
_TIER_LOGIT = {"none": 0.0, "silver": 0.4, "gold": 0.9}
DESKTOP_SHARE_WEB = 0.62
DRIFTED_DESKTOP_SHARE_WEB = 0.05
BASE_NULL_RATE = 0.01
OUTAGE_NULL_RATE = 0.35


def simulate_sessions(
    rng: np.random.Generator, days: np.ndarray, outage_weight: np.ndarray, mobile_weight: np.ndarray
) -> pd.DataFrame:
    """Simulate customer sessions and whether each ended in a purchase.

    Args:
        rng: Generator for this batch of rows.
        days: ``datetime64[D]`` per session.
        outage_weight: Ramp from the normal 1% to the outage's 35% missing
            ``days_since_last_visit``.
        mobile_weight: Ramp of web sessions from mostly desktop to almost all mobile.

    Returns:
        One row per session, features and ``purchased`` (0/1).
    """
    n = days.size
    region = rng.choice(REGIONS, size=n, p=_SESSION_REGION_WEIGHTS)
    channel = rng.choice(CHANNELS, size=n, p=_CHANNEL_WEIGHTS)
    tier = rng.choice(_LOYALTY[0], size=n, p=_LOYALTY[1])
    app_boost = np.where(channel == "app", 1.2, 1.0)
    visits = rng.poisson(_lookup(_VISIT_MEAN, tier) * app_boost * rng.gamma(3.0, 1 / 3.0, n))
    tier_spend = np.where(tier == "gold", 1.3, np.where(tier == "silver", 1.1, 1.0))
    basket = _lookup(_BASKET_MEDIAN, channel) * tier_spend * np.exp(rng.normal(0.0, 0.5, n))
    recency = rng.exponential(30.0 / (visits + 0.7)) + rng.uniform(0.0, 1.0, n)
    promo = rng.random(n) < _lookup(_PROMO_EXPOSURE, channel)
    desktop_share = DESKTOP_SHARE_WEB + (DRIFTED_DESKTOP_SHARE_WEB - DESKTOP_SHARE_WEB) * (
        mobile_weight
    )
    web_device = np.where(rng.random(n) < desktop_share, "desktop", "mobile")
    device = np.where(channel == "store", "none", np.where(channel == "app", "mobile", web_device))

    logit = (
        -1.1
        + _lookup(_TIER_LOGIT, tier)
        + 0.5 * np.log1p(visits)
        - 0.045 * np.minimum(recency, 60.0)
        + 0.6 * promo
        + _lookup(_CHANNEL_LOGIT, channel)
        + 0.45 * (device == "desktop")
        + 0.3 * np.log(basket / 45.0)
    )
    purchased = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype("int64")
    null_rate = BASE_NULL_RATE + (OUTAGE_NULL_RATE - BASE_NULL_RATE) * outage_weight
    recency = np.where(rng.random(n) < null_rate, np.nan, np.round(recency, 1))

    return pd.DataFrame(
        {
            "date": as_date_column(days),
            "region": region,
            "channel": channel,
            "loyalty_tier": tier,
            "visits_last_30d": visits.astype("int64"),
            "avg_basket_value": np.round(basket, 2),
            "days_since_last_visit": recency,
            "promo_exposed": promo,
            "device": device,
            "purchased": purchased,
        }
    )
