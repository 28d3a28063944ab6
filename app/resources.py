"""Process-wide resources and cached reads: the only place the UI caches anything.

The warehouse object holds no connection (each unit of work opens its own), so caching it is
safe across sessions; the MLflow clients are cached because opening a sqlite store costs ~1 s.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import TypeVar

import streamlit as st

from governance import lineage_graph, overview
from governance.registry import Registry, quiet_mlflow, registries
from governance.settings import Settings, load_settings
from governance.warehouse import Session, Warehouse, open_warehouse

T = TypeVar("T")


@st.cache_resource(show_spinner=False)
def settings() -> Settings:
    """Resolved settings (environment, then secrets, then defaults)."""
    return load_settings()


@st.cache_resource(show_spinner=False)
def warehouse() -> Warehouse:
    """The configured warehouse; raises if the workspace does not exist."""
    return open_warehouse(settings())


@st.cache_resource(show_spinner=False)
def mlflow_registries() -> dict[str, Registry]:
    """One registry gateway per environment."""
    quiet_mlflow()
    return registries(settings())


@st.cache_data(ttl=30, show_spinner="Reading the workspace…")
def load_overview() -> overview.Overview:
    """The overview, cached briefly so reruns stay fast."""
    return overview.load_overview(warehouse(), mlflow_registries())


@st.cache_data(ttl=30, show_spinner="Reading lineage…")
def load_lineage() -> lineage_graph.LineageGraph:
    """The whole lineage graph, cached briefly: a click on the chart reruns the page."""
    return lineage_graph.read_graph(warehouse())


@st.cache_data(ttl=300, max_entries=256, show_spinner=False)
def memo(_load: Callable[[Session], T], _session: Session, key: Hashable) -> T:
    """``_load(_session)``, reused for the same ``key`` (which must name everything the read
    depends on, e.g. the ledger's fingerprint and the filters)."""
    return _load(_session)


def describe_workspace() -> str:
    """Where this app reads from, without opening anything (safe when it does not exist)."""
    current = settings()
    if current.backend == "duckdb":
        return f"GOV_HOME={current.home}"
    return f"{current.governance_catalog} / {current.uat_catalog} / {current.prod_catalog}"
