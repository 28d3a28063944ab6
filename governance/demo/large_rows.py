"""Row and payload builders for the large demo's synthetic history.

Every document here has the keys the real code writes (the drift monitor's per-feature tests,
the harness metrics, MLflow run tags, UC lineage columns), so the audit, lineage and evidence
code reads synthetic and real rows alike. Values are plausible, not computed from data.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import numpy as np

from governance.demo.large_catalog import METRICS, SyntheticModel
from governance.ledger import canonical_json

_BINS = 10
_ECDF_POINTS = 12
#: Metrics where a larger value is better (the rest: smaller is better).
HISTORY_ACCOUNT = "driftgate-demo-history"
HIGHER_IS_BETTER = frozenset({"accuracy", "auc", "precision_at_k", "r2"})


def hex_id(rng: np.random.Generator, n_bytes: int = 16) -> str:
    """A random lower-case hex id (MLflow run ids are 16 bytes, digests 32)."""
    return rng.bytes(n_bytes).hex()


def record_id(rng: np.random.Generator) -> str:
    """A UUID4 drawn from ``rng`` (deterministic, unlike :func:`uuid.uuid4`)."""
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def rnd(value: float) -> float:
    """Six decimals: plausible precision, shorter JSON."""
    return round(float(value), 6)


_ECDF_BASE = np.linspace(0, 1, _ECDF_POINTS)
_MID = _ECDF_POINTS // 2
_SCORE = {"ok": 0.05, "warn": 0.6, "drift": 1.2}


def _list(values: np.ndarray) -> list[float]:
    return np.round(values, 6).tolist()  # type: ignore[no-any-return]


def feature_tests(rng: np.random.Generator, kind: str, status: str, strength: float
                  ) -> tuple[str, float | None]:
    """The ``tests`` JSON of one drift result and its score, shaped like the monitor's."""
    if status == "insufficient_data":
        return canonical_json({"chart": {}, "reason": "a window has no rows"}), None
    bins = _BINS if kind == "numeric" else 5
    base = rng.dirichlet(np.full(bins, 8.0))
    cur = base if status == "ok" else (1 - strength) * base + strength * rng.dirichlet(
        np.full(bins, 8.0))
    n_cur = int(rng.integers(2_000, 15_000))
    terms = (cur - base) * np.log(np.maximum(cur, 1e-6) / np.maximum(base, 1e-6))
    psi = float(terms.sum())
    reason = {"ok": "", "warn": "psi",
              "drift": "psi, wasserstein_norm" if kind == "numeric" else "psi, js"}[status]
    if kind == "numeric":
        x = np.sort(rng.normal(10, 4, _ECDF_POINTS))
        ec = np.clip(_ECDF_BASE + strength * 0.1 * rng.standard_normal(_ECDF_POINTS), 0, 1)
        ks = float(np.abs(_ECDF_BASE - ec).max())
        tests: dict[str, Any] = {
            "chart": {"baseline": (base * 60_000).astype(int).tolist(),
                      "baseline_mean": 10.0, "baseline_std": 4.0,
                      "current": (cur * n_cur).astype(int).tolist(),
                      "ecdf_baseline": _list(_ECDF_BASE), "ecdf_current": _list(ec),
                      "ecdf_x": _list(x), "edges": _list(x[1:_BINS]),
                      "ks_baseline": rnd(_ECDF_BASE[_MID]), "ks_current": rnd(ec[_MID]),
                      "ks_x": rnd(x[_MID]), "psi_terms": _list(terms)},
            "ks": {"p_value": rnd(np.exp(-40 * ks)), "statistic": rnd(ks)},
            "non_finite": {"baseline": 0, "current": 0}, "psi": rnd(psi), "reason": reason,
            "wasserstein_norm": rnd(ks * 1.3)}
    else:
        kept = (["true", "false"] if kind == "boolean" else ["A", "B", "C"]) + [
            "__other__", "__unseen__"]
        tests = {
            "chart": {"baseline": (base * 60_000).astype(int).tolist(), "categories": kept,
                      "current": (cur * n_cur).astype(int).tolist(),
                      "psi_terms": _list(terms), "unseen_examples": []},
            "chi2": {"p_value": rnd(np.exp(-psi * 400)), "statistic": rnd(psi * n_cur)},
            "js": rnd(np.sqrt(max(psi, 0.0) / 8)), "psi": rnd(psi), "reason": reason,
            "unseen_share": 0.0}
    return canonical_json(tests), rnd(_SCORE[status] * (0.5 + rng.random()))


def metrics(rng: np.random.Generator, model: SyntheticModel, quality: float
            ) -> dict[str, float]:
    """Harness metrics of one model version; ``quality`` near 1 is a good model."""
    noise = 1 + 0.005 * rng.standard_normal()
    if model.task == "classification":
        auc = min(0.99, (0.62 + 0.3 * quality) * noise)
        return {"accuracy": rnd(auc - 0.05), "auc": rnd(auc), "log_loss": rnd(1.05 - auc),
                "precision_at_k": rnd(min(0.99, auc + 0.04))}
    rmse = (2.0 + len(model.name) / 4) * (1.6 - quality) * noise
    return {"mae": rnd(rmse * 0.62), "mape": rnd(0.2 + 0.6 * (1 - quality)),
            "r2": rnd(0.3 + 0.6 * quality), "rmse": rnd(rmse)}


def change(primary: str, champion: float, candidate: float) -> float:
    """Relative change of the primary metric, positive = better (as the harness signs it)."""
    sign = 1.0 if primary in HIGHER_IS_BETTER else -1.0
    return sign * (candidate - champion) / abs(champion)


def verdict(primary: str, champion: float, candidate: float) -> dict[str, Any]:
    """The harness's qualification verdict for a 2% ``max_regression`` rule."""
    moved = change(primary, champion, candidate)
    words = (f"{primary} {candidate:.4g} vs champion {champion:.4g} "
             f"({abs(moved):.1%} {'better' if moved >= 0 else 'worse'})")
    allowed = "response.max_regression allows at most 2% worse"
    ok = moved >= -0.02
    return {"change": moved, "qualifies": ok,
            "reason": f"{'qualifies' if ok else 'does not qualify'}: {words}; {allowed}"}


def hyperparams(model: SyntheticModel) -> dict[str, str]:
    """Logged training parameters for the model's algorithm (MLflow keeps strings)."""
    if model.algorithm in ("xgboost", "lightgbm"):
        return {"colsample_bytree": "0.9", "learning_rate": "0.05", "max_depth": "6",
                "n_estimators": "300", "subsample": "0.9",
                "objective": "binary:logistic" if model.task == "classification"
                else "reg:squarederror"}
    if model.algorithm == "random_forest":
        return {"max_depth": "12", "max_features": "0.6", "min_samples_leaf": "5",
                "n_estimators": "200"}
    return {"regularisation": "0.01", "max_iter": "500"}


def run_row(env: str, experiment: str, run_id: str, name: str, author: str | None,
            start: datetime, seconds: float, params: dict[str, str], tags: dict[str, str],
            scores: dict[str, float]) -> dict[str, Any]:
    """One ``mlflow.runs_latest`` row, as :mod:`governance.mlflow_mirror` writes them."""
    end = datetime.fromtimestamp(start.timestamp() + seconds)
    return {
        # Marks rows the MLflow mirror did not make, so its re-sync keeps them.
        "account_id": HISTORY_ACCOUNT, "update_time": end, "delete_time": None, "workspace_id": env,
        "experiment_id": experiment, "run_id": run_id, "run_name": name,
        "created_by": author or "unknown", "start_time": start, "end_time": end,
        "status": "FINISHED", "params": sorted(params.items()),
        "tags": sorted({**tags, "mlflow.runName": name,
                        **({"mlflow.user": author} if author else {})}.items()),
        "aggregated_metrics": [
            {"metric_name": k, "latest_time": None, "latest_step": 0, "latest_value": v,
             "min_value": v, "max_value": v} for k, v in sorted(scores.items())],
    }


def metric_names(model: SyntheticModel) -> tuple[str, ...]:
    """The harness metrics of the model's task."""
    return METRICS[model.task]


def lineage_rows(rng: np.random.Generator, source: str, target: str, entity_id: str,
                 run_id: str, created_by: str, at: datetime,
                 columns: tuple[str, ...] = ()) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """One ``table_lineage`` row and its ``column_lineage`` rows, as lineage.record writes."""
    sc, ss, sn = source.split(".")
    tc, ts, tn = target.split(".")
    common = {
        "entity_type": "JOB", "entity_id": entity_id, "entity_run_id": run_id,
        "source_table_full_name": source, "source_table_catalog": sc,
        "source_table_schema": ss, "source_table_name": sn, "source_type": "TABLE",
        "target_table_full_name": target, "target_table_catalog": tc,
        "target_table_schema": ts, "target_table_name": tn, "target_type": "TABLE",
        "created_by": created_by, "event_time": at, "event_date": at.date(),
        "event_id": run_id,
    }
    table = {**common, "record_id": record_id(rng)}
    cols = [{**common, "source_column_name": c, "target_column_name": c,
             "record_id": record_id(rng)} for c in columns]
    return table, cols
