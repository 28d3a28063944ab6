"""Driftgate governance core: pure Python, no UI imports."""
