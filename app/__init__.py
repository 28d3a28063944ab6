"""The Streamlit shell around the governance core."""
