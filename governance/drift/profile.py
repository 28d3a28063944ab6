"""Baseline profiles: frozen at training time per model version, never recomputed.

A profile keeps, per feature, the kind, row count, null rate and, for numeric features, the
decile bin edges that every later window is binned on (so PSI over time plots one quantity),
plus summary numbers for charts. It is stored in ``governance.model_baselines`` and logged to
the training run in MLflow as ``baseline_profile.json``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from governance.drift import stats
from governance.drift.engine import FeatureSpec, Numeric, Reader, Sample, Source, weighted_mean_std
from governance.errors import DataError
from governance.ledger import canonical_json
from governance.warehouse import Session


@dataclass(frozen=True)
class FeatureProfile:
    """The frozen baseline of one feature.

    Attributes:
        feature: Column name.
        kind: ``numeric``, ``categorical`` or ``boolean``.
        importance: The model's importance for it (``None`` outside models).
        n_rows: Baseline rows.
        null_rate: Share of baseline rows that are null (NaN counts as null).
        edges: Interior PSI bin edges (numeric only), frozen.
        summary: Mean, std, min, max (numeric) or the top categories with counts.
    """

    feature: str
    kind: str
    importance: float | None
    n_rows: int
    null_rate: float
    edges: tuple[float, ...]
    summary: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {**asdict(self), "edges": list(self.edges), "summary": dict(self.summary)}


def build_profile(session: Session, table: str, specs: Sequence[FeatureSpec],
                  top_categories: int = 50) -> list[FeatureProfile]:
    """Profile every feature of ``table`` through the warehouse (counts only)."""
    reader = Reader(session)
    profiles = []
    try:
        for spec in specs:
            source = Source(table)
            if spec.kind == "numeric":
                side = reader.numeric(source, spec.name)
                # A profile is frozen once per model version: the sorted table is affordable
                # and keeps its mean, std and edges exactly as they always were.
                profiles.append(_numeric(spec, side.table() if isinstance(side, Sample)
                                         else side))
            else:
                cat = reader.categorical(source, spec.name)
                ranked = sorted(cat.counts.items(), key=lambda kv: (-kv[1], kv[0]))
                profiles.append(FeatureProfile(
                    spec.name, spec.kind, spec.importance, cat.n_rows,
                    cat.n_null / cat.n_rows if cat.n_rows else 0.0, (),
                    {"categories": dict(ranked[:top_categories]), "distinct": len(ranked)},
                ))
    finally:
        reader.close()
    return profiles


def _numeric(spec: FeatureSpec, side: Numeric) -> FeatureProfile:
    rate = side.n_null / side.n_rows if side.n_rows else 0.0
    if side.n_valid == 0:
        return FeatureProfile(spec.name, spec.kind, spec.importance, side.n_rows, rate, (), {})
    mean, std = weighted_mean_std(side.values, side.counts)
    edges = stats.quantile_edges(side.values, side.counts)
    return FeatureProfile(spec.name, spec.kind, spec.importance, side.n_rows, rate,
                          tuple(float(e) for e in edges),
                          {"mean": mean, "std": std, "min": float(side.values[0]),
                           "max": float(side.values[-1]), "non_finite": side.n_inf})


def store(session: Session, model: str, version: str, run_id: str,
          profiles: Sequence[FeatureProfile], now: datetime) -> None:
    """Freeze the profile of a model version.

    Raises:
        DataError: A profile is already frozen for this version (bins must never move).
    """
    if load(session, model, version):
        raise DataError(f"{model} v{version} already has a frozen baseline profile; "
                        "profiles are written once, at training time")
    for p in profiles:
        session.execute("baselines/insert", {
            "model_name": model, "model_version": version, "run_id": run_id,
            "feature": p.feature, "feature_type": p.kind, "importance": p.importance,
            "n_rows": p.n_rows, "null_rate": p.null_rate,
            "profile": canonical_json(p.to_json()), "created_at": now,
        })


def load(session: Session, model: str, version: str) -> dict[str, FeatureProfile]:
    """The stored profile of a model version, by feature (empty when none was frozen)."""
    out = {}
    for row in session.fetch_rows("baselines/for_version",
                                  {"model_name": model, "model_version": version}):
        doc = json.loads(row["profile"])
        out[row["feature"]] = FeatureProfile(
            doc["feature"], doc["kind"], doc["importance"], doc["n_rows"], doc["null_rate"],
            tuple(doc["edges"]), doc["summary"])
    return out


def to_document(profiles: Sequence[FeatureProfile]) -> str:
    """The profile as the JSON document logged to MLflow."""
    return json.dumps([p.to_json() for p in profiles], indent=2, ensure_ascii=False)
