"""Drift explorer: which inputs of a production model moved, when, and how."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import TypeVar

import streamlit as st

from app import components, figures, resources, response_panel, tables
from governance.drift import explore
from governance.drift.engine import DatasetResult, FeatureResult
from governance.errors import GovernanceError
from governance.warehouse import Session

T = TypeVar("T")

st.title("Drift explorer")
st.caption("Per-feature drift of each production model's inference log against the training "
           "data frozen with its champion version, week by week, as stored by the monitor.")

warehouse = components.guarded(resources.warehouse)


def read(load: Callable[[Session], T]) -> T:
    """One short unit of work; a GovernanceError shows its message and fix and stops."""
    return components.guarded(lambda: explore.read(warehouse, load))


def preselect(options: Sequence[object], wanted: object) -> int:
    """Index of a deep-linked value (``?model=...``), else the first option."""
    return next((i for i, o in enumerate(options) if str(o) == wanted), 0)


models = read(explore.monitored_models)
if not models:
    st.info("No production model to monitor yet: promote one, then run "
            "`python -m governance monitor run`.", icon=":material/info:")
    st.stop()
pick_model, pick_window = st.columns([1, 2])
model = pick_model.selectbox("Model", models, key="drift_model",
                             index=preselect(models, st.query_params.get("model")))
summaries = read(lambda s: explore.windows(s, model))
unchecked = read(lambda s: explore.unchecked_windows(s, model))
ends = {w.start: w.end for w in summaries} | dict(unchecked)
starts = sorted(ends, reverse=True)
if not starts:
    st.info(f"{model}'s inference log has no complete week yet.", icon=":material/info:")
    st.stop()
start: date = pick_window.selectbox(
    "Window (newest first)", starts, key=f"drift_window_{model}",
    index=preselect(starts, st.query_params.get("window")),
    format_func=lambda d: tables.window_label(explore.window_of(summaries, d), d, ends[d]))
window, summary = (start, ends[start]), explore.window_of(summaries, start)
stored = [s.result for s in read(lambda s: explore.feature_results(s, model, start))]

response_panel.render(model)

verdict, drifted, worst, check = st.columns([1, 1, 1, 1.4], vertical_alignment="bottom")
if summary:
    verdict.metric("Window verdict", tables.status_label(summary.verdict),
                   help="From the stored feature verdicts, by the built-in dataset rule "
                   "(share of drifted features, or one important feature drifted).")
    drifted.metric("Drifted features", f"{summary.n_drift} of {summary.n_features}")
    worst.metric("Worst score", "—" if summary.max_score is None else f"{summary.max_score:.2f}")
else:
    verdict.metric("Window verdict", "not checked")
clicked = check.button("Check now", icon=":material/play_arrow:", width="stretch",
                       help="Run the drift tests on this window now. A preview: nothing is "
                       "stored; the monitor stores results on its own schedule.")

previews: dict[tuple[str, date], DatasetResult] = st.session_state.setdefault("drift_previews", {})
if clicked:
    with st.status(f"Checking {model}, week of {start} (preview, not stored)…",
                   expanded=True) as status:
        bar = st.progress(0.0, text="reading the baseline and the window…")

        def progress(result: FeatureResult, done: int, total: int) -> None:
            bar.progress(done / total, text=f"{done} of {total} features tested")
            st.write(f"`{result.feature}` ({result.type}): **{tables.status_label(result.status)}**"
                     + ("" if result.score is None else f", score {result.score:.2f}"))

        def run_check() -> DatasetResult:
            try:
                return explore.check_now(warehouse, model, window, progress=progress)
            except GovernanceError:
                status.update(label="Check failed", state="error")
                raise

        previews[(model, start)] = components.guarded(run_check)
        status.update(state="complete", expanded=False, label=(
            f"Preview of week {start}: {tables.status_label(previews[(model, start)].verdict)}"
            " (not stored)"))
    st.session_state["drift_source"] = "ad-hoc preview"

preview = previews.get((model, start))
if preview is not None:
    same = summary is not None and summary.verdict == preview.verdict
    st.info(f"Ad-hoc preview (not stored): **{tables.status_label(preview.verdict)}**, "
            f"{len(preview.drifted_features)} of {len(preview.features)} features drifted"
            + ("; same verdict as stored." if same else "."), icon=":material/preview:")
    if stored and not (diff := tables.changes(preview.features, stored)).empty:
        st.dataframe(diff, hide_index=True)

source = "stored"
if preview is not None and stored:
    st.session_state.setdefault("drift_source", "stored")
    source = st.segmented_control("Show", ["stored", "ad-hoc preview"], key="drift_source") \
        or "stored"
use_preview = preview is not None and (source == "ad-hoc preview" or not stored)
results = explore.ranked(preview.features) if preview is not None and use_preview else stored
if not results:
    st.info("The monitor has not checked this window yet. **Check now** previews it.",
            icon=":material/info:")
    st.stop()

st.subheader("Features" + (" (ad-hoc preview, not stored)" if use_preview else ""))
st.dataframe(tables.feature_table(results), column_config=tables.FEATURE_COLUMNS,
             hide_index=True, width="stretch", height=tables.table_height(len(results)),
             placeholder="–")
st.caption(f"{max(r.n_current for r in results):,} rows in this window, "
           f"{max(r.n_baseline for r in results):,} in the training baseline. "
           "Tests that do not apply to a feature's type are blank (–).")

grid = read(lambda s: explore.heatmap(s, model))
if grid.features:
    st.plotly_chart(figures.heatmap(grid), width="stretch", key="drift_heatmap")

st.subheader("Feature detail")
names = [r.feature for r in results]
feature = st.selectbox("Feature (highest score first)", names, key=f"drift_feature_{model}",
                       index=preselect(names, st.query_params.get("feature")))
chosen = next(r for r in results if r.feature == feature)
st.markdown(f"**{feature}** · {chosen.type} · **{tables.status_label(chosen.status)}**"
            + (f" · {tables.reason_label(chosen.reason)}" if chosen.reason else "")
            + ("" if chosen.importance is None else f" · importance {chosen.importance:.3f}"))
charts = figures.detail_figures(chosen)
if not charts:
    st.info(f"No distribution to draw: {tables.status_label(chosen.status)}"
            + (f" ({chosen.reason})." if chosen.reason else "."), icon=":material/info:")
if feature in grid.features:
    past = read(lambda s: explore.history(s, model, feature))
    metric = "psi" if chosen.type == "numeric" else "js"
    charts += [f for f in (figures.score_history(past), figures.metric_history(past, metric),
                           figures.null_rate_history(past)) if f is not None]
for i in range(0, len(charts), 2):
    for j, (column, fig) in enumerate(zip(st.columns(2), charts[i:i + 2], strict=False)):
        column.plotly_chart(fig, width="stretch", key=f"drift_chart_{i + j}")
