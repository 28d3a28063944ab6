"""Peer: Evidently 0.7.x `DataDriftPreset` (`Report.run` on the two DataFrames).

    bench/.venvs/evidently/bin/python bench/peers/evidently_run.py \
        BASELINE CURRENT --categorical ...

Runs ONLY from bench/.venvs/evidently (evidently 0.7.x + pandas<3, see
bench/requirements-peers-evidently.txt); never a project dependency.

Evidently picks each column's method from its type and size; above 1000 rows that is the normed
Wasserstein distance (threshold 0.1) for numeric and the Jensen-Shannon distance (threshold 0.1) for
categorical columns. A column is flagged as Evidently decides: a p-value method drifts when
value < threshold, a distance method when value >= threshold. No HTML is saved; the preset's
defaults (include_tests off) are kept.
"""

from __future__ import annotations

import time
import warnings

import evidently
import pandas as pd
from _common import emit, parse_args, split_columns
from evidently import DataDefinition, Dataset, Report
from evidently.presets import DataDriftPreset


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    warnings.filterwarnings("ignore")
    started = time.perf_counter()
    base = pd.read_parquet(args.baseline)
    cur = pd.read_parquet(args.current)
    loaded = time.perf_counter()
    numeric, cats = split_columns(list(base.columns), args.categorical)

    definition = DataDefinition(numerical_columns=numeric, categorical_columns=cats)
    report = Report([DataDriftPreset()])
    snapshot = report.run(
        Dataset.from_pandas(cur, data_definition=definition),
        Dataset.from_pandas(base, data_definition=definition),
    )
    ran = time.perf_counter()
    result = snapshot.dict()

    flagged: list[str] = []
    scores: dict[str, dict[str, object]] = {}
    for metric in result["metrics"]:
        config = metric.get("config", {})
        if config.get("type") != "evidently:metric_v2:ValueDrift":
            continue
        column = config["column"]
        method = str(config["method"])
        threshold = float(config["threshold"])
        value = float(metric["value"])
        drift = value < threshold if "p_value" in method else value >= threshold
        scores[column] = {"method": method, "value": round(value, 6), "threshold": threshold}
        if drift:
            flagged.append(column)
    order = {c: i for i, c in enumerate(base.columns)}
    flagged.sort(key=order.__getitem__)

    emit(
        {
            "method": "evidently",
            "versions": {"evidently": evidently.__version__, "pandas": pd.__version__},
            "rows_baseline": len(base),
            "rows_current": len(cur),
            "flagged": flagged,
            "rule": "Evidently's own per-column verdict (defaults)",
            "scores": scores,
            "seconds_in_process": {
                "read": round(loaded - started, 3),
                "report_run": round(ran - loaded, 3),
            },
        }
    )


if __name__ == "__main__":
    main()
