"""Peer: per-column scipy on pandas (what a data scientist writes by hand).

    python bench/peers/scipy_pandas.py BASELINE CURRENT --categorical c00,c01,...

Runs with the project venv. Reads both Parquet files whole into pandas, then per column:
- numeric: `ks_2samp` (statistic and p-value), `wasserstein_distance` / baseline std, PSI on the
  baseline deciles (bins (e_{i-1}, e_i] like `np.searchsorted(edges, x, side="left")`, eps 1e-4);
- categorical (baseline categories plus one "unseen" bucket): chi-square on the 2 x k contingency
  table, PSI (eps 1e-4), Jensen-Shannon distance (base 2), unseen share.
Nulls are dropped before the tests.

Flag rule (effect sizes, as the issue requires): numeric PSI >= 0.1 or W/std >= 0.1; categorical
JS >= 0.1 or PSI >= 0.1. `flagged_p` lists the features a naive p < 0.05 rule would flag.
"""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import scipy
from _common import emit, parse_args, split_columns
from scipy.spatial.distance import jensenshannon
from scipy.stats import chi2_contingency, ks_2samp, wasserstein_distance

EPS = 1e-4
THRESHOLD = 0.1
ALPHA = 0.05


def psi(p: np.ndarray, q: np.ndarray) -> float:
    p = np.clip(p, EPS, None)
    q = np.clip(q, EPS, None)
    return float(np.sum((q - p) * np.log(q / p)))


def numeric_tests(x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    ks = ks_2samp(x, y)
    std = float(np.std(x))
    w = float(wasserstein_distance(x, y))
    edges = np.quantile(x, np.linspace(0.0, 1.0, 11))[1:-1]
    p = np.bincount(np.searchsorted(edges, x, side="left"), minlength=10) / len(x)
    q = np.bincount(np.searchsorted(edges, y, side="left"), minlength=10) / len(y)
    return {
        "ks": float(ks.statistic),
        "ks_p": float(ks.pvalue),
        "wasserstein_norm": w / std if std > 0 else float("nan"),
        "psi": psi(p, q),
    }


def categorical_tests(x: pd.Series, y: pd.Series) -> dict[str, float]:
    base = x.value_counts()
    cur = y.value_counts()
    cats = list(base.index)
    b = base.to_numpy(dtype=float)
    c = cur.reindex(cats, fill_value=0).to_numpy(dtype=float)
    unseen = float(cur.sum() - c.sum())
    b = np.append(b, 0.0)
    c = np.append(c, unseen)
    table = np.vstack([b, c])
    table = table[:, table.sum(axis=0) > 0]
    chi = chi2_contingency(table, correction=False)
    p = b / b.sum()
    q = c / c.sum()
    return {
        "chi2": float(chi.statistic),
        "chi2_p": float(chi.pvalue),
        "js": float(jensenshannon(p, q, base=2)),
        "psi": psi(p, q),
        "unseen_share": unseen / float(c.sum()),
    }


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    started = time.perf_counter()
    base = pd.read_parquet(args.baseline)
    cur = pd.read_parquet(args.current)
    loaded = time.perf_counter()
    numeric, cats = split_columns(list(base.columns), args.categorical)

    scores: dict[str, dict[str, float]] = {}
    flagged: list[str] = []
    flagged_p: list[str] = []
    for col in numeric:
        x = base[col].dropna().to_numpy(dtype=float)
        y = cur[col].dropna().to_numpy(dtype=float)
        s = numeric_tests(x, y)
        scores[col] = s
        if s["psi"] >= THRESHOLD or s["wasserstein_norm"] >= THRESHOLD:
            flagged.append(col)
        if s["ks_p"] < ALPHA:
            flagged_p.append(col)
    for col in cats:
        s = categorical_tests(base[col].dropna(), cur[col].dropna())
        scores[col] = s
        if s["js"] >= THRESHOLD or s["psi"] >= THRESHOLD:
            flagged.append(col)
        if s["chi2_p"] < ALPHA:
            flagged_p.append(col)

    emit(
        {
            "method": "scipy",
            "versions": {
                "scipy": scipy.__version__,
                "pandas": pd.__version__,
                "numpy": np.__version__,
            },
            "rows_baseline": len(base),
            "rows_current": len(cur),
            "flagged": flagged,
            "rule": "numeric PSI>=0.1 or W/std>=0.1; categorical JS>=0.1 or PSI>=0.1",
            "flagged_p": flagged_p,
            "scores": {k: {m: round(v, 6) for m, v in s.items()} for k, s in scores.items()},
            "seconds_in_process": {
                "read": round(loaded - started, 3),
                "tests": round(time.perf_counter() - loaded, 3),
            },
        }
    )


if __name__ == "__main__":
    main()
