"""The audit view's core: the single dashboard query, timelines, as-of, ledger integrity."""
