"""Lineage: from raw tables through features and training sets to model versions in uat and prod."""

from __future__ import annotations

import streamlit as st

from app import components, lineage_figures, resources
from governance import lineage_columns, lineage_graph

ALL = "All models"

st.title("Lineage")
st.caption("Where each model version's data comes from: Unity Catalog table and column lineage "
           "up to the raw tables, and the model versions the ledger records as trained on "
           "them and promoted from uat to prod. Click a node (or pick it below) for details.")

warehouse = components.guarded(resources.warehouse)
graph = components.guarded(resources.load_lineage)
if graph.empty:
    st.info("No lineage recorded yet: no table lineage rows and no trained or promoted model "
            "versions in the ledger. Seed the demo with `python -m governance demo`.",
            icon=":material/info:")
    st.stop()

scope = st.selectbox("Model", [ALL, *graph.models], key="lineage_model")
view = graph if scope == ALL else lineage_graph.for_model(graph, scope)
slug = "all" if scope == ALL else scope

if view.cycles:
    st.warning(f"**Lineage has {len(view.cycles)} cycle(s).** A table is recorded as written "
               "from itself or from its own output; each loop is drawn once, in red, and "
               "never followed twice:\n\n"
               + "\n".join(f"- {c.describe()}" for c in view.cycles),
               icon=":material/sync_problem:")
if scope != ALL and not any(n.kind in (lineage_graph.RAW, lineage_graph.FEATURE)
                            for n in view.nodes):
    st.warning(f"{scope} has no upstream table lineage: none of its versions leads back to a "
               "recorded table. See the completeness report below.", icon=":material/link_off:")

positions = lineage_graph.layout(view)
picked_key = f"lineage_node_{slug}"
event = st.plotly_chart(
    lineage_figures.graph_figure(view, positions, st.session_state.get(picked_key)),
    on_select="rerun", selection_mode="points", key=f"lineage_graph_{slug}", width="stretch")
clicked = lineage_figures.clicked_node(event)
# The chart keeps its selection across reruns: apply a click once, so picking another node in
# the selectbox afterwards is not overridden by the same old click.
if clicked and view.node(clicked) and clicked != st.session_state.get(f"{picked_key}_click"):
    st.session_state[f"{picked_key}_click"] = clicked
    st.session_state[picked_key] = clicked

st.subheader("Node details")
ids = [n.id for n in view.nodes]
chosen = st.selectbox("Node", ids, key=picked_key,
                      format_func=lambda i: f"{i} · {view.node(i).kind_label}")  # type: ignore[union-attr]
node = view.node(chosen)
if node is not None:
    st.dataframe(lineage_figures.detail_rows(node), hide_index=True, width="stretch",
                 key="lineage_details")

st.subheader("Column lineage")
models = [scope] if scope != ALL else list(graph.models)
if not models:
    st.info("No model version is recorded yet, so there is no feature to trace.",
            icon=":material/info:")
else:
    left, right = st.columns(2)
    model = left.selectbox("Model of the feature", models, key="lineage_feature_model",
                           disabled=scope != ALL)
    features = components.guarded(
        lambda: lineage_columns.read_features(warehouse, graph, model))
    feature = right.selectbox("Feature", features, key=f"lineage_feature_{model}")
    if feature is None:
        st.info(f"No feature of {model} is registered or has column lineage.",
                icon=":material/info:")
    else:
        columns = components.guarded(
            lambda: lineage_columns.read_column_lineage(warehouse, graph, model, feature))
        if columns.empty:
            st.info(f"No column lineage is recorded for {model}.{feature}.",
                    icon=":material/info:")
        else:
            if columns.cycles:
                st.warning("Column lineage cycles: "
                           + "; ".join(c.describe() for c in columns.cycles),
                           icon=":material/sync_problem:")
            if columns.truncated:
                st.warning("Column lineage stopped at "
                           f"{lineage_columns.MAX_COLUMNS:,} columns.", icon=":material/warning:")
            st.plotly_chart(lineage_figures.column_figure(columns,
                                                          lineage_columns.layout(columns)),
                            key=f"lineage_columns_{model}_{feature}", width="stretch")
            st.caption("Comes from: " + ", ".join(f"`{c}`" for c in columns.raw_columns))
            st.dataframe(lineage_figures.column_rows(columns), hide_index=True, width="stretch",
                         key="lineage_column_table")

st.subheader("Completeness")
gaps = lineage_graph.completeness(view)
if gaps:
    st.error(f"{len(gaps)} model version(s) have no upstream lineage to a raw table.",
             icon=":material/link_off:")
    st.dataframe(lineage_figures.gap_rows(gaps), hide_index=True, width="stretch",
                 key="lineage_gaps")
else:
    st.success("Every model version here traces back to at least one raw table.",
               icon=":material/verified:")
