"""Stdlib-only helpers shared by the peer scripts (each peer runs in its own venv).

Every peer takes the same arguments and prints ONE JSON line as the last line of stdout:
`{"method", "rows_baseline", "rows_current", "flagged": [...], "rule", "scores": {...}, ...}`
so that bench/drift_vs_peers.py can compare the flagged features with the planted ground truth.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("baseline", help="baseline Parquet file")
    parser.add_argument("current", help="current Parquet file")
    parser.add_argument(
        "--categorical",
        default="",
        help="comma-separated categorical columns; every other column is numeric",
    )
    args = parser.parse_args()
    args.categorical = [c for c in args.categorical.split(",") if c]
    return args


def split_columns(columns: list[str], categorical: list[str]) -> tuple[list[str], list[str]]:
    missing = sorted(set(categorical) - set(columns))
    if missing:
        sys.exit(f"categorical columns not in the data: {missing}")
    numeric = [c for c in columns if c not in categorical]
    cats = [c for c in columns if c in categorical]
    return numeric, cats


def emit(payload: dict[str, Any]) -> None:
    """Print the result line (last line of stdout)."""
    sys.stdout.flush()
    print(json.dumps(payload, sort_keys=True, default=float))
