"""AppTest helpers: fresh Streamlit caches per test (streamlit/streamlit#9139)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "app" / "main.py")


@pytest.fixture(autouse=True)
def clear_streamlit_caches() -> Iterator[None]:
    """Cached data and resources survive across AppTest instances; clear them both ways."""
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()
