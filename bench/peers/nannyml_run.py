"""Peer: NannyML univariate drift, one chunk = the whole current set.

    NML_DISABLE_USER_ANALYTICS=1 bench/.venvs/nannyml/bin/python bench/peers/nannyml_run.py \
        BASELINE CURRENT --categorical ...

Runs ONLY from bench/.venvs/nannyml (nannyml 0.13.1 + statsmodels, see
bench/requirements-peers-nannyml.txt); never a project dependency. Telemetry must be off
(NML_DISABLE_USER_ANALYTICS=1, set by the harness and again here) or it retries a network call.

`UnivariateDriftCalculator` fitted on the baseline and run on the current set with
`chunk_number=1` (each side is one chunk). Methods, chosen to match Driftgate's set of tests:
numeric KS, Jensen-Shannon and Wasserstein (NannyML's defaults: binned estimates above 10k rows);
categorical chi2 and Jensen-Shannon. NannyML's default thresholds are mean +- 3 std over the
reference chunks, which degenerate with a single reference chunk (upper threshold 0: everything
alerts), so the verdict used here is the Jensen-Shannon alert with a constant threshold of 0.1.
"""

from __future__ import annotations

import os

os.environ["NML_DISABLE_USER_ANALYTICS"] = "1"

import time
import warnings

import nannyml
import pandas as pd
from _common import emit, parse_args, split_columns
from nannyml.thresholds import ConstantThreshold

CONTINUOUS = ["kolmogorov_smirnov", "jensen_shannon", "wasserstein"]
CATEGORICAL = ["chi2", "jensen_shannon"]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    base = pd.read_parquet(args.baseline)
    cur = pd.read_parquet(args.current)
    loaded = time.perf_counter()
    numeric, cats = split_columns(list(base.columns), args.categorical)
    columns = numeric + cats

    calc = nannyml.UnivariateDriftCalculator(
        column_names=columns,
        treat_as_numerical=numeric,
        treat_as_categorical=cats,
        continuous_methods=CONTINUOUS,
        categorical_methods=CATEGORICAL,
        chunk_number=1,
        thresholds={"jensen_shannon": ConstantThreshold(lower=None, upper=0.1)},
    )
    calc.fit(base)
    fitted = time.perf_counter()
    result = calc.calculate(cur).filter(period="analysis").to_df()
    done = time.perf_counter()

    row = result.iloc[0]
    flagged: list[str] = []
    scores: dict[str, dict[str, float]] = {}
    for col in columns:
        methods = CONTINUOUS if col in numeric else CATEGORICAL
        scores[col] = {m: round(float(row[(col, m, "value")]), 6) for m in methods}
        if bool(row[(col, "jensen_shannon", "alert")]):
            flagged.append(col)

    emit(
        {
            "method": "nannyml",
            "versions": {"nannyml": nannyml.__version__, "pandas": pd.__version__},
            "rows_baseline": len(base),
            "rows_current": len(cur),
            "flagged": flagged,
            "rule": "Jensen-Shannon alert, constant threshold 0.1",
            "scores": scores,
            "seconds_in_process": {
                "read": round(loaded - started, 3),
                "fit": round(fitted - loaded, 3),
                "calculate": round(done - fitted, 3),
            },
        }
    )


if __name__ == "__main__":
    main()
