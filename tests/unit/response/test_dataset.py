"""dataset.plan and dataset.stage as pure functions: names, days and every rejection.

The frames mimic what the refresh reads from the warehouse (``fetch_df``): ``event_date`` holds
``datetime.date`` objects, keys are text, the feature table's target is an integer column and
the inference log's labels are nullable floats.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance.drift.policy import ResponseRule
from governance.response import dataset

PROPERTY = settings(derandomize=True, max_examples=200, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

MODEL, INCIDENT = "demo_model", "INC-demo_model-20261010"
FEATURES, LOG = "prod.features.demo_model_features", "prod.inference.demo_model"
SIGNATURE = [("x", "double"), ("n", "double"), ("flag", "boolean"), ("city", "string")]
TARGET = "units"
RULE = ResponseRule(min_rows=20, min_recent_rows=5, min_label_coverage=0.8, max_null_rate=0.5,
                    holdout_days=3, min_holdout_rows=3, max_regression=0.02)
DRIFT_START, LAST_LABEL = date(2026, 10, 10), date(2026, 10, 20)
# Holdout 10-18..10-20, cut-off 10-17, drifted period 10-10..10-17.


def make_plan(rule: ResponseRule = RULE, drift_start: date = DRIFT_START,
              last_label_day: date = LAST_LABEL, version: int = 2) -> dataset.Plan:
    return dataset.plan(MODEL, INCIDENT, feature_table=FEATURES, inference_table=LOG,
                        drift_start=drift_start, last_label_day=last_label_day,
                        dataset_version=version, rule=rule)


def feature_rows(n: int = 30, last: date = date(2026, 10, 9)) -> pd.DataFrame:
    """``n`` feature-table rows dated up to ``last`` (before the drift)."""
    rng = np.random.default_rng(7)
    days = [last - timedelta(days=i % 20) for i in range(n)]
    return pd.DataFrame({
        "row_id": [f"f{i:04d}" for i in range(n)],
        "event_date": days,
        "x": rng.normal(size=n),
        "n": rng.integers(0, 9, size=n),  # integer counts: the signature declares doubles
        "flag": rng.integers(0, 2, size=n).astype(bool),
        "city": rng.choice(["a", "b"], size=n).astype(object),
        TARGET: rng.integers(0, 20, size=n),
        "extra_column": 1.0,
    })


def log_rows(start: date = DRIFT_START, end: date = LAST_LABEL, per_day: int = 4) -> pd.DataFrame:
    """Inference rows from ``start`` to ``end``, every one labelled with a whole number."""
    rng = np.random.default_rng(11)
    days = [start + timedelta(days=d) for d in range((end - start).days + 1)
            for _ in range(per_day)]
    n = len(days)
    return pd.DataFrame({
        "request_id": [f"r{i:04d}" for i in range(n)],
        "event_date": days,
        "x": rng.normal(size=n),
        "n": rng.integers(0, 9, size=n).astype(float),
        "flag": rng.integers(0, 2, size=n).astype(bool),
        "city": rng.choice(["a", "b", "c"], size=n).astype(object),
        "prediction": rng.normal(size=n),
        "label": rng.integers(0, 20, size=n).astype(float),
    })


def stage(features: pd.DataFrame | None = None, log: pd.DataFrame | None = None,
          p: dataset.Plan | None = None, rule: ResponseRule = RULE) -> dataset.Staged:
    return dataset.stage(p or make_plan(rule), features=feature_rows() if features is None
                         else features, log=log_rows() if log is None else log,
                         signature=SIGNATURE, target=TARGET, rule=rule)


def has(problems: tuple[str, ...], pattern: str) -> bool:
    return any(re.search(pattern, p) for p in problems)


# --- plan -----------------------------------------------------------------------------------


def test_plan_names_tables_with_model_version_and_incident_and_fixes_the_days() -> None:
    """Holdout = the newest holdout_days labelled days; the cut-off is the day before it."""
    p = make_plan()

    assert "uat.training.demo_model_v2_inc20261010" == p.dataset_table
    assert "uat.evaluation.demo_model_holdout_inc20261010" == p.holdout_table
    assert (date(2026, 10, 18), date(2026, 10, 20)) == p.holdout
    assert date(2026, 10, 17) == p.cutoff
    assert (FEATURES, LOG, DRIFT_START) == (p.feature_table, p.inference_table, p.drift_start)


def test_plan_turns_an_odd_incident_id_into_a_plain_lower_case_identifier() -> None:
    p = dataset.plan(MODEL, "INC-demo_model-2026.10/10 Re-Opened", feature_table=FEATURES,
                     inference_table=LOG, drift_start=DRIFT_START, last_label_day=LAST_LABEL,
                     dataset_version=7, rule=RULE)

    assert "uat.training.demo_model_v7_inc2026_10_10_re_opened" == p.dataset_table
    assert "uat.evaluation.demo_model_holdout_inc2026_10_10_re_opened" == p.holdout_table


@PROPERTY
@given(holdout_days=st.integers(1, 60), last=st.dates(date(2000, 1, 1), date(2100, 1, 1)),
       start_offset=st.integers(-90, 90), version=st.integers(2, 10_000))
def test_plan_days_property(holdout_days: int, last: date, start_offset: int,
                            version: int) -> None:
    """cutoff < holdout start, the holdout spans exactly holdout_days and ends on the last
    labelled day, whatever the drift start."""
    p = make_plan(replace(RULE, holdout_days=holdout_days),
                  drift_start=last + timedelta(days=start_offset), last_label_day=last,
                  version=version)

    assert p.cutoff < p.holdout[0] <= p.holdout[1] == last
    assert holdout_days == (p.holdout[1] - p.holdout[0]).days + 1
    assert timedelta(days=1) == p.holdout[0] - p.cutoff
    assert f"uat.training.{MODEL}_v{version}_inc20261010" == p.dataset_table
    assert f"uat.evaluation.{MODEL}_holdout_inc20261010" == p.holdout_table


@PROPERTY
@given(slug=st.text(min_size=1, max_size=20))
def test_plan_table_names_are_plain_identifiers_for_any_incident_id(slug: str) -> None:
    """The docstring promises plain identifiers 'whatever the incident id looks like'."""
    p = dataset.plan(MODEL, f"INC-{MODEL}-{slug}", feature_table=FEATURES, inference_table=LOG,
                     drift_start=DRIFT_START, last_label_day=LAST_LABEL, dataset_version=2,
                     rule=RULE)

    for table in (p.dataset_table, p.holdout_table):
        assert re.fullmatch(r"uat\.(training|evaluation)\.[a-z0-9_]+", table), table


# --- stage: the happy path ------------------------------------------------------------------


def test_stage_builds_the_training_set_and_holdout_from_the_right_days() -> None:
    """Feature rows plus labelled drifted-period rows up to the cut-off; the holdout is the
    labelled rows of the holdout days; columns are key, day, signature, target."""
    staged = stage()
    ds, ho = staged.dataset, staged.holdout

    assert () == staged.problems
    assert ["row_id", "event_date", "x", "n", "flag", "city", TARGET] == list(ds.columns)
    assert list(ds.columns) == list(ho.columns)
    assert 30 + 8 * 4 == len(ds)
    assert 3 * 4 == len(ho)
    assert max(ds["event_date"]) == date(2026, 10, 17)
    assert {date(2026, 10, 18), date(2026, 10, 19), date(2026, 10, 20)} == set(ho["event_date"])
    assert set(ho["row_id"]) <= set(log_rows()["request_id"])
    # labels from the log took the feature table's integer target type
    assert pd.api.types.is_integer_dtype(ds[TARGET])
    assert ds.equals(ds.sort_values(["event_date", "row_id"], ignore_index=True))
    assert {"rows": 62, "feature_table_rows": 30, "recent_rows": 32, "period_rows": 32,
            "label_coverage": 1.0, "holdout_rows": 12,
            "period": ["2026-10-10", "2026-10-17"]}.items() <= staged.report.items()


def test_stage_leaves_out_unlabelled_rows_and_rows_before_the_drift() -> None:
    log = log_rows(start=date(2026, 10, 5))
    log.loc[log["event_date"] == date(2026, 10, 19), "label"] = np.nan
    log.loc[log.index[log["event_date"] == date(2026, 10, 12)][:1], "label"] = np.nan

    staged = stage(log=log, rule=replace(RULE, min_label_coverage=0.9))

    assert () == staged.problems
    assert 30 + 8 * 4 - 1 == len(staged.dataset)
    assert date(2026, 10, 19) not in set(staged.holdout["event_date"])
    assert 8 == len(staged.holdout)
    assert min(staged.dataset.loc[staged.dataset["row_id"].str.startswith("r"),
                                  "event_date"]) == DRIFT_START
    assert round(31 / 32, 6) == staged.report["label_coverage"]


# --- stage: schema --------------------------------------------------------------------------


@pytest.mark.parametrize(("frame", "column", "table"), [
    ("features", "x", FEATURES), ("features", "city", FEATURES),
    ("log", "x", LOG), ("log", "flag", LOG),
])
def test_missing_signature_column_is_named_with_table_and_column(
        frame: str, column: str, table: str) -> None:
    features, log = feature_rows(), log_rows()
    if frame == "features":
        features = features.drop(columns=[column])
    else:
        log = log.drop(columns=[column])

    staged = stage(features, log)

    assert (f"{table}: missing column {column!r} (in the model's input signature)",
            ) == staged.problems
    assert staged.dataset.empty
    assert staged.holdout.empty


@pytest.mark.parametrize(("frame", "column", "table"), [
    ("features", TARGET, FEATURES), ("features", "row_id", FEATURES),
    ("features", "event_date", FEATURES), ("log", "label", LOG), ("log", "request_id", LOG),
])
def test_missing_key_day_or_label_column_is_named(frame: str, column: str, table: str) -> None:
    features, log = feature_rows(), log_rows()
    if frame == "features":
        features = features.drop(columns=[column])
    else:
        log = log.drop(columns=[column])

    staged = stage(features, log)

    assert (f"{table}: missing column {column!r}",) == staged.problems


def test_every_schema_problem_of_both_tables_is_listed() -> None:
    staged = stage(feature_rows().drop(columns=["x", "n"]), log_rows().drop(columns=["label"]))

    assert 3 == len(staged.problems)
    assert has(staged.problems, rf"^{re.escape(FEATURES)}: missing column 'x'")
    assert has(staged.problems, rf"^{re.escape(FEATURES)}: missing column 'n'")
    assert has(staged.problems, rf"^{re.escape(LOG)}: missing column 'label'")


@pytest.mark.parametrize(("column", "values", "wanted"), [
    ("x", lambda s: s.astype(str), "double"),  # numbers as text (pandas str dtype)
    ("x", lambda s: s.map(str).astype(object), "double"),  # numbers as Python strings
    ("n", lambda s: s.astype(bool), "double"),  # booleans are not numbers
    ("flag", lambda s: s.astype(int), "boolean"),  # 0/1 instead of booleans
    ("city", lambda s: pd.Series(np.arange(len(s), dtype=float)), "string"),
])
def test_changed_type_is_named_with_table_column_and_both_types(
        column: str, values: object, wanted: str) -> None:
    features = feature_rows()
    features[column] = values(features[column])  # type: ignore[operator]

    staged = stage(features)

    (problem,) = staged.problems
    assert problem.startswith(f"{FEATURES}: column {column!r} holds ")
    assert problem.endswith(f"the model's input signature needs {wanted}")
    assert str(features[column].dtype) in problem


def test_nullable_integer_and_float32_columns_fit_a_double_signature() -> None:
    features = feature_rows()
    features["n"] = features["n"].astype("Int64")
    features["x"] = features["x"].astype(np.float32)

    assert () == stage(features).problems


# --- stage: labels --------------------------------------------------------------------------


def test_labels_all_null_reject_the_refresh_for_coverage_recent_rows_and_holdout() -> None:
    log = log_rows().assign(label=np.nan)

    staged = stage(log=log)

    assert has(staged.problems, r"labels cover 0\.0% of the drifted period's 32 rows, the "
                                r"policy needs 80% \(response\.min_label_coverage\)")
    assert has(staged.problems, r"0 labelled rows from the drifted period, the policy needs 5")
    assert has(staged.problems, r"0 labelled holdout rows in 2026-10-18\.\.2026-10-20")
    assert 0 == len(staged.holdout)


def test_label_coverage_exactly_at_the_minimum_passes_and_just_below_fails() -> None:
    log = log_rows()
    period = log.index[(log["event_date"] >= DRIFT_START)
                       & (log["event_date"] <= date(2026, 10, 17))]
    log.loc[period[:8], "label"] = np.nan  # 24 of 32 labelled: 75%

    assert () == stage(log=log, rule=replace(RULE, min_label_coverage=0.75)).problems
    assert has(stage(log=log, rule=replace(RULE, min_label_coverage=0.76)).problems,
               r"labels cover 75\.0%")


def test_fractional_labels_for_a_whole_number_target_are_rejected() -> None:
    log = log_rows()
    log.loc[3, "label"] = 2.5

    staged = stage(log=log)

    assert (f"target {TARGET!r} is whole numbers in the feature table but some inference "
            "labels have fractions",) == staged.problems


def test_non_finite_labels_are_rejected_with_an_example() -> None:
    log = log_rows()
    log.loc[5, "label"] = np.inf

    staged = stage(log=log)

    assert has(staged.problems, rf"target {TARGET!r}: 1 values are not finite numbers "
                                r"\(e\.g\. .*inf\)")


def test_labels_stored_as_text_are_converted_to_the_integer_target() -> None:
    log = log_rows()
    log["label"] = log["label"].map(lambda v: f"{v:.0f}").astype(object)

    staged = stage(log=log)

    assert () == staged.problems
    assert pd.api.types.is_integer_dtype(staged.dataset[TARGET])


def test_labels_stored_as_text_for_a_float_target_are_converted_or_rejected() -> None:
    features = feature_rows().astype({TARGET: float})
    log = log_rows()
    log["label"] = log["label"].map(lambda v: f"{v:.1f}").astype(object)

    staged = stage(features, log)

    assert staged.problems or pd.api.types.is_float_dtype(staged.dataset[TARGET])


# --- stage: keys, leakage, sizes, nulls ---------------------------------------------------


def test_duplicate_keys_in_the_feature_table_are_rejected() -> None:
    features = feature_rows()
    features.loc[1, "row_id"] = features.loc[0, "row_id"]
    features.loc[3, "row_id"] = features.loc[2, "row_id"]

    staged = stage(features)

    (problem,) = staged.problems
    assert re.fullmatch(r"2 duplicate keys in the candidate training set \(row_id "
                        r"('f0000', 'f0002'|'f0002', 'f0000')\)", problem), problem


def test_a_log_row_reusing_a_feature_key_is_a_duplicate() -> None:
    log = log_rows()
    log.loc[0, "request_id"] = "f0005"  # 2026-10-10: a drifted-period training row

    assert has(stage(log=log).problems, r"1 duplicate keys .*'f0005'")


def test_holdout_rows_that_are_also_training_rows_are_rejected() -> None:
    log = log_rows()
    holdout_row = log.index[log["event_date"] == date(2026, 10, 19)][0]
    log.loc[holdout_row, "request_id"] = "f0007"

    staged = stage(log=log)

    assert ("1 holdout rows are also training rows (row_id 'f0007'): the candidate would be "
            "judged on rows it learnt",) == staged.problems


def test_duplicate_keys_in_the_holdout_are_rejected() -> None:
    log = log_rows()
    rows = log.index[log["event_date"] == date(2026, 10, 19)]
    log.loc[rows[1], "request_id"] = log.loc[rows[0], "request_id"]

    assert has(stage(log=log).problems, r"duplicate keys")


def test_feature_rows_dated_after_the_cutoff_are_leakage() -> None:
    features = feature_rows()
    features.loc[0, "event_date"] = date(2026, 10, 19)
    features.loc[1, "event_date"] = date(2026, 10, 18)

    staged = stage(features)

    assert (f"{FEATURES}: 2 rows dated after the cut-off 2026-10-17 (latest 2026-10-19): "
            "training on them would leak the holdout period",) == staged.problems


def test_feature_row_dated_on_the_cutoff_is_not_leakage() -> None:
    features = feature_rows()
    features.loc[0, "event_date"] = date(2026, 10, 17)

    assert () == stage(features).problems


def test_too_few_rows_names_the_policy_setting() -> None:
    staged = stage(rule=replace(RULE, min_rows=63))

    assert ("62 labelled training rows, the policy needs at least 63 (response.min_rows)",
            ) == staged.problems
    assert () == stage(rule=replace(RULE, min_rows=62)).problems


def test_too_few_recent_and_holdout_rows_name_their_settings() -> None:
    staged = stage(rule=replace(RULE, min_recent_rows=33, min_holdout_rows=13))

    assert 2 == len(staged.problems)
    assert has(staged.problems, r"32 labelled rows from the drifted period, the policy needs 33 "
                                r"\(response\.min_recent_rows\)")
    assert has(staged.problems, r"12 labelled holdout rows .* needs 13 "
                                r"\(response\.min_holdout_rows\)")


def test_null_rate_above_the_bound_is_rejected_and_at_the_bound_passes() -> None:
    features, log = feature_rows(), log_rows()
    # 62 training rows: 31 nulls = exactly 50%, 32 nulls = above
    features["x"] = np.nan  # 30 rows
    period = log.index[log["event_date"] <= date(2026, 10, 17)]
    log.loc[period[:1], "x"] = np.nan

    assert () == stage(features, log).problems
    log.loc[period[:2], "x"] = np.nan
    staged = stage(features, log)
    assert ("column 'x' is 51.6% null in the candidate training set, above "
            "response.max_null_rate 50%",) == staged.problems
    assert 32 / 62 == staged.report["null_rates"]["x"]  # type: ignore[index]


def test_drift_that_began_inside_the_holdout_waits_for_labels() -> None:
    staged = stage(p=make_plan(drift_start=date(2026, 10, 19)),
                   log=log_rows(start=date(2026, 10, 19)))

    assert has(staged.problems, r"waiting for labels: the drift began 2026-10-19, labels reach "
                                r"2026-10-20 and the newest 3 labelled days are the holdout")
    assert not has(staged.problems, r"no inference rows between")


def test_no_inference_rows_in_the_drifted_period() -> None:
    staged = stage(log=log_rows(start=date(2026, 10, 18)))

    assert has(staged.problems, rf"{re.escape(LOG)}: no inference rows between 2026-10-10 and "
                                r"2026-10-17")


# --- stage: properties ----------------------------------------------------------------------


@settings(PROPERTY, max_examples=60)
@given(holdout_days=st.integers(1, 10), start=st.integers(0, 15),
       labelled=st.lists(st.booleans(), min_size=16, max_size=16),
       feature_shift=st.integers(-3, 12))
def test_training_rows_never_reach_the_holdout(holdout_days: int, start: int,
                                               labelled: list[bool],
                                               feature_shift: int) -> None:
    """Whatever the layout, an accepted refresh trains only on rows dated up to the cut-off,
    judges only on labelled holdout-day rows, and the two share no key."""
    rule = replace(RULE, holdout_days=holdout_days, min_rows=1, min_recent_rows=1,
                   min_label_coverage=0.0, min_holdout_rows=1)
    first = date(2026, 10, 5)
    log = log_rows(start=first, end=first + timedelta(days=15), per_day=2)
    day_index = [(d - first).days for d in log["event_date"]]
    log["label"] = [v if labelled[i] else np.nan for v, i in zip(log["label"], day_index,
                                                                 strict=True)]
    last = first + timedelta(days=max([i for i in range(16) if labelled[i]], default=0))
    p = make_plan(rule, drift_start=first + timedelta(days=start), last_label_day=last)
    features = feature_rows(last=p.cutoff - timedelta(days=feature_shift))

    staged = stage(features, log[log["event_date"] <= last], p=p, rule=rule)

    if staged.problems:
        return
    assert max(staged.dataset["event_date"]) <= p.cutoff
    assert staged.holdout["event_date"].between(*p.holdout).all()
    assert staged.holdout[TARGET].notna().all()
    assert not set(staged.dataset["row_id"]) & set(staged.holdout["row_id"])
    assert not staged.dataset["row_id"].duplicated().any()
