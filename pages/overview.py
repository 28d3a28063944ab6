"""Overview: what serves in each environment, since when, signed off by whom."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import audit_components, components, resources

st.title("Overview")
st.caption("Registered models per environment, their champion, who put it there, and the "
           "newest inference window of each production model.")

if st.button("Refresh", icon=":material/refresh:"):
    resources.load_overview.clear()
data = components.guarded(resources.load_overview)
# The chain walk is cached per process and runs in the background on a big ledger, so the
# status never holds the page (the same banner as the Audit page).
audit_components.ledger_status(components.guarded(resources.warehouse))

for env in ("prod", "uat"):
    st.subheader("Production" if env == "prod" else "UAT (non-production)")
    rows = [m for m in data.models if m.environment == env]
    if not rows:
        st.info(f"No registered models in {env}.")
        continue
    st.dataframe(
        pd.DataFrame([{
            "model": m.model_name,
            "champion": m.champion_version or "—",
            "latest version": m.latest_version,
            "versions": m.versions,
            "since (UTC)": m.changed_at,
            "by": m.changed_by or "—",
            "approval": m.approval_id or "—",
            "ledger agrees": "yes" if m.ledger_agrees else "NO: alias moved outside Driftgate",
        } for m in rows]),
        hide_index=True,
        width="stretch",
    )

st.subheader("Drift incidents")
if data.incidents:
    st.dataframe(
        pd.DataFrame([{
            "incident": i.incident_id,
            "model": i.model_name,
            "version": i.model_version,
            "status": i.status,
            "first window": i.first_window,
            "last window": i.last_window,
            "score": i.score,
            "drifted features": ", ".join(i.drifted_features),
        } for i in data.incidents]),
        hide_index=True,
        width="stretch",
    )
    # A plain link to the page's url path: pages also run standalone (AppTest), where a
    # page_link to another file cannot resolve.
    st.markdown("[Open the drift explorer →](drift)")
else:
    st.info("No drift incidents: every monitored window is within its thresholds.")

st.subheader("Latest inference windows (prod)")
st.dataframe(
    pd.DataFrame([{
        "model": w.model_name,
        "window": w.window_date,
        "rows": w.rows,
        "labelled": w.labelled_rows,
        "table": w.table,
    } for w in data.windows]),
    hide_index=True,
    width="stretch",
)
st.caption(f"Workspace: {data.workspace} · schema version {data.schema_version}")
