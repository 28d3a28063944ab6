"""Drift engine: per-feature statistics on warehouse count tables, policy and verdicts."""
