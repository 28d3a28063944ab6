"""Who and what the large demo's synthetic history is about: ~200 retail models and their people.

Pure functions of a numpy generator: no I/O. The names follow how a retail ML estate grows
(demand forecasting per region and category, pricing, personalisation, supply chain, fraud,
store operations), so the audit and lineage pages on the large workspace read like a real one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

REGIONS = ("north", "south", "east", "west", "central", "online")
CATEGORIES = ("dairy", "bakery", "produce", "frozen", "beverages", "household", "apparel",
              "electronics", "beauty", "pet", "toys", "garden")
METRICS = {"regression": ("mae", "mape", "r2", "rmse"),
           "classification": ("accuracy", "auc", "log_loss", "precision_at_k")}
PRIMARY = {"regression": "rmse", "classification": "auc"}

# family: (owner team, task, algorithms, raw sources, numeric, categorical, boolean features)
FAMILIES: dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...], tuple[str, ...],
                          tuple[str, ...], tuple[str, ...]]] = {
    "demand": ("retail-data-science", "regression", ("xgboost", "lightgbm", "prophet"),
               ("sales", "stores", "products", "calendar", "weather"),
               ("price", "discount_pct", "temp_c", "precip_mm", "stock_level", "lag_7d_units",
                "lag_28d_units", "size_sqm"),
               ("region", "category", "store_format"), ("promo_flag", "is_holiday")),
    "pricing": ("pricing-analytics", "regression", ("random_forest", "xgboost", "elastic_net"),
                ("sales", "products", "competitor_prices"),
                ("base_price", "price", "competitor_price_index", "margin_pct", "discount_pct"),
                ("category", "brand_tier", "product_season"), ("promo_flag",)),
    "personalisation": ("personalisation-ml", "classification",
                        ("xgboost", "two_tower", "logistic_regression"),
                        ("customer_sessions", "web_clicks", "orders"),
                        ("visits_last_30d", "avg_basket_value", "days_since_last_visit",
                         "pages_per_session", "email_open_rate"),
                        ("loyalty_tier", "channel", "device", "region"), ("promo_exposed",)),
    "supply": ("supply-chain-ml", "regression", ("lightgbm", "xgboost", "random_forest"),
               ("shipments", "inventory_snapshots", "purchase_orders", "suppliers"),
               ("lead_time_days", "order_qty", "fill_rate", "distance_km", "on_hand_units"),
               ("supplier_tier", "transport_mode", "dc_region"), ("expedited",)),
    "fraud": ("fraud-risk-ml", "classification", ("xgboost", "isolation_forest", "lightgbm"),
              ("payments", "orders", "customer_sessions"),
              ("amount", "txn_velocity_1h", "account_age_days", "basket_items",
               "ip_distance_km"),
              ("payment_method", "card_country", "device"), ("new_device", "address_mismatch")),
    "stores": ("store-ops-analytics", "regression", ("lightgbm", "random_forest"),
               ("footfall", "staff_rota", "stores", "calendar"),
               ("footfall", "staff_hours", "queue_minutes", "temp_c", "size_sqm"),
               ("store_format", "region"), ("is_holiday",)),
    "customer": ("customer-analytics", "classification", ("xgboost", "logistic_regression"),
                 ("customer_sessions", "orders", "returns", "loyalty_accounts"),
                 ("tenure_months", "orders_last_90d", "return_rate", "avg_order_value",
                  "days_since_last_order"),
                 ("loyalty_tier", "channel", "region"), ("has_app",)),
}
_FAMILY_WEIGHTS = {"demand": 0.34, "pricing": 0.14, "personalisation": 0.12, "supply": 0.14,
                   "fraud": 0.08, "stores": 0.08, "customer": 0.10}
_NAMES = {
    "demand": lambda r, c: f"demand_forecast_{r}_{c}",
    "pricing": lambda r, c: (f"markdown_optimizer_{c}" if r == "online"
                             else f"price_elasticity_{r}_{c}"),
    "personalisation": lambda r, c: (f"next_best_offer_{c}" if r == "online"
                                     else f"recommender_{r}_{c}"),
    "supply": lambda r, c: f"replenishment_{r}_{c}" if c < "h" else f"supplier_lead_time_{c}",
    "fraud": lambda r, c: f"payment_fraud_{r}" if c < "f" else f"returns_abuse_{r}",
    "stores": lambda r, c: f"store_staffing_{r}" if c < "f" else f"footfall_forecast_{r}",
    "customer": lambda r, c: f"churn_risk_{r}_{c}" if c < "g" else f"loyalty_upsell_{r}",
}


@dataclass(frozen=True)
class Person:
    """Someone who signs or requests in the history, with the claims their login carried."""

    short: str
    name: str
    groups: tuple[str, ...]

    @property
    def email(self) -> str:
        """Their e-mail address, the identity everything keys on."""
        return f"{self.short}@retail.example"

    @property
    def actor(self) -> str:
        """How the ledger names them."""
        return f"user:{self.email}"


SCIENTISTS = (
    Person("dana", "Dana Scientist", ("data-scientists",)),
    Person("maria.gomez", "Maria Gomez", ("data-scientists",)),
    Person("kenji.tanaka", "Kenji Tanaka", ("data-scientists",)),
    Person("li.wei", "Li Wei", ("data-scientists",)),
    Person("oluwaseun.adeyemi", "Oluwaseun Adeyemi", ("data-scientists",)),
    Person("sophie.martin", "Sophie Martin", ("data-scientists",)),
    # A lead who both builds and approves: separation of duties is what keeps her honest.
    Person("priya.nair", "Priya Nair", ("data-scientists", "model-approvers")),
)
APPROVERS = (
    Person("alice", "Alice Approver", ("model-approvers",)),
    Person("bob", "Bob Approver", ("model-approvers",)),
    Person("carmen.ortiz", "Carmen Ortiz", ("model-approvers",)),
    Person("henrik.larsen", "Henrik Larsen", ("model-approvers",)),
    SCIENTISTS[-1],
)


@dataclass(frozen=True)
class SyntheticModel:
    """One synthetic governed model."""

    name: str
    family: str
    owner: str
    task: str
    algorithm: str
    features: tuple[str, ...]
    categorical: tuple[str, ...]
    booleans: tuple[str, ...]
    sources: tuple[str, ...]
    author: Person
    four_eyes: bool
    has_lineage: bool

    @property
    def target(self) -> str:
        """The label column."""
        return "label" if self.task == "classification" else "target_value"

    @property
    def primary_metric(self) -> str:
        """The metric the harness ranks on."""
        return PRIMARY[self.task]

    def kind(self, feature: str) -> str:
        """``numeric``, ``categorical`` or ``boolean``."""
        if feature in self.booleans:
            return "boolean"
        return "categorical" if feature in self.categorical else "numeric"


def catalog(rng: np.random.Generator, n_models: int, without_lineage: int,
            taken: frozenset[str] = frozenset()) -> list[SyntheticModel]:
    """``n_models`` distinct models; ``without_lineage`` of them never recorded lineage."""
    families = list(_FAMILY_WEIGHTS)
    weights = np.array([_FAMILY_WEIGHTS[f] for f in families])
    names: set[str] = set(taken)
    out: list[SyntheticModel] = []
    no_lineage = set(rng.choice(n_models, size=min(without_lineage, n_models), replace=False)
                     .tolist())
    while len(out) < n_models:
        family = families[int(rng.choice(len(families), p=weights / weights.sum()))]
        region = REGIONS[int(rng.integers(len(REGIONS)))]
        category = CATEGORIES[int(rng.integers(len(CATEGORIES)))]
        name = _NAMES[family](region, category)
        if name in names:
            continue
        names.add(name)
        owner, task, algorithms, sources, numeric, categorical, booleans = FAMILIES[family]
        n_num = int(rng.integers(2, len(numeric) + 1))
        picked_num = tuple(numeric[i] for i in sorted(rng.choice(len(numeric), n_num,
                                                                 replace=False)))
        picked_cat = categorical[:int(rng.integers(1, len(categorical) + 1))]
        picked_bool = booleans[:int(rng.integers(0, len(booleans) + 1))]
        index = len(out)
        out.append(SyntheticModel(
            name=name, family=family, owner=owner, task=task,
            algorithm=algorithms[int(rng.integers(len(algorithms)))],
            features=picked_num + picked_cat + picked_bool, categorical=picked_cat,
            booleans=picked_bool,
            sources=tuple(sources[:int(rng.integers(1, len(sources) + 1))]),
            author=SCIENTISTS[int(rng.integers(len(SCIENTISTS)))],
            four_eyes=bool(rng.random() < 0.1), has_lineage=index not in no_lineage))
    return out
