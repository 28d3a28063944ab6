"""Driftgate dashboard entry point: ``streamlit run app/main.py``."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # `streamlit run app/main.py` puts app/ first, not the repo root
    sys.path.insert(0, str(ROOT))

from app import components, resources  # noqa: E402  (needs the path fix above)

st.set_page_config(page_title="Driftgate", page_icon="🛡️", layout="wide")

PAGES = [
    st.Page(ROOT / "pages" / "overview.py", title="Overview", icon=":material/dashboard:",
            default=True),
    st.Page(ROOT / "pages" / "drift.py", title="Drift", icon=":material/query_stats:",
            url_path="drift"),
]

navigation = st.navigation(PAGES)
settings = components.guarded(resources.settings)
components.environment_badge(settings.backend, resources.describe_workspace())
navigation.run()
