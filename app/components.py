"""Small UI pieces shared by pages: the environment badge, error display, ledger status."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from governance.errors import GovernanceError
from governance.ledger import Verification

T = TypeVar("T")


def guarded(load: Callable[[], T]) -> T:
    """Call ``load``; on a :class:`GovernanceError` show it with its fix and stop the page."""
    try:
        return load()
    except GovernanceError as exc:
        message = str(exc).split("\nHow to fix:")[0]
        st.error(f"**{type(exc).__name__}**: {message}", icon=":material/error:")
        if exc.hint:
            st.info(f"How to fix: {exc.hint}", icon=":material/build:")
        st.stop()
        raise  # unreachable: st.stop() raises; keeps type checkers honest


def environment_badge(backend: str, location: str) -> None:
    """Sidebar badge naming the backend and workspace this app reads, on every page."""
    label = "Embedded demo workspace" if backend == "duckdb" else "Databricks workspace"
    st.sidebar.badge(label, icon=":material/database:",
                     color="blue" if backend == "duckdb" else "orange")
    st.sidebar.caption(f"{location} · environments: uat, prod")


def ledger_status(result: Verification) -> None:
    """Green when the chain verifies, red with the first broken entry otherwise."""
    if result.intact:
        st.success(f"Ledger {result.summary()}", icon=":material/link:")
    else:
        st.error(f"Ledger {result.summary()}", icon=":material/link_off:")
