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

#: Headers and help for :func:`feature_table` in ``st.dataframe`` (values are formatted there).
FEATURE_COLUMNS: Mapping[str, Any] = {
    "feature": st.column_config.Column("feature", pinned=True),
    "status": st.column_config.Column("status", width=64),
    "score": st.column_config.Column(
        "score", width=56, help="largest effect / its drift threshold: 1.0 is drift-sized"),
    "importance": st.column_config.Column("import.", width=60,
                                          help="the model's feature importance"),
    "psi": st.column_config.Column("PSI", width=56, help="population stability index"),
    "w/std": st.column_config.Column("W/std", width=56,
                                     help="Wasserstein distance / baseline std"),
    "js": st.column_config.Column("JS", width=56, help="Jensen-Shannon distance (base 2)"),
    "ks D": st.column_config.Column("KS D", width=56, help="Kolmogorov-Smirnov statistic"),
    "ks p": st.column_config.Column("KS p", width=70),
    "chi2 p": st.column_config.Column("χ² p", width=70),
    "unseen": st.column_config.Column("unseen", width=60,
                                      help="share of rows in categories new since training"),
    "null base": st.column_config.Column("null base", width=66),
    "null now": st.column_config.Column("null now", width=64),
    "reason": st.column_config.Column("reason", help="which effects crossed their threshold"),
}


def _p_value(p: float) -> str:
    # scipy underflows to exactly 0 for huge samples; "0.0e+00" would read as a real zero.
    return "< 1e-300" if p == 0 else f"{p:.1e}"


_FORMATS: dict[str, Any] = {
    "score": "{:.2f}", "importance": "{:.3f}", "psi": "{:.3f}", "w/std": "{:.3f}",
    "js": "{:.3f}", "ks D": "{:.3f}", "ks p": _p_value, "chi2 p": _p_value,
    "unseen": "{:.1%}", "null base": "{:.1%}", "null now": "{:.1%}"}


def table_height(rows: int) -> int:
    """Pixels showing every row of a short table (header + rows), capped for long ones."""
    return min(38 + 35 * rows, 640)


_EFFECTS = {"psi": "PSI", "wasserstein_norm": "W/std", "js": "JS", "unseen_share": "unseen",
            "null_rate_change": "null rate"}


def reason_label(reason: str) -> str:
    """The engine's reason with effect names as the table headers spell them."""
    for name, label in _EFFECTS.items():
        reason = reason.replace(name, label)
    return reason


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
            "importance": r.importance, "psi": t.get("psi"),
            "w/std": t.get("wasserstein_norm"), "js": t.get("js"),
            "ks D": t.get("ks", {}).get("statistic"), "ks p": t.get("ks", {}).get("p_value"),
            "chi2 p": t.get("chi2", {}).get("p_value"), "unseen": t.get("unseen_share"),
            "null base": r.null_rate_baseline, "null now": r.null_rate_current,
            "reason": reason_label(r.reason),
        })
    frame = pd.DataFrame(rows, columns=[
        "feature", "status", "score", "importance", "psi", "w/std", "js", "ks D", "ks p",
        "chi2 p", "unseen", "null base", "null now", "reason"])
    return (frame.style.format(_FORMATS)
            .map(lambda v: _STATUS_STYLE.get(v, ""), subset=["status"]))


def changes(preview: Sequence[FeatureResult], stored: Sequence[FeatureResult]) -> pd.DataFrame:
    """Features whose verdict differs between an ad-hoc preview and the stored results."""
    before = {r.feature: r for r in stored}
    rows = [{"feature": r.feature, "stored": status_label(before[r.feature].status),
             "preview": status_label(r.status)}
            for r in preview if r.feature in before and before[r.feature].status != r.status]
    return pd.DataFrame(rows, columns=["feature", "stored", "preview"])
