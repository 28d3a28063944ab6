"""Display tables and labels for the drift explorer: governance dataclasses in, display out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from governance.drift.engine import FeatureResult
from governance.drift.explore import WindowSummary

STATUS_LABELS = {
    "drift": "DRIFT", "warn": "warn", "ok": "ok", "constant": "constant",
    "insufficient_data": "too few rows", "all_null": "all null",
    "schema_missing": "SCHEMA: missing", "schema_type_changed": "SCHEMA: type changed",
}
_STATUS_STYLE = {"DRIFT": "color: #B71C1C; font-weight: 700", "warn": "color: #9A6700",
                 "SCHEMA: missing": "color: #B71C1C", "SCHEMA: type changed": "color: #B71C1C"}

#: Column formats for :func:`feature_table` in ``st.dataframe``.
FEATURE_COLUMNS: Mapping[str, Any] = {
    "score": st.column_config.NumberColumn(
        "score", format="%.2f", help="largest effect / its drift threshold: 1.0 is drift-sized"),
    "importance": st.column_config.NumberColumn("importance", format="%.3f"),
    "psi": st.column_config.NumberColumn("PSI", format="%.3f"),
    "w/std": st.column_config.NumberColumn(
        "W/std", format="%.3f", help="Wasserstein distance / baseline std"),
    "js": st.column_config.NumberColumn("JS", format="%.3f", help="Jensen-Shannon distance"),
    "ks D": st.column_config.NumberColumn("KS D", format="%.3f"),
    "ks p": st.column_config.NumberColumn("KS p", format="%.2e"),
    "chi2 p": st.column_config.NumberColumn("χ² p", format="%.2e"),
    "unseen": st.column_config.NumberColumn("unseen share", format="percent"),
    "null base": st.column_config.NumberColumn("null % base", format="percent"),
    "null now": st.column_config.NumberColumn("null % now", format="percent"),
    "rows now": st.column_config.NumberColumn("rows now", format="localized"),
}


def status_label(status: str) -> str:
    """Short text badge of a feature verdict (capitals where action is needed)."""
    return STATUS_LABELS.get(status, status)


def window_label(summary: WindowSummary | None, start: date, end: date) -> str:
    """``2026-10-05 → 10-11 · DRIFT · 4/12 drifted`` (or ``not checked yet``)."""
    span = f"{start.isoformat()} → {end:%m-%d}"
    if summary is None:
        return f"{span} · not checked yet"
    return (f"{span} · {status_label(summary.verdict)} · "
            f"{summary.n_drift}/{summary.n_features} drifted")


def feature_table(results: Sequence[FeatureResult]) -> Styler:
    """One row per feature in the given order, with the key test values and a status badge."""
    rows = []
    for r in results:
        t = r.tests
        rows.append({
            "feature": r.feature, "status": status_label(r.status), "score": r.score,
            "type": r.type, "importance": r.importance, "psi": t.get("psi"),
            "w/std": t.get("wasserstein_norm"), "js": t.get("js"),
            "ks D": t.get("ks", {}).get("statistic"), "ks p": t.get("ks", {}).get("p_value"),
            "chi2 p": t.get("chi2", {}).get("p_value"), "unseen": t.get("unseen_share"),
            "null base": r.null_rate_baseline, "null now": r.null_rate_current,
            "rows now": r.n_current, "reason": r.reason,
        })
    frame = pd.DataFrame(rows, columns=[
        "feature", "status", "score", "type", "importance", "psi", "w/std", "js", "ks D", "ks p",
        "chi2 p", "unseen", "null base", "null now", "rows now", "reason"])
    return frame.style.map(lambda v: _STATUS_STYLE.get(v, ""), subset=["status"])


def changes(preview: Sequence[FeatureResult], stored: Sequence[FeatureResult]) -> pd.DataFrame:
    """Features whose verdict differs between an ad-hoc preview and the stored results."""
    before = {r.feature: r for r in stored}
    rows = [{"feature": r.feature, "stored": status_label(before[r.feature].status),
             "preview": status_label(r.status)}
            for r in preview if r.feature in before and before[r.feature].status != r.status]
    return pd.DataFrame(rows, columns=["feature", "stored", "preview"])
