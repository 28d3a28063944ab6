"""Shared builders for the drift tests: in-memory comparisons, reference values, demo copies.

Reference values are computed here independently of :mod:`governance.drift.stats`: scipy on the
raw samples, numpy for the quantile bins and a five-line PSI, so a test fails if the engine
feeds the statistics the wrong counts.
"""

from __future__ import annotations

import json
import shutil
import warnings
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa
import pytest
import scipy.stats
from scipy.spatial.distance import jensenshannon

from governance.backends.duckdb import DuckDBSession
from governance.cli import main
from governance.drift import engine
from governance.drift.policy import Policy
from governance.settings import Settings, load_settings
from governance.warehouse import Warehouse, open_warehouse

PSI_EPS = 1e-4
DECILES = np.arange(1, 10) / 10
NUMERIC_TESTS = {"ks", "wasserstein_norm", "psi", "non_finite"}
CATEGORICAL_TESTS = {"chi2", "psi", "js", "unseen_share"}


# --------------------------------------------------------------------------------------------
# In-memory comparisons
# --------------------------------------------------------------------------------------------


def arrow(columns: Mapping[str, Any]) -> pa.Table:
    """A pyarrow table; numpy float arrays keep NaN as a value (not null), lists keep None."""
    return pa.table({name: col if isinstance(col, pa.Array) else pa.array(col)
                     for name, col in columns.items()})


@contextmanager
def tables(baseline: Mapping[str, Any], current: Mapping[str, Any]
           ) -> Iterator[DuckDBSession]:
    """An in-memory DuckDB session holding ``main.baseline`` and ``main.current``."""
    con = duckdb.connect(":memory:")
    try:
        for name, cols in (("baseline", baseline), ("current", current)):
            con.register("_frame", arrow(cols))
            con.execute(f'CREATE TABLE main."{name}" AS SELECT * FROM _frame')
            con.unregister("_frame")
        yield DuckDBSession(con)
    finally:
        con.close()


def compare(baseline: Mapping[str, Any], current: Mapping[str, Any],
            specs: Sequence[engine.FeatureSpec], policy: Policy | None = None,
            **kwargs: Any) -> engine.DatasetResult:
    """Run :func:`engine.compare` on two column dicts."""
    with tables(baseline, current) as session:
        return engine.compare(session, engine.Source("main.baseline"),
                              engine.Source("main.current"), specs, policy or Policy(),
                              **kwargs)


def one(baseline: Any, current: Any, kind: engine.Kind = "numeric",
        policy: Policy | None = None, **kwargs: Any) -> engine.FeatureResult:
    """Compare a single feature ``x`` and return its result."""
    result = compare({"x": baseline}, {"x": current}, [engine.FeatureSpec("x", kind)],
                     policy, **kwargs)
    (feature,) = result.features
    return feature


# --------------------------------------------------------------------------------------------
# Reference values (scipy / numpy on raw samples)
# --------------------------------------------------------------------------------------------


def ref_psi(expected: Sequence[float], actual: Sequence[float]) -> float:
    """PSI with the documented 1e-4 floor on each proportion."""
    e = np.asarray(expected, dtype=float)
    a = np.asarray(actual, dtype=float)
    e = np.maximum(e / e.sum(), PSI_EPS)
    a = np.maximum(a / a.sum(), PSI_EPS)
    return float(np.sum((a - e) * np.log(a / e)))


def ref_edges(baseline: np.ndarray) -> np.ndarray:
    """The baseline decile edges, de-duplicated."""
    return np.unique(np.quantile(baseline, DECILES))


def ref_numeric(baseline: np.ndarray, current: np.ndarray) -> dict[str, Any]:
    """KS, Wasserstein / std(ddof=0) and PSI on decile bins, from scipy and numpy."""
    b = baseline[np.isfinite(baseline)]
    c = current[np.isfinite(current)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # scipy's exact->asymp fallback
        ks = scipy.stats.ks_2samp(b, c)
    edges = ref_edges(b)
    nb = len(edges) + 1
    expected = np.bincount(np.searchsorted(edges, b, side="left"), minlength=nb)
    actual = np.bincount(np.searchsorted(edges, c, side="left"), minlength=nb)
    return {"ks": {"statistic": float(ks.statistic), "p_value": float(ks.pvalue)},
            "wasserstein_norm": float(scipy.stats.wasserstein_distance(b, c) / np.std(b)),
            "psi": ref_psi(expected, actual)}


def ref_vectors(baseline: Sequence[str | None], current: Sequence[str | None],
                max_categories: int = 50) -> tuple[list[str], list[int], list[int]]:
    """Baseline categories (most frequent first, name breaks ties) + other + unseen."""
    cb = Counter(v for v in baseline if v is not None)
    cc = Counter(v for v in current if v is not None)
    ranked = sorted(cb.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = [name for name, _ in ranked[:max_categories]]
    folded = {name for name, _ in ranked[max_categories:]}
    b_vec = [cb[k] for k in kept] + [sum(cb[k] for k in folded), 0]
    c_vec = [cc[k] for k in kept] + [sum(cc[k] for k in folded),
                                     sum(n for k, n in cc.items() if k not in cb)]
    return [*kept, engine.OTHER, engine.UNSEEN], b_vec, c_vec


def ref_categorical(baseline: Sequence[str | None], current: Sequence[str | None],
                    max_categories: int = 50) -> dict[str, Any]:
    """chi2_contingency(correction=False), PSI, JS (base 2) and unseen share over the buckets."""
    _, b_vec, c_vec = ref_vectors(baseline, current, max_categories)
    table = np.array([b_vec, c_vec])
    table = table[:, table.sum(axis=0) > 0]
    chi2 = scipy.stats.chi2_contingency(table, correction=False)
    b = np.array(b_vec, dtype=float)
    c = np.array(c_vec, dtype=float)
    return {"chi2": {"statistic": float(chi2.statistic), "p_value": float(chi2.pvalue)},
            "psi": ref_psi(b, c),
            "js": float(jensenshannon(b / b.sum(), c / c.sum(), base=2)),
            "unseen_share": c_vec[-1] / c.sum()}


def assert_close_tests(expected: Mapping[str, Any], actual: Mapping[str, Any]) -> None:
    """Every expected statistic matches (statistics 1e-12, p-values 1e-9 relative)."""
    for key, want in expected.items():
        got = actual[key]
        if isinstance(want, Mapping):
            assert want["statistic"] == pytest.approx(got["statistic"], rel=1e-12, abs=1e-15)
            assert want["p_value"] == pytest.approx(got["p_value"], rel=1e-9, abs=1e-300)
        else:
            assert want == pytest.approx(got, rel=1e-9, abs=1e-15), key


# --------------------------------------------------------------------------------------------
# CLI and JSON
# --------------------------------------------------------------------------------------------


def reject_constant(name: str) -> Any:
    """json.loads hook: NaN/Infinity are not JSON."""
    raise AssertionError(f"non-standard JSON constant {name} in the output")


def parse_json(text: str) -> Any:
    """Parse strict JSON (NaN and Infinity rejected)."""
    return json.loads(text, parse_constant=reject_constant)


@dataclass(frozen=True)
class CliRun:
    """Exit code and captured output of one in-process CLI run."""

    code: int
    out: str
    err: str


def runner(capsys: pytest.CaptureFixture[str]) -> Callable[..., CliRun]:
    """A function running ``python -m governance ...`` in-process and capturing its output."""

    def run(*args: object) -> CliRun:
        capsys.readouterr()
        code = main([str(a) for a in args])
        captured = capsys.readouterr()
        return CliRun(code, captured.out, captured.err)

    return run


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliRun]:
    """Run the CLI in-process from an empty working folder (no stray secrets.toml)."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return runner(capsys)


# --------------------------------------------------------------------------------------------
# Demo workspace copies
# --------------------------------------------------------------------------------------------


def workspace_file(settings: Settings) -> Path:
    """The DuckDB file of a workspace."""
    return settings.home / "warehouse" / "workspace.duckdb"


def read_demo(settings: Settings, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """Run a read-only query on a workspace (safe on the shared demo)."""
    with duckdb.connect(str(workspace_file(settings)), read_only=True) as con:
        return con.execute(query, list(params)).fetchall()


@dataclass(frozen=True)
class DemoCopy:
    """A private copy of the demo workspace, with GOV_HOME pointing at it."""

    settings: Settings

    @property
    def warehouse(self) -> Warehouse:
        """The copy's warehouse."""
        return open_warehouse(self.settings)

    def sql(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run raw SQL on the copy (tests tamper with stored results this way)."""
        with duckdb.connect(str(workspace_file(self.settings))) as con:
            cur = con.execute(query, list(params))
            return cur.fetchall() if cur.description else []

    def scalar(self, query: str, params: Sequence[Any] = ()) -> Any:
        """First column of the first row."""
        return self.sql(query, params)[0][0]


@pytest.fixture
def demo_copy(demo_settings: Settings, tmp_path: Path,
              monkeypatch: pytest.MonkeyPatch) -> DemoCopy:
    """Copy the shared demo home (never written) and point GOV_HOME at the copy."""
    home = tmp_path / "home"
    shutil.copytree(demo_settings.home, home)
    monkeypatch.setenv("GOV_HOME", str(home))
    return DemoCopy(load_settings({"GOV_HOME": str(home)}, {}))
