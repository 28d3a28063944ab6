"""The drift engine: statistics equal scipy on the same rows, and the verdict rules of issue 3.

Every comparison runs through :func:`governance.drift.engine.compare` on two in-memory DuckDB
tables (the same named queries the CLI and the monitor use); the expected values come from
scipy/numpy on the raw samples (see ``conftest.py``).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
import scipy.stats

from governance.drift import engine
from governance.drift.policy import DatasetRule, Policy, load_policy
from tests.unit.drift.conftest import (
    CATEGORICAL_TESTS,
    NUMERIC_TESTS,
    assert_close_tests,
    compare,
    one,
    ref_categorical,
    ref_numeric,
    ref_vectors,
)

Num = engine.FeatureSpec


def normal_grid(n: int) -> np.ndarray:
    """n evenly spaced standard-normal quantiles (a deterministic 'sample')."""
    return np.asarray(scipy.stats.norm.ppf((np.arange(n) + 0.5) / n))


def policy_from(tmp_path: Path, text: str) -> Policy:
    """Load a policy from TOML text."""
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return load_policy(path)


# --------------------------------------------------------------------------------------------
# Statistics equal scipy on the same data
# --------------------------------------------------------------------------------------------

SAMPLES = {
    "normal_shift": lambda rng: (rng.normal(0, 1, 3000), rng.normal(0.3, 1, 2500)),
    "ties": lambda rng: (np.round(rng.normal(0, 1, 3000), 1),
                         np.round(rng.normal(0.1, 1, 2800), 1)),
    "cauchy": lambda rng: (rng.standard_cauchy(4000), rng.standard_cauchy(3000) + 0.2),
    "lognormal_sigma3": lambda rng: (rng.lognormal(0, 3, 4000), rng.lognormal(0.2, 3, 3500)),
    "integers": lambda rng: (rng.poisson(4, 3000).astype(float), rng.poisson(4.4, 3000) * 1.0),
    "asymptotic_path": lambda rng: (rng.normal(0, 2, 20_000), rng.normal(0.05, 2.2, 15_000)),
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_numeric_tests_equal_scipy(name: str) -> None:
    """KS, Wasserstein / std(ddof=0) and decile PSI equal scipy/numpy on the raw rows."""
    b, c = SAMPLES[name](np.random.default_rng(11))
    feature = one(b, c)
    assert NUMERIC_TESTS == set(feature.tests)
    assert_close_tests(ref_numeric(b, c), feature.tests)
    assert {"baseline": 0, "current": 0} == feature.tests["non_finite"]
    assert (len(b), len(c)) == (feature.n_baseline, feature.n_current)


def test_nan_is_null_and_inf_is_counted_apart() -> None:
    """NaN and NULL count as null; +-inf is counted in non_finite and left out of the tests."""
    rng = np.random.default_rng(5)
    b, c = rng.normal(0, 1, 2000), rng.normal(0.2, 1, 1500)
    b[:30], b[30:35] = np.nan, np.inf
    c[:90], c[90:97], c[97:100] = np.nan, np.inf, -np.inf
    b_col = pa.array([*b.tolist(), None, None])  # NaN stays NaN; None is NULL
    c_col = pa.array([*c.tolist(), None])
    feature = one(b_col, c_col)
    assert {"baseline": 5, "current": 10} == feature.tests["non_finite"]
    assert (2002, 1501) == (feature.n_baseline, feature.n_current)
    assert 32 / 2002 == pytest.approx(feature.null_rate_baseline, rel=1e-12)
    assert 91 / 1501 == pytest.approx(feature.null_rate_current, rel=1e-12)
    assert_close_tests(ref_numeric(b, c), feature.tests)
    assert math.isfinite(feature.score or math.nan)


def test_categorical_tests_equal_scipy() -> None:
    """chi2 (no correction) / PSI / JS / unseen share over baseline categories + other + unseen."""
    rng = np.random.default_rng(3)
    b = rng.choice(list("abcdefg"), 4000, p=[.3, .2, .15, .15, .1, .05, .05]).tolist()
    c = rng.choice(list("abcdexy"), 3000, p=[.25, .25, .15, .15, .1, .06, .04]).tolist()
    b[:40] = [None] * 40
    c[:10] = [None] * 10
    feature = one(b, c, "categorical")
    assert CATEGORICAL_TESTS == set(feature.tests)
    assert_close_tests(ref_categorical(b, c), feature.tests)
    assert 40 / 4000 == feature.null_rate_baseline
    assert 10 / 3000 == feature.null_rate_current


def test_boolean_tests_equal_scipy() -> None:
    """Booleans use the categorical tests."""
    rng = np.random.default_rng(4)
    b = (rng.random(3000) < 0.3).tolist()
    c = (rng.random(2000) < 0.36).tolist()
    feature = one(b, c, "boolean")
    assert "boolean" == feature.type
    assert CATEGORICAL_TESTS == set(feature.tests)
    assert_close_tests(ref_categorical(b, c), feature.tests)


def test_rare_categories_fold_into_other(tmp_path: Path) -> None:
    """With max_categories=5 the rarest baseline categories share one bucket; tests match."""
    rng = np.random.default_rng(8)
    names = [f"c{i:02d}" for i in range(12)]
    weights = np.linspace(12, 1, 12) / np.linspace(12, 1, 12).sum()
    b = rng.choice(names, 5000, p=weights).tolist()
    c = rng.choice([*names[1:], "new1", "new2"], 4000).tolist()
    policy = policy_from(tmp_path, "[dataset]\nmax_categories = 5\n")
    feature = one(b, c, "categorical", policy)
    categories, b_vec, c_vec = ref_vectors(b, c, max_categories=5)
    assert categories == feature.chart["categories"]
    assert (b_vec, c_vec) == (list(feature.chart["baseline"]), list(feature.chart["current"]))
    assert_close_tests(ref_categorical(b, c, max_categories=5), feature.tests)


# --------------------------------------------------------------------------------------------
# Verdicts: effect size AND significance
# --------------------------------------------------------------------------------------------


def test_tiny_p_value_alone_never_makes_drift() -> None:
    """A 0.02-sd shift at 200k rows has p << alpha but no effect size: ok."""
    rng = np.random.default_rng(21)
    b, c = rng.normal(0, 1, 200_000), rng.normal(0.02, 1, 200_000)
    feature = one(b, c)
    assert feature.tests["ks"]["p_value"] < 1e-4
    assert "ok" == feature.status
    assert feature.score is not None
    assert feature.score < 0.5


def test_tiny_chi2_p_value_alone_never_makes_drift() -> None:
    """A 1-point category share move at 400k rows: chi2 p tiny, PSI/JS small: ok."""
    rng = np.random.default_rng(22)
    b = rng.choice(list("abcd"), 400_000, p=[.25, .25, .25, .25]).tolist()
    c = rng.choice(list("abcd"), 400_000, p=[.26, .25, .25, .24]).tolist()
    feature = one(b, c, "categorical")
    assert feature.tests["chi2"]["p_value"] < 1e-10
    assert "ok" == feature.status


def test_drift_sized_but_not_significant_is_warn() -> None:
    """A 0.3-sd shift on 120 rows per side is drift-sized but p >= alpha: warn, reason says so."""
    b = normal_grid(120)
    feature = one(b, b + 0.3)
    assert feature.tests["wasserstein_norm"] >= 0.2
    assert feature.tests["ks"]["p_value"] >= 0.01
    assert "warn" == feature.status
    assert "drift-sized but p=" in feature.reason
    assert "alpha=0.01" in feature.reason


def test_same_shift_with_enough_rows_drifts() -> None:
    """The same 0.3-sd shift on 5000 rows per side is significant too: drift."""
    b = normal_grid(5000)
    feature = one(b, b + 0.3)
    assert "drift" == feature.status
    assert "wasserstein_norm" in feature.reason


def test_score_is_max_effect_over_its_drift_threshold_numeric() -> None:
    """0..999 shifted by 50: W/std = 50/std, PSI = 0.05 ln 3; score = (50/std)/0.2; warn."""
    b = np.arange(1000.0)
    feature = one(b, b + 50)
    std = math.sqrt((1000**2 - 1) / 12)
    assert 50 / std == pytest.approx(feature.tests["wasserstein_norm"], rel=1e-12)
    assert 0.05 * math.log(3) == pytest.approx(feature.tests["psi"], rel=1e-12)
    assert (50 / std) / 0.2 == pytest.approx(feature.score, rel=1e-12)
    assert ("warn", "wasserstein_norm") == (feature.status, feature.reason)


def test_score_is_max_effect_over_its_drift_threshold_categorical() -> None:
    """a:50 b:50 vs a:50 b:30 new:20 — PSI by hand dominates JS and unseen share."""
    b = ["a"] * 50 + ["b"] * 50
    c = ["a"] * 50 + ["b"] * 30 + ["new"] * 20
    feature = one(b, c, "categorical")
    psi = 0.2 * math.log(5 / 3) + (0.2 - 1e-4) * math.log(0.2 / 1e-4)
    m = [0.5, 0.4, 0.1]
    js = math.sqrt((0.5 * math.log(0.5 / m[0]) + 0.5 * math.log(0.5 / m[1])
                    + 0.5 * math.log(0.5 / m[0]) + 0.3 * math.log(0.3 / m[1])
                    + 0.2 * math.log(0.2 / m[2])) / 2 / math.log(2))
    assert psi == pytest.approx(feature.tests["psi"], rel=1e-12)
    assert js == pytest.approx(feature.tests["js"], rel=1e-12)
    assert 0.2 == pytest.approx(feature.tests["unseen_share"], rel=1e-12)
    assert psi / 0.2 == pytest.approx(feature.score, rel=1e-12)
    assert "drift" == feature.status


def test_null_rate_jump_drifts_with_unchanged_distribution() -> None:
    """Same values plus 20% nulls: every distribution test is 0, status drift on null rate."""
    b = np.arange(1000.0)
    c = pa.array([*b.tolist(), *([None] * 250)], pa.float64())
    feature = one(b, c)
    assert (0.0, 0.0, 0.0) == (feature.tests["ks"]["statistic"],
                               feature.tests["wasserstein_norm"], feature.tests["psi"])
    assert ("drift", "null_rate_change") == (feature.status, feature.reason)
    assert 0.2 / 0.1 == pytest.approx(feature.score, rel=1e-12)


def test_null_rate_jump_drifts_categorical() -> None:
    """Null-rate drift applies to categoricals too."""
    b = ["a", "b"] * 500
    c = ["a", "b"] * 400 + [None] * 200
    feature = one(b, c, "categorical")
    assert ("drift", "null_rate_change") == (feature.status, feature.reason)


def test_small_null_rate_change_warns() -> None:
    """A null-rate change between null_warn and null_drift is warn."""
    b = np.arange(1000.0)
    c = pa.array([*b.tolist(), *([None] * 80)], pa.float64())  # 80/1080 = 0.074
    feature = one(b, c)
    assert ("warn", "null_rate_change") == (feature.status, feature.reason)


def test_unseen_share_at_threshold_drifts(tmp_path: Path) -> None:
    """Unseen share >= unseen_drift is drift even when PSI/JS are not allowed to decide."""
    policy = policy_from(tmp_path, "[defaults]\npsi_warn = 50.0\npsi_drift = 100.0\n"
                                   "js_warn = 50.0\njs_drift = 100.0\n")
    b = ["a"] * 400 + ["b"] * 300 + ["c"] * 300
    feature = one(b, b + ["new"] * 53, "categorical", policy)  # 53 / 1053 = 0.0503
    assert ("drift", "unseen_share") == (feature.status, feature.reason)
    below = one(b, b + ["new"] * 47, "categorical", policy)  # 0.0449: warn level only
    assert ("warn", "unseen_share") == (below.status, below.reason)


def test_identical_data_is_ok_with_zero_score() -> None:
    """Identical samples: every test 0 / p 1, status ok."""
    b = np.random.default_rng(2).normal(size=1000)
    feature = one(b, b.copy())
    assert ("ok", 0.0) == (feature.status, feature.score)
    assert 1.0 == feature.tests["ks"]["p_value"]


# --------------------------------------------------------------------------------------------
# Degenerate inputs get a status, never NaN
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "value"), [("numeric", 5.0), ("categorical", "z"),
                                             ("boolean", True)])
def test_constant_column_is_constant_with_score_zero(kind: engine.Kind, value: object) -> None:
    """One value on both sides: status constant, score 0.0 (not NaN), no test values."""
    feature = one([value] * 500, [value] * 400, kind)
    assert ("constant", 0.0) == (feature.status, feature.score)
    assert set(feature.tests) <= {"non_finite"}


def test_huge_magnitudes_do_not_overflow_the_std() -> None:
    """Values around 1e200: W / std equals the scale-free value on the same data / 1e200."""
    rng = np.random.default_rng(14)
    b, c = rng.normal(0, 1, 2000), rng.normal(0.5, 1, 2000)
    small = one(b, c)
    huge = one(b * 1e200, c * 1e200)
    assert small.tests["wasserstein_norm"] == pytest.approx(huge.tests["wasserstein_norm"],
                                                            rel=1e-9)
    assert small.status == huge.status


def test_constant_that_moved_scores_finitely() -> None:
    """A constant baseline (std 0) whose value moved: finite score, drift, no NaN anywhere."""
    feature = one([5.0] * 500, [6.0] * 500)
    assert "drift" == feature.status
    assert feature.score is not None
    assert math.isfinite(feature.score)
    assert 1 / 5 == pytest.approx(feature.tests["wasserstein_norm"], rel=1e-12)


def test_constant_with_null_jump_is_not_constant() -> None:
    """Same constant, but the null rate moved: the null drift is reported."""
    feature = one([5.0] * 500, pa.array([5.0] * 400 + [None] * 100, pa.float64()))
    assert ("drift", "null_rate_change") == (feature.status, feature.reason)


@pytest.mark.parametrize("side", ["baseline", "current"])
def test_all_null_categorical_is_all_null(side: str) -> None:
    """Every value null on one side: all_null, score None, reason names the side."""
    values = ["a", "b"] * 200
    nulls = pa.array([None] * 300, pa.string())
    b, c = (nulls, values) if side == "baseline" else (values, nulls)
    feature = one(b, c, "categorical")
    assert ("all_null", None) == (feature.status, feature.score)
    assert side in feature.reason


@pytest.mark.parametrize("side", ["baseline", "current"])
def test_all_null_numeric_is_all_null(side: str) -> None:
    """A numeric column null on every row of one side: all_null, not a crash."""
    values = np.random.default_rng(0).normal(size=400)
    nulls = pa.array([None] * 300, pa.float64())
    b, c = (nulls, values) if side == "baseline" else (values, nulls)
    feature = one(b, c)
    assert ("all_null", None) == (feature.status, feature.score)


def test_empty_numeric_side_is_insufficient_data() -> None:
    """Zero rows on one side: insufficient_data."""
    feature = one(np.arange(500.0), pa.array([], pa.float64()))
    assert ("insufficient_data", None) == (feature.status, feature.score)


def test_empty_categorical_side_is_insufficient_data() -> None:
    """Zero categorical rows on one side: insufficient_data with null rate None (not NaN)."""
    feature = one(["a"] * 300, pa.array([], pa.string()), "categorical")
    assert ("insufficient_data", None, None) == (feature.status, feature.score,
                                                 feature.null_rate_current)


def test_window_smaller_than_min_rows_is_insufficient_data(tmp_path: Path) -> None:
    """Fewer than min_rows (100) non-null rows on a side: insufficient_data; 100 is enough."""
    b = normal_grid(1000)
    small = one(b, pa.array([*normal_grid(99).tolist(), *([None] * 50)], pa.float64()))
    assert "insufficient_data" == small.status
    assert "fewer than 100 non-null rows" in small.reason
    assert "ok" == one(b, normal_grid(100)).status
    lowered = policy_from(tmp_path, "[defaults]\nmin_rows = 20\n")
    assert "ok" == one(b, normal_grid(30), policy=lowered).status


# --------------------------------------------------------------------------------------------
# Benjamini-Hochberg
# --------------------------------------------------------------------------------------------


def bh_data() -> tuple[dict[str, object], dict[str, object], list[engine.FeatureSpec]]:
    """Five numeric features with moderate (non-zero) p-values, one null-rate drift, one tiny."""
    rng = np.random.default_rng(31)
    base: dict[str, object] = {}
    cur: dict[str, object] = {}
    for i, shift in enumerate([0.0, 0.1, 0.2, 0.3, 0.45]):
        base[f"s{i}"] = rng.normal(0, 1, 300)
        cur[f"s{i}"] = rng.normal(shift, 1, 300)
    base["nulls"] = np.arange(300.0)
    cur["nulls"] = pa.array([*np.arange(200.0).tolist(), *([None] * 100)], pa.float64())
    base["tiny"] = np.arange(300.0)
    cur["tiny"] = pa.array([*np.arange(50.0).tolist(), *([None] * 250)], pa.float64())
    specs = [Num(name, "numeric") for name in base]
    return base, cur, specs


def test_bh_adds_adjusted_p_values_equal_to_scipy(tmp_path: Path) -> None:
    """bh=true: every tested feature gets p_value_bh = false_discovery_control(raw p's)."""
    base, cur, specs = bh_data()
    raw = compare(base, cur, specs)
    adjusted = compare(base, cur, specs, policy_from(tmp_path, "[dataset]\nbh = true\n"))
    tested = [f for f in raw.features if f.status not in ("insufficient_data", "constant")]
    p = np.array([f.tests["ks"]["p_value"] for f in tested])
    assert (p > 0).all()
    want = scipy.stats.false_discovery_control(p, method="bh")
    got = {f.feature: f.tests.get("p_value_bh") for f in adjusted.features}
    assert want.tolist() == pytest.approx([got[f.feature] for f in tested], rel=1e-12)
    assert got["tiny"] is None


def test_bh_never_turns_a_feature_into_drift(tmp_path: Path) -> None:
    """BH only raises p-values: drifts with bh are a subset; null-rate drift stays drift."""
    base, cur, specs = bh_data()
    raw = {f.feature: f.status for f in compare(base, cur, specs).features}
    bh = {f.feature: f.status for f in compare(
        base, cur, specs, policy_from(tmp_path, "[dataset]\nbh = true\n")).features}
    assert {k for k, v in bh.items() if v == "drift"} <= {k for k, v in raw.items() if v == "drift"}
    assert "drift" == bh["nulls"]


def test_bh_keeps_a_strong_drift_whose_p_value_underflows(tmp_path: Path) -> None:
    """A 0.5-sd shift at 50k rows (KS p == 0.0) is drift with and without BH."""
    rng = np.random.default_rng(9)
    base = {"a": rng.normal(0, 1, 50_000), "b": rng.normal(0, 1, 50_000)}
    cur = {"a": rng.normal(0.5, 1, 50_000), "b": rng.normal(0, 1, 50_000)}
    specs = [Num("a", "numeric"), Num("b", "numeric")]
    assert 0.0 == compare(base, cur, specs).features[0].tests["ks"]["p_value"]
    bh = compare(base, cur, specs, policy_from(tmp_path, "[dataset]\nbh = true\n"))
    assert "drift" == bh.features[0].status
    assert 0.0 == bh.features[0].tests["p_value_bh"]


# --------------------------------------------------------------------------------------------
# Per-feature overrides and the dataset verdict
# --------------------------------------------------------------------------------------------


def test_feature_override_changes_only_that_feature(tmp_path: Path) -> None:
    """Raising psi/W drift thresholds for one feature of a model makes exactly it non-drift."""
    rng = np.random.default_rng(12)
    base = {n: rng.normal(0, 1, 3000) for n in ("a", "b", "c")}
    cur = {"a": rng.normal(0.5, 1, 3000), "b": rng.normal(0.5, 1, 3000),
           "c": rng.normal(0, 1, 3000)}
    specs = [Num(n, "numeric") for n in base]
    policy = policy_from(tmp_path, "[models.m.features.a]\npsi_drift = 10.0\n"
                                   "wasserstein_drift = 10.0\n")
    default = {f.feature: f.status for f in compare(base, cur, specs, policy).features}
    assert {"a": "drift", "b": "drift", "c": "ok"} == default
    overridden = compare(base, cur, specs, policy, model="m")
    assert {"a": "warn", "b": "drift", "c": "ok"} == {f.feature: f.status
                                                      for f in overridden.features}
    assert ("b",) == overridden.drifted_features


def fr(name: str, status: str, score: float | None = 0.5,
       importance: float | None = None) -> engine.FeatureResult:
    """A synthetic feature result for summarise()."""
    return engine.FeatureResult(name, "numeric", status, score, 10, 10, 0.0, 0.0, {}, "",
                                importance)


@pytest.mark.parametrize(("statuses", "verdict", "share"), [
    (["drift", "ok", "ok", "ok", "ok"], "drift", 0.2),
    (["drift", "ok", "ok", "ok", "ok", "warn"], "warn", 1 / 6),
    (["drift", "ok", "ok", "constant", "ok", "insufficient_data", "all_null"], "drift", 0.2),
    (["warn", "ok"], "warn", 0.0),
    (["ok", "constant"], "ok", 0.0),
    (["insufficient_data", "all_null"], "insufficient_data", 0.0),
    (["ok", "schema_missing"], "drift", 0.0),
    (["schema_type_changed"], "drift", 0.0),
])
def test_dataset_verdict_rules(statuses: list[str], verdict: str, share: float) -> None:
    """drift at share >= drift_share (of tested features) or on a schema problem; else warn/ok."""
    result = engine.summarise([fr(f"f{i}", s) for i, s in enumerate(statuses)], Policy())
    assert (verdict, share) == (result.verdict, pytest.approx(result.share))
    assert tuple(f"f{i}" for i, s in enumerate(statuses) if s.startswith("schema")) \
        == result.schema_problems


def test_dataset_drifts_when_an_important_feature_drifts() -> None:
    """One drift of ten (share 0.1) drifts the model iff its importance >= 0.15."""
    others = [fr(f"o{i}", "ok", importance=0.05) for i in range(9)]
    assert "drift" == engine.summarise([fr("x", "drift", importance=0.15), *others],
                                       Policy()).verdict
    assert "warn" == engine.summarise([fr("x", "drift", importance=0.149), *others],
                                      Policy()).verdict


def test_drift_share_comes_from_the_policy() -> None:
    """dataset.drift_share overrides the 0.2 default."""
    results = [fr("a", "drift"), fr("b", "ok"), fr("c", "ok")]
    assert "drift" == engine.summarise(results, Policy()).verdict
    assert "warn" == engine.summarise(results, Policy(dataset=DatasetRule(drift_share=0.5))).verdict


def test_dataset_score_is_importance_weighted_mean_of_capped_scores() -> None:
    """Model score = sum(w * min(score, 3)) / sum(w) over tested features."""
    results = [fr("a", "drift", 5.0, 0.5), fr("b", "ok", 0.4, 0.3), fr("c", "warn", 0.8, 0.2),
               fr("d", "insufficient_data", None, 0.9)]
    expected = (0.5 * 3.0 + 0.3 * 0.4 + 0.2 * 0.8) / 1.0
    assert expected == pytest.approx(engine.summarise(results, Policy()).score, rel=1e-12)


def test_compare_keeps_feature_order_and_uses_importance() -> None:
    """Results follow the spec order (numeric features run on threads); one drifted feature
    of six (share 0.17) drifts the model only because its importance is >= 0.15."""
    rng = np.random.default_rng(13)
    names = ["n1", "c1", "n2", "n3", "c2", "n4"]
    base: dict[str, object] = {n: rng.normal(size=800) for n in names if n[0] == "n"}
    base.update(c1=["a", "b"] * 400, c2=["x", "y"] * 400)
    cur = {n: rng.normal(size=800) for n in names if n[0] == "n"}
    cur["n4"] = rng.normal(2, 1, 800)
    cur.update(c1=["a", "b"] * 400, c2=["x", "y"] * 400)
    kinds = {n: "numeric" if n[0] == "n" else "categorical" for n in names}

    def specs(importance: float) -> list[engine.FeatureSpec]:
        return [Num(n, kinds[n], importance if n == "n4" else 0.01)  # type: ignore[arg-type]
                for n in names]

    important = compare(base, cur, specs(0.2))
    assert names == [f.feature for f in important.features]
    assert 0.2 == important.features[-1].importance
    assert ("drift", ("n4",)) == (important.verdict, important.drifted_features)
    assert "warn" == compare(base, cur, specs(0.1)).verdict
