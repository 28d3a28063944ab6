"""Audit: which version served, why, on what data, who signed it off, and is the record intact."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime, time
from typing import TypeVar

import streamlit as st

from app import audit_components as ui
from app import audit_figures, components, resources
from app import identity as signin
from governance.audit import export, selection, trail, view
from governance.audit.view import AuditFilter, VersionRow
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


# One unit of work per render, opened below: opening a workspace file with hundreds of tables
# costs ~40 ms, so a session per read would cost more than the queries themselves.
render_session: list[Session] = []
# The ledger's fingerprint once its status is known, with the newest entry and the MLflow runs
# and lineage tables' versions: every governance change appends to the ledger, and the rest is
# what changes without it, so reads keyed by these are reused until something happens.
ledger_print: list[tuple[tuple[int, int, str], tuple[object, ...]]] = []


def _run(load: Callable[[Session], T], key: Hashable | None = None) -> T:
    if key is not None and ledger_print and render_session:
        return resources.memo(load, render_session[0],
                              (warehouse.describe(), ledger_print[0], key))
    if render_session:
        return load(render_session[0])
    return explore.read(warehouse, load)


def read(load: Callable[[Session], T], key: Hashable | None = None) -> T:
    """Read in this render's unit of work; a GovernanceError shows its message and fix and
    stops. With a ``key`` naming everything ``load`` depends on, the answer is reused while the
    ledger is unchanged."""
    return components.guarded(lambda: _run(load, key))


def attempt(load: Callable[[Session], T], key: Hashable | None = None) -> T | None:
    """Like :func:`read`, but a refusal is shown in place and the rest of the page goes on."""
    try:
        return _run(load, key)
    except GovernanceError as exc:
        ui.show_error(exc)
        return None


def deferred(build: Callable[[Session], bytes]) -> Callable[[], bytes]:
    """A download built only when clicked, in its own unit of work."""
    return lambda: explore.read(warehouse, build)


def pager(noun: str, key: str, load: Callable[[Session, int], view.Page[T]],
          depends: Hashable) -> view.Page[T]:
    """Page number beside the row count; the rows of that page, fetched in SQL."""
    number_col, about = st.columns([1, 6], vertical_alignment="bottom")
    number = number_col.number_input("Page", min_value=1, step=1, key=key, persist_state="page")
    offset = (number - 1) * size
    page = read(lambda s: load(s, offset), (key, depends, offset, size))
    about.caption(ui.page_caption(page, noun))
    if not page.rows and page.total:
        st.warning(f"Page {number} is past the end: {page.pages} page(s) at this size.",
                   icon=":material/last_page:")
    return page


def versions_view() -> None:
    """The single dashboard query, its CSV, and the story of one version or incident."""
    versions = pager("production versions", "audit_versions_page",
                     lambda s, offset: view.model_versions(s, where, sort=sort,
                                                           descending=descending,
                                                           offset=offset, limit=size),
                     (where, sort, descending))
    if versions.rows:
        table, columns = ui.versions_table(versions.rows, settings)
        st.dataframe(table, column_config=columns, hide_index=True, width="stretch",
                     key="audit_versions")
    elif not versions.total:
        st.info("No production version matches the filters.", icon=":material/filter_alt_off:")
    st.caption("Environment and event type filter the Events tab only.")
    st.download_button(
        "Download CSV (every matching version)", key="audit_versions_csv",
        data=deferred(lambda s: export.versions_csv(s, where, sort=sort,
                                                    descending=descending)),
        file_name=export.filename("versions", where, datetime.now(UTC)), mime="text/csv",
        icon=":material/download:", on_click="ignore")
    timeline_view(versions.rows)


def timeline_view(rows: Sequence[VersionRow]) -> None:
    """Pick a version on this page, or any incident: its steps as a chart and a table."""
    st.subheader("Timeline")
    kind_col, pick_col = st.columns([1, 3], vertical_alignment="bottom")
    kind = kind_col.segmented_control("Story of a", ["version", "incident"], default="version",
                                      key="audit_trail_kind", persist_state="page")
    story: trail.Trail | None = None
    gaps: tuple[str, ...] = ()
    if kind == "incident":
        found = {i.incident_id: i for i in read(lambda s: selection.incidents(s, model),
                                                     ("incidents", model))}
        incident = pick_col.selectbox("Incident", list(found), key="audit_incident",
                                      format_func=lambda i: found[i].label(),
                                      persist_state="page")
        if incident is not None:
            story = attempt(lambda s: trail.incident_trail(s, incident),
                            ("incident_trail", incident))
        if story is not None and story.prod_version:
            promoted, version = story.model_name, str(story.prod_version)
            row = read(lambda s: selection.version_row(s, promoted, version),
                       ("version_row", promoted, version))
            gaps = row.gaps if row else ()
    else:
        on_page = {f"{r.model_name}/{r.prod_version}": r for r in rows}
        picked = pick_col.selectbox("Version (from this page)", list(on_page),
                                    key="audit_version", persist_state="page",
                                    format_func=lambda k: ui.version_label(on_page[k]))
        if picked is not None:
            chosen = on_page[picked]
            story = attempt(lambda s: trail.version_trail(s, chosen.model_name,
                                                          chosen.prod_version),
                            ("version_trail", chosen.model_name, chosen.prod_version))
            gaps = chosen.gaps
    if story is None:
        st.caption("Pick a version or an incident to see its story.")
        return
    for gap in gaps:
        st.warning(f"Gap in {story.subject}: {gap}", icon=":material/report:")
    steps = story.timeline
    figure = audit_figures.timeline(steps, f"Story of {story.subject}")
    if figure is not None:
        st.plotly_chart(figure, width="stretch", key="audit_timeline_chart")
    st.dataframe(ui.timeline_table(steps), hide_index=True, width="stretch",
                 key="audit_timeline")
    ui.evidence_pack(warehouse, story, who, signin.sign_in_configured(settings))


def events_view() -> None:
    """The filtered ledger, paged, with counts per type and its CSV."""
    chart = audit_figures.event_counts(read(lambda s: view.event_counts(s, where),
                                            ("event_counts", where)))
    if chart is not None:
        st.plotly_chart(chart, width="stretch", key="audit_counts_chart")
        st.caption("Entries per type and environment under every filter above.")
    entries = pager("ledger entries", "audit_events_page",
                    lambda s, offset: view.events(s, where, descending=descending,
                                                  offset=offset, limit=size),
                    (where, descending))
    if entries.rows:
        st.dataframe(ui.events_table(entries.rows), hide_index=True, width="stretch",
                     key="audit_events")
    elif not entries.total:
        st.info("No ledger entry matches the filters.", icon=":material/filter_alt_off:")
    st.download_button(
        "Download CSV (every matching entry)", key="audit_events_csv",
        data=deferred(lambda s: export.events_csv(s, where, descending=descending)),
        file_name=export.filename("events", where, datetime.now(UTC)), mime="text/csv",
        icon=":material/download:", on_click="ignore")


def as_of_view() -> None:
    """Which version was live in each environment at a chosen moment."""
    day_col, time_col = st.columns(2)
    day = day_col.date_input("As of date (UTC)", value=datetime.now(UTC).date(),
                             key="audit_as_of_date", persist_state="page")
    clock = time_col.time_input("Time (UTC)", value=time(23, 59), key="audit_as_of_time",
                                persist_state="page")
    moment = datetime.combine(day, clock).replace(second=59, microsecond=999_999)
    live = read(lambda s: view.as_of(s, moment), ("as_of", moment))
    if live:
        st.dataframe(ui.as_of_table(live), hide_index=True, width="stretch", key="audit_as_of")
        st.caption(f"prod: the champion at {moment:%Y-%m-%d %H:%M} UTC; uat: the newest "
                   "trained version then.")
    else:
        st.info(f"Nothing was live yet at {moment:%Y-%m-%d %H:%M} UTC.", icon=":material/info:")


# The render's one unit of work, closed with the page whatever ends it (st.stop() included).
with contextlib.ExitStack() as stack:
    session = components.guarded(lambda: stack.enter_context(warehouse.session()))
    render_session.append(session)
    known = ui.ledger_status(warehouse, session)
    if known is not None:
        ledger_print.append((known, read(view.context_version)))

    # --- filters (sidebar): every one is a SQL parameter -----------------------------------------
    facets = read(view.facets, ("facets",))
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

    # Lazy tabs: only the open one runs, so a render costs one tab's queries.
    tabs = st.tabs(["Model versions", "Events", "As of"], key="audit_tab", on_change="rerun")
    for tab, render in zip(tabs, (versions_view, events_view, as_of_view), strict=True):
        with tab:
            if tab.open:
                render()
