"""The candidate training set and the harness holdout, and the checks that gate them.

Pure functions over DataFrames the pipeline read from the warehouse: the champion's feature
table up to the cut-off, and the inference log up to the end of the holdout. The training set
is the feature-table rows plus the labelled inference rows up to the cut-off (so it includes the
drifted period); the holdout is the labelled inference rows of the newest ``holdout_days``
labelled days, after the cut-off, so the candidate never trains on a row it is judged on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
import pandas as pd

from governance.drift.policy import ResponseRule

KEY, DAY, LABEL, LOG_KEY = "row_id", "event_date", "label", "request_id"
# MLflow signature types and the pandas dtypes that can feed them.
_NUMERIC = frozenset({"double", "float", "long", "integer"})


@dataclass(frozen=True)
class Plan:
    """Where a refresh reads, which days it uses and where it writes.

    Attributes:
        model: Model name.
        incident_id: The incident being answered.
        feature_table: The champion's feature table (``prod.features.*``, read only).
        inference_table: The model's inference log (read only).
        drift_start: First day of the incident's first drifted window.
        cutoff: Last day a training row may carry.
        holdout: First and last day of the harness holdout (the newest labelled days).
        dataset_table: Where the candidate training set goes (``uat.training.*``).
        holdout_table: Where the holdout goes (``uat.evaluation.*``).
    """

    model: str
    incident_id: str
    feature_table: str
    inference_table: str
    drift_start: date
    cutoff: date
    holdout: tuple[date, date]
    dataset_table: str
    holdout_table: str


def plan(model: str, incident_id: str, *, feature_table: str, inference_table: str,
         drift_start: date, last_label_day: date, dataset_version: int,
         rule: ResponseRule) -> Plan:
    """Name the tables and fix the days of a refresh.

    Table names carry the model, the dataset version and the incident, e.g.
    ``uat.training.demand_forecast_v2_inc20261005``; they are plain identifiers whatever the
    incident id looks like.
    """
    slug = incident_id.removeprefix(f"INC-{model}-")
    slug = "".join(c if c.isascii() and c.isalnum() else "_" for c in slug).lower()
    holdout_start = last_label_day - timedelta(days=rule.holdout_days - 1)
    return Plan(
        model=model, incident_id=incident_id, feature_table=feature_table,
        inference_table=inference_table, drift_start=drift_start,
        cutoff=holdout_start - timedelta(days=1), holdout=(holdout_start, last_label_day),
        dataset_table=f"uat.training.{model}_v{dataset_version}_inc{slug}",
        holdout_table=f"uat.evaluation.{model}_holdout_inc{slug}",
    )


@dataclass(frozen=True, eq=False)
class Staged:
    """A validated (or rejected) refresh.

    Attributes:
        dataset: Candidate training set: ``row_id``, ``event_date``, features, target.
        holdout: Harness holdout, same columns.
        problems: Why the refresh is rejected; empty when it passed.
        report: Counts behind the checks (rows, labelled rows, coverage, null rates...).
    """

    dataset: pd.DataFrame
    holdout: pd.DataFrame
    problems: tuple[str, ...]
    report: dict[str, object] = field(default_factory=dict)


def _dtype_fits(dtype: Any, wanted: str) -> bool:
    if wanted in _NUMERIC:
        return bool(pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype))
    if wanted == "boolean":
        return bool(pd.api.types.is_bool_dtype(dtype))
    if wanted == "string":
        return bool(pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype))
    return True  # other MLflow types (datetime, binary) are not used by governed models


def schema_problems(table: str, frame: pd.DataFrame, signature: Sequence[tuple[str, str]],
                    extra: Sequence[str]) -> list[str]:
    """Columns the model's input signature (and the refresh) needs but ``table`` lacks or
    holds with an incompatible type, each named with table, column and types."""
    problems = []
    for column in (*extra, *(name for name, _ in signature)):
        if column not in frame.columns:
            problems.append(f"{table}: missing column {column!r}"
                            + (" (in the model's input signature)" if column not in extra else ""))
    for name, wanted in signature:
        if name in frame.columns and not _dtype_fits(frame[name].dtype, wanted):
            problems.append(f"{table}: column {name!r} holds {frame[name].dtype}, the model's "
                            f"input signature needs {wanted}")
    return problems


def _days(frame: pd.DataFrame) -> pd.Series:
    return pd.to_datetime(frame[DAY]).dt.date


def stage(p: Plan, *, features: pd.DataFrame, log: pd.DataFrame,
          signature: Sequence[tuple[str, str]], target: str, rule: ResponseRule) -> Staged:
    """Build the candidate training set and the holdout, and check them.

    Args:
        p: The refresh plan.
        features: Feature-table rows dated up to ``p.cutoff``.
        log: Inference-log rows dated from ``p.drift_start`` (or the holdout's start, if
            earlier) to the end of the holdout.
        signature: The champion's input signature, ``(column, MLflow type)`` pairs.
        target: The model's target column in the feature table.
        rule: The response gates.

    Returns:
        The staged frames with every problem found (not just the first).
    """
    names = [name for name, _ in signature]
    columns = [KEY, DAY, *names, target]
    problems = schema_problems(p.feature_table, features, signature, (KEY, DAY, target))
    problems += schema_problems(p.inference_table, log, signature, (LOG_KEY, DAY, LABEL))
    if problems:
        empty = pd.DataFrame(columns=columns)
        return Staged(empty, empty, tuple(problems), {})
    log = log.rename(columns={LOG_KEY: KEY, LABEL: target})
    log_days, feature_days = _days(log), _days(features)
    labelled = log[target].notna().to_numpy()
    in_period = ((log_days >= p.drift_start) & (log_days <= p.cutoff)).to_numpy()
    in_holdout = ((log_days >= p.holdout[0]) & (log_days <= p.holdout[1])).to_numpy()
    recent = log.loc[in_period & labelled, columns]
    dataset = pd.concat([features.loc[:, columns], recent], ignore_index=True)
    holdout = log.loc[in_holdout & labelled, columns].reset_index(drop=True)
    dataset, problems = _align_target(dataset, features[target].dtype, target)
    dataset = dataset.sort_values([DAY, KEY], kind="stable", ignore_index=True)
    holdout = holdout.sort_values([DAY, KEY], kind="stable", ignore_index=True)

    n_period = int(in_period.sum())
    coverage = float(labelled[in_period].mean()) if n_period else 0.0
    null_rates = {n: float(dataset[n].isna().mean()) if len(dataset) else 0.0 for n in names}
    report: dict[str, object] = {
        "rows": len(dataset), "feature_table_rows": len(features), "recent_rows": len(recent),
        "period": [p.drift_start.isoformat(), p.cutoff.isoformat()],
        "period_rows": n_period, "label_coverage": round(coverage, 6),
        "holdout_rows": len(holdout), "null_rates": null_rates,
    }
    late = feature_days > p.cutoff
    if late.any():
        problems.append(f"{p.feature_table}: {int(late.sum())} rows dated after the cut-off "
                        f"{p.cutoff} (latest {max(feature_days[late])}): training on them "
                        "would leak the holdout period")
    if len(dataset) < rule.min_rows:
        problems.append(f"{len(dataset)} labelled training rows, the policy needs at least "
                        f"{rule.min_rows} (response.min_rows)")
    if p.drift_start > p.cutoff:
        problems.append(f"{p.inference_table}: waiting for labels: the drift began "
                        f"{p.drift_start}, labels reach {p.holdout[1]} and the newest "
                        f"{(p.holdout[1] - p.holdout[0]).days + 1} labelled days are the "
                        "holdout, so no labelled drifted row is left to train on; the monitor "
                        "retries when it checks the next window")
    elif n_period == 0:
        problems.append(f"{p.inference_table}: no inference rows between {p.drift_start} and "
                        f"{p.cutoff} (the drifted period before the holdout)")
    elif coverage < rule.min_label_coverage:
        problems.append(f"{p.inference_table}: labels cover {coverage:.1%} of the drifted "
                        f"period's {n_period} rows, the policy needs "
                        f"{rule.min_label_coverage:.0%} (response.min_label_coverage)")
    if n_period and len(recent) < rule.min_recent_rows:
        problems.append(f"{p.inference_table}: {len(recent)} labelled rows from the drifted "
                        f"period, the policy needs {rule.min_recent_rows} "
                        "(response.min_recent_rows)")
    if len(holdout) < rule.min_holdout_rows:
        problems.append(f"{p.inference_table}: {len(holdout)} labelled holdout rows in "
                        f"{p.holdout[0]}..{p.holdout[1]}, the policy needs "
                        f"{rule.min_holdout_rows} (response.min_holdout_rows)")
    for name, rate in null_rates.items():
        if rate > rule.max_null_rate:
            problems.append(f"column {name!r} is {rate:.1%} null in the candidate training "
                            f"set, above response.max_null_rate {rule.max_null_rate:.0%}")
    problems += _key_problems(dataset, holdout)
    return Staged(dataset, holdout, tuple(problems), report)


def _align_target(dataset: pd.DataFrame, dtype: Any,
                  target: str) -> tuple[pd.DataFrame, list[str]]:
    """Give inference labels the feature table's target type; bad labels are problems."""
    problems = []
    values = pd.to_numeric(dataset[target], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(values)
    if bad.any():
        example = dataset.loc[bad, target].iloc[0]
        problems.append(f"target {target!r}: {int(bad.sum())} values are not finite numbers "
                        f"(e.g. {example!r})")
    elif pd.api.types.is_integer_dtype(dtype):
        if not np.array_equal(values, np.round(values)):
            problems.append(f"target {target!r} is whole numbers in the feature table but some "
                            "inference labels have fractions")
        else:
            dataset = dataset.assign(**{target: values.astype(np.int64)})
    else:
        dataset = dataset.assign(**{target: values})
    return dataset, problems


def _key_problems(dataset: pd.DataFrame, holdout: pd.DataFrame) -> list[str]:
    problems = []
    for what, frame in (("candidate training set", dataset), ("holdout", holdout)):
        dupes = frame[KEY][frame[KEY].duplicated(keep=False)]
        if len(dupes):
            examples = ", ".join(repr(k) for k in dupes.drop_duplicates().head(3))
            problems.append(f"{dupes.nunique()} duplicate keys in the {what} "
                            f"({KEY} {examples})")
    shared = set(dataset[KEY]) & set(holdout[KEY])
    if shared:
        example = ", ".join(repr(k) for k in sorted(shared)[:3])
        problems.append(f"{len(shared)} holdout rows are also training rows ({KEY} {example}): "
                        "the candidate would be judged on rows it learnt")
    return problems
