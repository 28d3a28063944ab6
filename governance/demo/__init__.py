"""Deterministic synthetic retail world and the three demo models that run on it."""
