"""The drift response panel of the drift page: incident, steps, champion vs candidate, and the
"Prepare candidate" button (progress in an ``st.status``, never a frozen page)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from app import components, identity, resources
from governance.drift import explore
from governance.drift.policy import configured_policy
from governance.errors import GovernanceError
from governance.response import pipeline, state, view
from governance.warehouse import Warehouse

# What each response step means to a data scientist, in order.
STEP_LABELS = {
    "started": "started", "refresh_staged": "training data refreshed and validated",
    "candidate_trained": "candidate trained", "candidate_evaluated": "candidate evaluated",
    "approval_requested": "approval requested", "not_qualified": "candidate did not qualify",
}
FAILED_LABELS = {"refresh": "refresh failed", "train": "training failed",
                 "evaluate": "evaluation failed", "request": "request failed"}
# Until sign-in exists, a person pressing the button is recorded as exactly that.
UNAUTHENTICATED = "ui:unauthenticated"


def requester() -> str:
    """Who presses the button: the signed-in user (``user:<email>``), else an explicit unknown."""
    who = identity.current_identity()
    return who.actor if who is not None else UNAUTHENTICATED


def render(model: str) -> None:
    """Show ``model``'s newest incident and its response, with the button to run it."""
    warehouse = components.guarded(resources.warehouse)
    shown = components.guarded(lambda: _read(warehouse, model))
    if shown is None:
        return
    st.subheader("Drift response")
    st.markdown(f"**{shown.incident_id}** · status `{shown.status}` · drifted windows "
                f"{shown.windows[0]} to {shown.windows[1]}"
                + (f" · drifted: {', '.join(shown.drifted_features)}"
                   if shown.drifted_features else ""))
    if shown.can_run:
        who = requester()
        if who == UNAUTHENTICATED:
            st.caption("You are not signed in: a request you start is recorded as "
                       f"`{UNAUTHENTICATED}`.")
        slot = st.empty()
        if slot.button("Prepare candidate", icon=":material/model_training:",
                     key=f"prepare_{shown.incident_id}",
                     help="Refresh the training data, retrain and evaluate a candidate in UAT, "
                     "then open an approval request. Production is never touched."):
            _run(shown.incident_id, who)
            # Show what the run left, not what was there before the click.
            shown = components.guarded(lambda: _read(warehouse, model)) or shown
            if not shown.can_run:
                slot.empty()
    _details(shown)


def _details(shown: view.ResponseView) -> None:
    r = shown.response
    step = "not started" if r is None else STEP_LABELS[r.step]
    if r is not None and r.failed_step:
        step = f"{FAILED_LABELS[r.failed_step]} (last completed: {STEP_LABELS[r.step]})"
    progress_col, candidate = st.columns([2, 1])
    progress_col.metric("Response", step)
    candidate.metric("Candidate (uat)", f"v{r.candidate_version}" if r and r.candidate_version
                     else "—")
    if r is not None and r.problems:
        box = st.error if r.failed_step else st.warning
        box("\n".join(f"- {p}" for p in r.problems), icon=":material/report:")
    if r is not None and r.dataset_table:
        st.caption(f"Candidate training set `{r.dataset_table}` ({r.dataset_rows:,} rows, "
                   f"digest `{str(r.dataset_digest)[:12]}`), cut-off {r.cutoff}; holdout "
                   f"`{r.holdout_table}`." + (f" Approval request **{r.approval_id}** is "
                                              "pending." if r.approval_id else ""))
    if shown.evaluations:
        e = shown.evaluations[0]
        st.caption(f"Champion and candidate on the same harness: `{e.harness}` "
                   f"v{e.harness_version}, the same {e.n_rows:,} holdout rows.")
        st.dataframe(_metrics_table(shown.evaluations), hide_index=True, width="stretch")
    if shown.verdict:
        (st.success if shown.qualifies else st.warning)(
            f"Policy: {shown.verdict}", icon=":material/rule:")


def _read(warehouse: Warehouse, model: str) -> view.ResponseView | None:
    return explore.read(warehouse, lambda s: view.for_model(s, model))


def _metrics_table(evaluations: tuple[view.Evaluation, ...]) -> pd.DataFrame:
    """Champion first, then candidate, one row per harness metric."""
    ordered = sorted(evaluations, key=lambda e: e.role != "champion")
    table = pd.DataFrame({f"{e.role} ({e.environment} v{e.model_version})": e.metrics
                          for e in ordered})
    table.insert(0, "metric", table.index)
    return table.reset_index(drop=True)


def _run(incident_id: str, who: str) -> None:
    regs = components.guarded(resources.mlflow_registries)
    warehouse = components.guarded(resources.warehouse)
    with st.status(f"Preparing a candidate for {incident_id} in UAT…", expanded=True) as box:
        bar = st.progress(0.0, text="starting…")
        order = list(state.STEPS)

        def progress(line: str) -> None:
            st.write(line)
            done = [s for s in order if line.endswith(s.replace("_", " "))]
            if done:
                bar.progress(min(1.0, (order.index(done[0]) + 1) / 5), text=line)

        try:
            outcome = pipeline.respond(warehouse, regs["uat"], regs["prod"], incident_id,
                                       policy=components.guarded(lambda: configured_policy(
                                           resources.settings().policy_file)),
                                       requested_by=who, progress=progress)
        except GovernanceError as exc:
            box.update(label=f"Could not run: {exc}", state="error")
            return
        if outcome.ok:
            box.update(label=f"{incident_id}: {STEP_LABELS[outcome.step]}", state="complete",
                       expanded=False)
        else:
            box.update(label=f"{incident_id}: {FAILED_LABELS[str(outcome.failed_step)]}",
                       state="error")
    resources.load_overview.clear()
