"""The two numeric read paths give identical results.

The embedded engine fetches a column and sorts it in numpy; a warehouse (Databricks SQL) returns
only the ECDF step table from a GROUP BY. No Databricks workspace exists here, so the warehouse
path runs its own SQL (queries/drift/numeric_steps*.sql) on DuckDB through a session that
declares it cannot hand over whole columns.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from governance.drift import engine, files
from governance.drift.policy import Policy


class _StepsOnly(files.DuckDBSession):
    """A DuckDB session that asks for ECDF steps, as the Databricks backend does."""

    local_columns = False

    def fork(self) -> _StepsOnly:
        return _StepsOnly(self._con.cursor())

    def fetch_column(self, name: str, params: object = None) -> np.ndarray:
        raise AssertionError(f"the steps path must not fetch whole columns ({name})")


def _write(tmp_path: Path) -> tuple[str, str]:
    rng = np.random.default_rng(11)
    n = 5_000
    base = pd.DataFrame({
        "x": np.round(rng.normal(0, 1, n), 2),        # heavy ties
        "y": rng.lognormal(0, 2, n),                   # heavy tail
        "z": np.where(rng.random(n) < 0.1, np.nan, rng.normal(5, 2, n)),
    })
    cur = pd.DataFrame({
        "x": np.round(rng.normal(0.3, 1, n), 2),
        "y": rng.lognormal(0.2, 2, n),
        "z": np.where(rng.random(n) < 0.3, np.nan, rng.normal(5, 2, n)),
    })
    a, b = tmp_path / "a.parquet", tmp_path / "b.parquet"
    base.to_parquet(a)
    cur.to_parquet(b)
    return str(a), str(b)


def _run(session: files.DuckDBSession, con: object) -> engine.DatasetResult:
    plan = files.plan(con)  # type: ignore[arg-type]
    return engine.compare(session, engine.Source(files.BASELINE), engine.Source(files.CURRENT),
                          plan.specs, Policy())


def test_step_table_path_equals_column_path(tmp_path: Path) -> None:
    """KS, Wasserstein, PSI and verdicts agree exactly between the two read paths."""
    a, b = _write(tmp_path)
    with files.open_files(a, b) as (session, con):
        local = _run(session, con)
        steps = _run(_StepsOnly(con), con)
    assert [f.to_json() for f in local.features] == [f.to_json() for f in steps.features]
    assert local.verdict == steps.verdict
    assert {"x"} <= set(local.drifted_features)
