"""Small UI pieces shared by pages: the environment badge and error display."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import streamlit as st

from governance.errors import GovernanceError

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
