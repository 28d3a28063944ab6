"""The metric harness: champion and candidate scored the same way on the same rows.

A harness is named per model and versioned; the version changes whenever how rows are chosen or
how metrics are computed changes, so two evaluations compare only when both name the same
version. Version 1: the holdout is the labelled inference rows of the newest
``response.holdout_days`` labelled days before the incident's last window; each model is loaded
from its registry files with MLflow's pyfunc loader and fed the rows cast to its own input
signature (exactly what serving does); metrics are :func:`governance.demo.models.score`.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from governance.demo.models import HIGHER_IS_BETTER, score
from governance.drift.policy import ResponseRule
from governance.errors import DataError

HARNESS_VERSION = "1"


@dataclass(frozen=True)
class Harness:
    """How one model is judged.

    Attributes:
        name: ``<model>-harness``.
        version: :data:`HARNESS_VERSION` when the evaluation ran.
        task: ``regression`` or ``classification``.
        primary_metric: The metric that decides qualification.
    """

    name: str
    version: str
    task: str
    primary_metric: str


def harness_for(model: str, task: str, primary_metric: str) -> Harness:
    """The current harness of ``model``."""
    if primary_metric not in HIGHER_IS_BETTER:
        raise DataError(f"{model}: unknown primary metric {primary_metric!r}",
                        hint=f"use one of {', '.join(HIGHER_IS_BETTER)}")
    return Harness(f"{model}-harness", HARNESS_VERSION, task, primary_metric)


def signature(model_dir: Path) -> list[tuple[str, str]]:
    """The model's input signature as ``(column, MLflow type)`` pairs.

    Raises:
        DataError: The model was logged without an input signature.
    """
    from mlflow.models import Model

    schema = Model.load(str(model_dir / "MLmodel")).get_input_schema()  # type: ignore[no-untyped-call]
    if schema is None:
        raise DataError(f"{model_dir}: the model has no input signature",
                        hint="log models with a signature (mlflow infer_signature)")
    return [(str(col.name), str(col.type.name)) for col in schema.inputs]


def model_inputs(frame: pd.DataFrame, sig: Sequence[tuple[str, str]]) -> pd.DataFrame:
    """``frame``'s signature columns cast as serving casts them: integers to double (the
    signature declares doubles so nullable counts fit), text to Python strings with None."""
    out = {}
    for name, kind in sig:
        column = frame[name]
        if kind in ("double", "float"):
            out[name] = column.astype(np.float64)
        elif kind == "string":
            out[name] = column.astype(object).where(column.notna(), None)
        else:
            out[name] = column
    return pd.DataFrame(out)


def evaluate(harness: Harness, model_dir: Path, holdout: pd.DataFrame,
             target: str) -> dict[str, float]:
    """Score the model stored in ``model_dir`` on ``holdout`` with ``harness``.

    Raises:
        DataError: The holdout has no labelled rows or lacks a signature column.
    """
    import mlflow.pyfunc

    rows = holdout.loc[holdout[target].notna()]
    if rows.empty:
        raise DataError(f"{harness.name}: the holdout has no labelled rows")
    sig = signature(model_dir)
    missing = [name for name, _ in sig if name not in rows.columns]
    if missing:
        raise DataError(f"{harness.name}: the holdout lacks signature columns {missing}")
    model: Any = mlflow.pyfunc.load_model(str(model_dir))
    pred = np.asarray(model.predict(model_inputs(rows, sig)), dtype=np.float64).reshape(-1)
    return score(harness.task, rows[target].to_numpy(dtype=np.float64), pred)


#: Relative slack at the boundary: 1.02 vs 1.00 is "2% worse" in words but
#: -0.020000000000000018 in floating point, and the rule must mean what its sentence says.
BOUNDARY_REL_TOL = 4 * sys.float_info.epsilon


def within(change: float, max_regression: float) -> bool:
    """True when a signed relative change (positive = better) is allowed by the rule."""
    return change >= -max_regression or math.isclose(change, -max_regression,
                                                     rel_tol=BOUNDARY_REL_TOL)


@dataclass(frozen=True)
class Verdict:
    """Whether a candidate qualifies for an approval request.

    Attributes:
        qualifies: True when the policy lets the candidate go to an approver.
        reason: One sentence with both values and the rule.
        change: Relative change of the primary metric, signed so positive is better.
    """

    qualifies: bool
    reason: str
    change: float


def qualify(harness: Harness, champion: Mapping[str, float], candidate: Mapping[str, float],
            rule: ResponseRule) -> Verdict:
    """Apply ``response.max_regression`` to the primary metric of both evaluations."""
    metric = harness.primary_metric
    old, new = champion.get(metric, math.nan), candidate.get(metric, math.nan)
    if not (math.isfinite(old) and math.isfinite(new)):
        return Verdict(False, f"{metric} is not a number for the "
                       f"{'champion' if not math.isfinite(old) else 'candidate'} "
                       "on this holdout, so the two cannot be compared", math.nan)
    sign = 1.0 if HIGHER_IS_BETTER[metric] else -1.0
    change = sign * (new - old) / abs(old) if old else sign * (new - old)
    words = (f"{metric} {new:.4g} vs champion {old:.4g} "
             f"({abs(change):.1%} {'better' if change >= 0 else 'worse'})")
    allowed = f"response.max_regression allows at most {rule.max_regression:.0%} worse"
    if within(change, rule.max_regression):
        return Verdict(True, f"qualifies: {words}; {allowed}", change)
    return Verdict(False, f"does not qualify: {words}; {allowed}", change)
