"""Approvals: review a candidate against the champion, sign it off (or not), promote it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, TypeVar

import pandas as pd
import streamlit as st

from app import components, figures, resources
from app import identity as signin
from governance import approvals, approvals_view, promotion_job
from governance.approvals_view import RequestView
from governance.drift import explore
from governance.drift.policy import Policy, configured_policy
from governance.errors import GovernanceError
from governance.warehouse import Session

T = TypeVar("T")
DIALOG, PROMOTE, OUTCOME = "approvals_dialog", "approvals_promote", "approvals_outcome"
STATE_LABELS = {"pending": "pending", "approved": "approved", "rejected": "rejected",
                "promoting": "promoting", "promoted": "promoted",
                "promotion_failed": "promotion failed"}

st.title("Approvals")
st.caption("Review each candidate against the production champion on the same harness, then "
           "approve or reject it as yourself. An approval is signed into the ledger before the "
           "promotion job moves production's champion.")

settings = components.guarded(resources.settings)
warehouse = components.guarded(resources.warehouse)
policy: Policy = components.guarded(lambda: configured_policy(settings.policy_file))
who = signin.current_identity(settings)
held = signin.roles(who, settings)
configured = signin.sign_in_configured(settings)


def read(load: Callable[[Session], T]) -> T:
    """One short unit of work; a GovernanceError shows its message and fix and stops."""
    return components.guarded(lambda: explore.read(warehouse, load))


def show_error(exc: GovernanceError) -> None:
    """A governance refusal with its fix, never a traceback (in the current container)."""
    message = str(exc).split("\nHow to fix:")[0]
    st.error(f"**{type(exc).__name__}**: {message}", icon=":material/block:")
    if exc.hint:
        st.info(f"How to fix: {exc.hint}", icon=":material/build:")


def close_dialog() -> None:
    """Dismissing the dialog (X, Escape, Cancel) forgets which one was open."""
    st.session_state.pop(DIALOG, None)


@st.dialog("Confirm your decision", on_dismiss=close_dialog)
def confirm(decision: Literal["approve", "reject"], approval_id: str) -> None:
    """Signer (from login, not editable), comment, Confirm: governance decides."""
    signer = signin.current_identity(settings)
    verb = "Approve" if decision == "approve" else "Reject"
    st.markdown(f"**{verb} {approval_id}**")
    if signer is None:
        st.error("You are no longer signed in: log in again.", icon=":material/lock:")
        return
    st.markdown(f"Signing as **{signer.name}** ({signer.email})")
    st.caption(f"Identity from {signer.source} sign-in ({signer.issuer}); it is recorded in "
               "the ledger with your decision.")
    comment = st.text_area(
        "Comment" + (" (required: say why)" if decision == "reject" else " (optional)"),
        key=f"approvals_comment_{decision}_{approval_id}")
    left, right = st.columns(2)
    if right.button("Cancel", key="approvals_cancel", width="stretch"):
        close_dialog()
        st.rerun()
    if not left.button(f"Confirm {decision}", key="approvals_confirm", type="primary",
                       width="stretch"):
        return
    if decision == "reject" and not comment.strip():
        st.error("A rejection needs a comment saying why.", icon=":material/edit_note:")
        return
    regs = components.guarded(resources.mlflow_registries)
    try:
        with st.spinner("Checking and signing…"):
            result = approvals.decide(warehouse, regs["uat"], settings, policy, approval_id,
                                      signer, decision, comment)
    except GovernanceError as exc:
        show_error(exc)
        return
    if result.state == "approved":
        st.session_state[PROMOTE] = approval_id
        st.session_state[OUTCOME] = ("success", f"{approval_id} approved by {signer.email}.")
    elif result.state == "rejected":
        st.session_state[OUTCOME] = ("success", f"{approval_id} rejected by {signer.email}.")
    else:
        st.session_state[OUTCOME] = (
            "info", f"Your signature on {approval_id} is recorded; it needs another approver "
            f"({sum(s.decision == 'approve' for s in result.signatures)} of "
            f"{max(1, policy.response_for(result.model_name).required_approvals)} signed).")
    resources.load_overview.clear()
    close_dialog()
    st.rerun()


def promote(approval_id: str) -> None:
    """Run the promotion job for an approval just signed, with its progress on the page."""
    regs = components.guarded(resources.mlflow_registries)
    with st.status(f"Promoting {approval_id} to production…", expanded=True) as box:
        st.write("The signed decision is in the ledger; the promotion job re-checks it, copies "
                 "the candidate into the prod registry and moves the champion alias last.")
        try:
            done = promotion_job.run(warehouse, regs["uat"], regs["prod"], settings,
                                     approval_id)
        except GovernanceError as exc:
            box.update(label=f"Promotion of {approval_id} failed", state="error")
            show_error(exc)
            return
        version = (done.detail.get("promotion") or {}).get("prod_version")
        st.write(f"{done.model_name}: prod champion is now v{version}.")
        box.update(label=f"{approval_id} promoted: {done.model_name} prod v{version} is "
                   "champion", state="complete", expanded=False)
    resources.load_overview.clear()


def outcome() -> None:
    kind, message = st.session_state.pop(OUTCOME, (None, None))
    if kind == "success":
        st.success(message, icon=":material/task_alt:")
    elif kind is not None:
        st.info(message, icon=":material/info:")


def request_detail(req: RequestView) -> None:
    """Incident, dataset, champion vs candidate, verdict, requester and signatures."""
    st.markdown(f"**{req.approval_id}** · `{req.model_name}` · candidate uat "
                f"v{req.candidate_version} to replace prod v{req.champion_version or '—'} · "
                f"requested by `{req.requested_by}` at {req.requested_at:%Y-%m-%d %H:%M} UTC")
    if req.kind == "rollback" and req.rollback:
        st.warning(f"Rollback request: put prod v{req.rollback.get('to_prod_version')} back in "
                   f"place of v{req.rollback.get('from_prod_version')}. Reason: {req.reason}",
                   icon=":material/undo:")
    if req.incident:
        i = req.incident
        windows = f"{i.windows[0]} to {i.windows[1]}" if i.windows else "—"
        st.markdown(f"**Drift** · incident `{i.incident_id}` · drifted windows {windows} · "
                    f"drifted features: {', '.join(i.drifted_features) or '—'} · score "
                    + ("—" if i.score is None else f"{i.score:.2f}"))
    if req.dataset:
        d = req.dataset
        st.markdown(
            f"**Candidate training set** `{d.table}` · "
            + ("" if d.rows is None else f"{d.rows:,} rows · ")
            + f"digest `{(d.digest or '')[:12]}` · cut-off {d.cutoff} · holdout "
            + (" to ".join(d.holdout) or "—") + f" (`{d.holdout_table}`)")
        if d.sources:
            st.caption("Lineage (sources): " + ", ".join(f"`{s}`" for s in d.sources)
                       + (f" · feature pipeline `{d.feature_pipeline_version}`"
                          if d.feature_pipeline_version else ""))
    if req.comparison:
        c = req.comparison
        st.caption(f"Champion and candidate on the same harness: `{c.harness}` "
                   f"v{c.harness_version}" + ("" if c.n_rows is None
                                             else f", the same {c.n_rows:,} holdout rows")
                   + (f"; `{c.primary_metric}` decides." if c.primary_metric else "."))
        table = pd.DataFrame([{"metric": m.metric, c.champion_label: m.champion,
                               c.candidate_label: m.candidate} for m in c.metrics])
        chart_col, table_col = st.columns([3, 2])
        table_col.dataframe(table, hide_index=True, width="stretch", key="approvals_metrics")
        fig = figures.approval_metrics(c)
        if fig is not None:
            chart_col.plotly_chart(fig, width="stretch", key="approvals_chart")
        if c.verdict:
            (st.success if c.qualifies else st.warning)(f"Policy: {c.verdict}",
                                                        icon=":material/rule:")
    st.markdown(f"**Signatures** · {req.approvals_signed} of {req.required_approvals} "
                "approval(s) required" + (" (four eyes)" if req.required_approvals > 1 else ""))
    if req.signatures:
        st.dataframe(pd.DataFrame([{
            "signer": s.signer, "name": s.name, "decision": s.decision,
            "time (UTC)": s.signed_at, "comment": s.comment, "identity source": s.source,
        } for s in req.signatures]), hide_index=True, width="stretch")
    else:
        st.caption("Nobody has signed yet.")


def decision_controls(req: RequestView) -> None:
    """Approve / Reject for approvers; everyone else sees why not."""
    why_not = approvals_view.cannot_decide(req, who, held, configured)
    if "approver" not in held:
        st.info(why_not or "", icon=":material/lock:")
        return
    if why_not:
        st.warning(why_not, icon=":material/lock:")
    approve_col, reject_col, _ = st.columns([1, 1, 3])
    if approve_col.button("Approve", icon=":material/check:", type="primary",
                          disabled=why_not is not None, key="approvals_approve",
                          width="stretch"):
        st.session_state[DIALOG] = ("approve", req.approval_id)
    if reject_col.button("Reject", icon=":material/close:", disabled=why_not is not None,
                         key="approvals_reject", width="stretch"):
        st.session_state[DIALOG] = ("reject", req.approval_id)


def history_table(rows: list[RequestView]) -> pd.DataFrame:
    """One row per decided request, newest decision first."""
    return pd.DataFrame([{
        "request": r.approval_id, "model": r.model_name,
        "decision": STATE_LABELS.get(r.state, r.state),
        "signed by": ", ".join(f"{s.signer} ({s.decision})" for s in r.signatures)
        or (r.decided_by or "—"),
        "decided (UTC)": r.decided_at, "comment": r.comment or "",
        "promotion": STATE_LABELS.get(r.promotion.state, r.promotion.state)
        if r.promotion else "—",
        "prod version": r.promotion.prod_version if r.promotion else None,
        "error": r.promotion.error if r.promotion else None,
    } for r in rows])


def rollback_form() -> None:
    """Ask to put the previous champion back (itself an approval request)."""
    with st.expander("Request rollback", icon=":material/undo:"):
        models = read(approvals_view.promoted_models)
        if not models:
            st.caption("No model has been promoted yet.")
            return
        model = st.selectbox("Model", models, key="approvals_rollback_model")
        reason = st.text_area("Reason (required)", key="approvals_rollback_reason")
        if st.button("Request rollback", key="approvals_rollback", icon=":material/undo:"):
            regs = components.guarded(resources.mlflow_registries)
            try:
                made = approvals.request_rollback(warehouse, regs["uat"], settings, model, who,
                                                  reason)
            except GovernanceError as exc:
                show_error(exc)
                return
            st.session_state[OUTCOME] = (
                "success", f"Rollback requested: {made.approval_id} (uat v"
                f"{made.candidate_version}) now waits for an independent approver.")
            st.rerun()


# --- the page ------------------------------------------------------------------------------
if who is None:
    st.info("Sign-in is not configured: this page is read-only (see README, Sign-in)."
            if not configured else "You are not signed in: log in to approve or reject.",
            icon=":material/visibility:")
if PROMOTE in st.session_state:
    promote(st.session_state.pop(PROMOTE))
outcome()

st.subheader("Pending requests")
pending = read(lambda s: approvals_view.pending(s, policy))
if not pending:
    st.info("No request is waiting for a decision.", icon=":material/inbox:")
else:
    ids = [r.approval_id for r in pending]
    wanted = st.query_params.get("request")
    chosen_id = st.selectbox(
        "Request", ids, key="approvals_request",
        index=ids.index(wanted) if wanted in ids else 0,
        format_func=lambda a: next(f"{r.approval_id} · {r.model_name} · candidate uat "
                                   f"v{r.candidate_version}" for r in pending
                                   if r.approval_id == a))
    chosen = next(r for r in pending if r.approval_id == chosen_id)
    request_detail(chosen)
    decision_controls(chosen)
# The open dialog lives in session state, so it survives reruns until confirmed or dismissed;
# a request decided meanwhile by someone else gets governance's refusal in the dialog.
opened = st.session_state.get(DIALOG)
if opened and "approver" in held:
    confirm(opened[0], opened[1])

if held & {"data_scientist", "admin"}:
    rollback_form()

st.subheader("History")
done = read(lambda s: approvals_view.history(s, policy))
if done:
    st.dataframe(history_table(done), hide_index=True, width="stretch",
                 key="approvals_history")
else:
    st.caption("No request has been decided yet.")
