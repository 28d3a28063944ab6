"""Audit: which version served, why, on what data, who signed it off, and is the record intact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import TypeVar

import streamlit as st

from app import audit_components as ui
from app import audit_figures, components, resources
from app import identity as signin
from governance.audit import export, selection, trail, view
from governance.audit.view import AuditFilter
from governance.drift import explore
from governance.errors import GovernanceError
from governance.warehouse import Session

T = TypeVar("T")

st.title("Audit")
st.caption("Every production model version with the incident, data, evaluation and sign-off "
           "behind it; each version's or incident's story from the ledger; the ledger itself; "
           "and what was live at any moment.")

settings = components.guarded(resources.settings)
warehouse = components.guarded(resources.warehouse)
who = signin.current_identity(settings)


def read(load: Callable[[Session], T]) -> T:
    """One short unit of work; a GovernanceError shows its message and fix and stops."""
    return components.guarded(lambda: explore.read(warehouse, load))


def attempt(load: Callable[[Session], T]) -> T | None:
    """Like :func:`read`, but a refusal is shown in place and the rest of the page goes on."""
    try:
        return explore.read(warehouse, load)
    except GovernanceError as exc:
        ui.show_error(exc)
        return None


def deferred(build: Callable[[Session], bytes]) -> Callable[[], bytes]:
    """A download built only when clicked, in its own unit of work."""
    return lambda: explore.read(warehouse, build)


ui.ledger_status(warehouse)

# --- filters (sidebar): every one is a SQL parameter -----------------------------------------
facets = read(view.facets)
side = st.sidebar
side.subheader("Filter the audit view")
models = [ui.ALL, *facets.models]
wanted = st.query_params.get("model")
model = side.selectbox("Model", models, key="audit_model",
                       index=models.index(wanted) if wanted in models else 0,
                       format_func=lambda m: m or "all models")
environment = side.selectbox("Environment (events)", [ui.ALL, "prod", "uat", "global"],
                             key="audit_environment", format_func=lambda e: e or "all")
event_type = side.selectbox("Event type (events)", [ui.ALL, *facets.event_types],
                            key="audit_event_type", format_func=lambda t: t or "all types")
actor = side.selectbox("Actor", [ui.ALL, *facets.actors], key="audit_actor",
                       format_func=ui.actor_label)
since = side.date_input("From (UTC)", value=None, key="audit_since")
until = side.date_input("Until (UTC, inclusive)", value=None, key="audit_until")
search = side.text_input("Search", key="audit_search",
                         placeholder="approval, incident, run id, digest, comment…")
sort = side.selectbox("Sort versions by", list(ui.SORT_LABELS), key="audit_sort",
                      format_func=ui.SORT_LABELS.__getitem__)
descending = side.radio("Order", ["descending", "ascending"], key="audit_order",
                        horizontal=True) == "descending"
size = side.selectbox("Rows per page", [10, 25, 50, 100], index=1, key="audit_page_size")

try:
    where = AuditFilter(model=model, environment=environment, event_type=event_type,
                        actor=actor, search=search, since=since, until=until)
except GovernanceError as exc:
    ui.show_error(exc)
    st.stop()

versions_tab, events_tab, as_of_tab = st.tabs(["Model versions", "Events", "As of"])

# --- model versions: the single dashboard query ------------------------------------------------
with versions_tab:
    pager, about = st.columns([1, 6], vertical_alignment="bottom")
    number = pager.number_input("Page", min_value=1, step=1, key="audit_versions_page")
    versions = read(lambda s: view.model_versions(
        s, where, sort=sort, descending=descending, offset=(number - 1) * size, limit=size))
    about.caption(ui.page_caption(versions, "production versions")
                  + " · environment and event type filter the Events tab only")
    if versions.rows:
        table, columns = ui.versions_table(versions.rows, settings)
        st.dataframe(table, column_config=columns, hide_index=True, width="stretch",
                     key="audit_versions")
    elif versions.total:
        st.warning(f"Page {number} is past the end: {versions.pages} page(s) at this size.",
                   icon=":material/last_page:")
    else:
        st.info("No production version matches the filters.", icon=":material/filter_alt_off:")
    st.download_button(
        "Download CSV (every matching version)", key="audit_versions_csv",
        data=deferred(lambda s: export.versions_csv(s, where, sort=sort,
                                                    descending=descending)),
        file_name=export.filename("versions", where, datetime.now(UTC)), mime="text/csv",
        icon=":material/download:", on_click="ignore")

    st.subheader("Timeline")
    kind_col, pick_col = st.columns([1, 3], vertical_alignment="bottom")
    kind = kind_col.segmented_control("Story of a", ["version", "incident"], default="version",
                                      key="audit_trail_kind")
    chosen_trail: trail.Trail | None = None
    gaps: tuple[str, ...] = ()
    if kind == "incident":
        found = {i.incident_id: i for i in read(lambda s: selection.incidents(s, model))}
        incident = pick_col.selectbox("Incident", list(found), key="audit_incident",
                                format_func=lambda i: found[i].label())
        if incident is not None:
            chosen_trail = attempt(lambda s: trail.incident_trail(s, incident))
    else:
        on_page = {f"{r.model_name}/{r.prod_version}": r for r in versions.rows}
        picked = pick_col.selectbox("Version (from this page)", list(on_page),
                                    key="audit_version",
                                    format_func=lambda k: ui.version_label(on_page[k]))
        if picked is not None:
            row = on_page[picked]
            chosen_trail = attempt(lambda s: trail.version_trail(s, row.model_name,
                                                                 row.prod_version))
    if chosen_trail is not None and chosen_trail.prod_version:
        story = chosen_trail
        promoted = read(lambda s: selection.version_row(s, story.model_name,
                                                        str(story.prod_version)))
        gaps = promoted.gaps if promoted else ()
    if chosen_trail is None:
        st.caption("Pick a version or an incident to see its story.")
    else:
        for gap in gaps:
            st.warning(f"Gap in {chosen_trail.subject}: {gap}", icon=":material/report:")
        steps = chosen_trail.timeline
        figure = audit_figures.timeline(steps, f"Story of {chosen_trail.subject}")
        if figure is not None:
            st.plotly_chart(figure, width="stretch", key="audit_timeline_chart")
        st.dataframe(ui.timeline_table(steps), hide_index=True, width="stretch",
                     key="audit_timeline")
        ui.evidence_pack(warehouse, chosen_trail, who, signin.sign_in_configured(settings))

# --- events: the ledger, filtered --------------------------------------------------------------
with events_tab:
    counts = read(lambda s: view.event_counts(s, where))
    chart = audit_figures.event_counts(counts)
    if chart is not None:
        st.plotly_chart(chart, width="stretch", key="audit_counts_chart")
        st.caption("Counts cover the date range only; the table below applies every filter.")
    pager, about = st.columns([1, 6], vertical_alignment="bottom")
    number = pager.number_input("Page", min_value=1, step=1, key="audit_events_page")
    entries = read(lambda s: view.events(s, where, descending=descending,
                                         offset=(number - 1) * size, limit=size))
    about.caption(ui.page_caption(entries, "ledger entries"))
    if entries.rows:
        st.dataframe(ui.events_table(entries.rows), hide_index=True, width="stretch",
                     key="audit_events")
    elif entries.total:
        st.warning(f"Page {number} is past the end: {entries.pages} page(s) at this size.",
                   icon=":material/last_page:")
    else:
        st.info("No ledger entry matches the filters.", icon=":material/filter_alt_off:")
    st.download_button(
        "Download CSV (every matching entry)", key="audit_events_csv",
        data=deferred(lambda s: export.events_csv(s, where, descending=descending)),
        file_name=export.filename("events", where, datetime.now(UTC)), mime="text/csv",
        icon=":material/download:", on_click="ignore")

# --- as of: what was live at a moment ------------------------------------------------------
with as_of_tab:
    day_col, time_col = st.columns(2)
    day = day_col.date_input("As of date (UTC)", value=datetime.now(UTC).date(),
                             key="audit_as_of_date")
    clock = time_col.time_input("Time (UTC)", value=time(23, 59), key="audit_as_of_time")
    moment = datetime.combine(day, clock).replace(second=59, microsecond=999_999)
    live = read(lambda s: view.as_of(s, moment))
    if live:
        st.dataframe(ui.as_of_table(live), hide_index=True, width="stretch", key="audit_as_of")
        st.caption(f"prod: the champion at {moment:%Y-%m-%d %H:%M} UTC; uat: the newest "
                   "trained version then.")
    else:
        st.info(f"Nothing was live yet at {moment:%Y-%m-%d %H:%M} UTC.", icon=":material/info:")
