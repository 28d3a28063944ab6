"""Display pieces of the audit view: governance dataclasses in, banners and tables out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

from governance.audit import integrity, links, trail
from governance.audit.integrity import LedgerStatus
from governance.audit.trail import TimelineEvent, Trail
from governance.audit.view import LiveVersion, Page, VersionRow
from governance.errors import GovernanceError
from governance.evidence import pack
from governance.identity import Identity
from governance.ledger import LedgerEntry
from governance.settings import Settings
from governance.warehouse import Session, Warehouse

ALL = ""
PACK = "audit_pack"
SORT_LABELS = {"live_from": "live from", "model": "model and version", "approver": "approver",
               "incident": "incident"}
_RED = "color: #B71C1C; font-weight: 600"
_GAP = "background-color: #FDECEA; color: #B71C1C; font-weight: 600"

def ledger_banner(status: LedgerStatus) -> None:
    """Green "intact: N entries, head …" or red "BROKEN at entry N: reason", and how fresh."""
    result = status.verification
    stamp = f"{status.verified_at:%Y-%m-%d %H:%M:%S} UTC"
    if status.cached:
        freshness = (f"Chain walked by {stamp}; its {status.fingerprint[0]:,} rows are unchanged "
                     f"since (SQL content fingerprint checked within the last "
                     f"{integrity.RECHECK_SECONDS:g} s).")
    else:
        freshness = f"Chain walked just now ({stamp}, {status.seconds:.2f} s)."
    if result.intact:
        st.success(f"Ledger intact: {result.entries:,} entries, head `{result.head_hash[:12]}…`",
                   icon=":material/link:")
    else:
        st.error(f"Ledger BROKEN at entry {result.broken_seq}: {result.reason}. Entries from "
                 f"{result.broken_seq} on cannot be trusted; the tables below show what the "
                 "store claims.", icon=":material/link_off:")
    st.caption(freshness)


def ledger_status(warehouse: Warehouse,
                  session: Session | None = None) -> tuple[int, int, str] | None:
    """The ledger's status, never blocking the page: a long walk shows its progress instead.

    ``session`` is the render's unit of work, reused for the fingerprint check.

    Returns:
        The ledger's fingerprint when its status is known (``None`` while a walk runs).
    """
    try:
        result = integrity.check(warehouse, session)
    except GovernanceError as exc:
        show_error(exc)
        return None
    if isinstance(result, integrity.Pending):
        _walking(warehouse)
        return None
    ledger_banner(result)
    return result.fingerprint


@st.fragment(run_every=2)
def _walking(warehouse: Warehouse) -> None:
    """Progress of a background walk, polled on its own; the whole page reruns when done."""
    try:
        result = integrity.check(warehouse)
    except GovernanceError as exc:
        show_error(exc)
        return
    if not isinstance(result, integrity.Pending):
        st.rerun()
    share = min(1.0, result.walked / result.total) if result.total else 0.0
    st.progress(share, text=f"Verifying the ledger chain: {result.walked:,} of about "
                f"{result.total:,} entries walked ({result.seconds:.0f} s). The rest of the "
                "page works meanwhile; the status appears here when the walk is done.")


def show_error(exc: GovernanceError) -> None:
    """A governance refusal with its fix, in place (the rest of the page keeps working)."""
    message = str(exc).split("\nHow to fix:")[0]
    st.error(f"**{type(exc).__name__}**: {message}", icon=":material/error:")
    if exc.hint:
        st.info(f"How to fix: {exc.hint}", icon=":material/build:")


def page_caption(page: Page[Any], noun: str) -> str:
    """``Rows 26–50 of 112 versions · page 2 of 5``."""
    if not page.rows:
        return f"No {noun} on this page ({page.total:,} in total)."
    first = page.offset + 1
    current = page.offset // page.limit + 1
    return (f"Rows {first:,}–{page.offset + len(page.rows):,} of {page.total:,} {noun} · "
            f"page {current:,} of {page.pages:,}")


def _short(digest: Any) -> str:
    return f"{str(digest)[:12]}…" if digest else ""


def _runs(row: VersionRow) -> str:
    def one(env: str, run: Any, status: Any) -> str:
        if not run:
            return f"{env}: no run"
        return f"{env}: {status or 'MISSING'}"
    return (one("uat", row.get("candidate_run_id"), row.get("candidate_run_status")) + " · "
            + one("prod", row.get("prod_run_id"), row.get("prod_run_status")))


def version_label(row: VersionRow) -> str:
    """``basket_propensity v2 · live since 2026-11-27 02:30``."""
    until = f" until {row.live_until:%Y-%m-%d %H:%M}" if row.live_until else " (champion)"
    return f"{row.model_name} v{row.prod_version} · from {row.live_from:%Y-%m-%d %H:%M}{until}"


def versions_table(rows: Sequence[VersionRow],
                   settings: Settings) -> tuple[Styler, Mapping[str, Any]]:
    """The dashboard query's page as a styled table and its column config.

    MLflow link columns appear only when an MLflow UI URL is configured; the gaps column is
    highlighted wherever an auditor would miss something.
    """
    records = []
    for r in rows:
        record: dict[str, Any] = {
            "model": r.model_name, "prod version": r.prod_version, "live from": r.live_from,
            "live until": r.live_until, "champion": r.is_champion, "reason": r.reason,
            "approval": r.approval_id, "approver": r.get("decided_by") or "",
            "decided at": r.get("decided_at"), "incident": r.get("incident_id") or "",
            "drift score": r.get("drift_score"), "training dataset": r.get("training_table"),
            "digest": _short(r.get("dataset_digest")), "metric": r.get("primary_metric"),
            "candidate": r.get("candidate_metric"), "prior champion": r.get("champion_metric"),
            "runs": _runs(r), "gaps": "; ".join(r.gaps),
            "training run": links.run_url(settings, "uat", r.get("candidate_experiment_id"),
                                          r.get("candidate_run_id")),
            "prod version page": links.version_url(settings, "prod", r.model_name,
                                                   r.prod_version),
        }
        records.append(record)
    frame = pd.DataFrame(records, columns=[
        "model", "prod version", "live from", "live until", "champion", "reason", "approval",
        "approver", "decided at", "incident", "drift score", "training dataset", "digest",
        "metric", "candidate", "prior champion", "runs", "gaps", "training run",
        "prod version page"])
    if not frame[["training run", "prod version page"]].notna().any().any():
        frame = frame.drop(columns=["training run", "prod version page"])
    config: dict[str, Any] = {
        "model": st.column_config.Column(pinned=True),
        "prod version": st.column_config.Column("prod v", pinned=True, width=56),
        "live from": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "live until": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "decided at": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm"),
        "champion": st.column_config.CheckboxColumn(help="prod's champion now"),
        "drift score": st.column_config.NumberColumn(format="%.2f"),
        "candidate": st.column_config.NumberColumn(
            format="%.4f", help="the candidate's primary metric on the evaluation holdout"),
        "prior champion": st.column_config.NumberColumn(
            format="%.4f", help="the champion it replaced, same harness, same rows"),
        "runs": st.column_config.Column(help="MLflow status of the training (uat) and import "
                                        "(prod) runs; MISSING: the ledger names a run "
                                        "MLflow does not have"),
        "gaps": st.column_config.Column(help="what an auditor would miss for this version"),
        "training run": st.column_config.LinkColumn(display_text="MLflow run"),
        "prod version page": st.column_config.LinkColumn(display_text="MLflow version"),
    }
    styled = frame.style.map(lambda v: _GAP if v else "", subset=["gaps"]).map(
        lambda v: _RED if "MISSING" in str(v) else "", subset=["runs"])
    return styled, config


def timeline_table(events: Sequence[TimelineEvent]) -> Styler:
    """The trail in words, oldest first, runs of one step condensed; failed steps in red."""
    frame = pd.DataFrame([{
        "seq": f"{e.seq}–{e.last_seq}" if e.last_seq else str(e.seq), "time (UTC)": e.time,
        "step": e.step, "entries": e.count, "by": e.actor, "environment": e.environment,
        "what": e.summary, "failed": e.failed,
    } for e in trail.condense(events)], columns=["seq", "time (UTC)", "step", "entries", "by",
                                                 "environment", "what", "failed"])
    return frame.style.apply(
        lambda row: [_RED if row["failed"] else ""] * len(row), axis=1)


def events_table(entries: Sequence[LedgerEntry]) -> pd.DataFrame:
    """One page of ledger entries with a one-line summary each."""
    return pd.DataFrame([{
        "seq": e.seq, "time (UTC)": e.time, "actor": e.actor, "environment": e.environment,
        "type": e.type, "subject": e.subject, "summary": trail.summarize(e),
    } for e in entries], columns=["seq", "time (UTC)", "actor", "environment", "type",
                                  "subject", "summary"])


def as_of_table(live: Sequence[LiveVersion]) -> pd.DataFrame:
    """One row per model: prod's champion and uat's newest version at the moment, and since."""
    models: dict[str, dict[str, Any]] = {}
    for v in live:
        row = models.setdefault(v.model_name, {"model": v.model_name})
        row[f"{v.environment} version"] = v.version
        row[f"{v.environment} since (UTC)"] = v.since
        if v.environment == "prod":
            row["approval"] = v.approval_id or ""
    return pd.DataFrame(list(models.values()), columns=[
        "model", "prod version", "prod since (UTC)", "approval", "uat version",
        "uat since (UTC)"])


def actor_label(actor: str) -> str:
    """Picker label: "any actor" for the empty choice."""
    return actor or "any actor"


def exported_by(who: Identity | None, configured: bool) -> str:
    """The actor an evidence pack names as its exporter."""
    if who is not None:
        return who.actor
    return "anonymous (not signed in)" if configured else "anonymous (sign-in not configured)"


def evidence_pack(warehouse: Warehouse, story: Trail, who: Identity | None,
                  configured: bool) -> None:
    """"Prepare evidence pack" builds the ZIP (it takes a moment), then offers the download.

    The pack is kept in the session for the story it was built for, so reruns (a filter
    change elsewhere) neither rebuild it nor offer a pack of another version.
    """
    is_incident = story.incident_id is not None and story.subject == story.incident_id
    wanted = ("incident", story.subject) if is_incident else (
        "version", f"{story.model_name}/{story.prod_version}")
    st.markdown(f"**Evidence pack** of {story.subject}")
    if st.button("Prepare evidence pack", key="audit_pack_prepare",
                 icon=":material/inventory_2:"):
        author = exported_by(who, configured)
        try:
            with st.spinner(f"Verifying the ledger and packing {story.subject}…"):
                if is_incident:
                    made = pack.export_incident(warehouse, story.subject, exported_by=author)
                else:
                    made = pack.export_version(warehouse, story.model_name,
                                               str(story.prod_version), exported_by=author)
        except GovernanceError as exc:
            st.session_state.pop(PACK, None)
            show_error(exc)
            return
        st.session_state[PACK] = (wanted, made)
    stored = st.session_state.get(PACK)
    if not stored or stored[0] != wanted:
        st.caption("A ZIP with the timeline, approvals and signer claims, evaluations, drift "
                   "results, dataset digests, lineage and the ledger entries with a proof "
                   "that they chain to the current head.")
        return
    made = stored[1]
    st.download_button(f"Download {made.filename}", data=made.data, file_name=made.filename,
                       mime="application/zip", key="audit_pack_download",
                       icon=":material/download:", on_click="ignore")
    st.caption(f"{made.entries} ledger entries, chained to head #{made.head_seq} "
               f"`{made.head_hash[:12]}…`. Check it offline: `python -m governance evidence "
               f"verify {made.filename}`.")
