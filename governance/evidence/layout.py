"""What an evidence pack holds: file names, the format tag and JSON encoding shared by both ends.

Export (:mod:`governance.evidence.pack`) and verification (:mod:`governance.evidence.verify`)
read the same constants, so a renamed file can never make a fresh pack fail its own check.
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from governance.ledger import LedgerEntry, canonical_json

FORMAT = "driftgate-evidence/1"
MANIFEST = "manifest.json"
TIMELINE = "timeline.json"
APPROVALS = "approvals.json"
EVALUATIONS = "evaluations.json"
DRIFT = "drift.json"
DATASETS = "datasets.json"
LINEAGE = "lineage.json"
MLFLOW = "mlflow.json"
ENTRIES = "ledger/entries.jsonl"
CHAIN = "ledger/chain.jsonl"
PROOF = "proof.json"
SUMMARY = "summary.html"
#: Every file a pack holds besides the manifest, in the order export writes them.
FILES = (TIMELINE, APPROVALS, EVALUATIONS, DRIFT, DATASETS, LINEAGE, MLFLOW, CHAIN, ENTRIES,
         PROOF, SUMMARY)
#: The hashed fields of a ledger entry line (its ``hash`` is the eighth key).
BODY_KEYS = frozenset({"seq", "time", "actor", "environment", "type", "subject", "payload"})


def iso_time(value: datetime) -> str:
    """A naive-UTC store time as ISO 8601 with a ``Z``."""
    return value.isoformat() + "Z" if value.tzinfo is None else value.isoformat()


def jsonable(value: Any) -> Any:
    """Turn a warehouse value (times, decimals, maps, structs, NaN) into plain JSON data."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None  # JSON has no NaN; "unknown" is null
    if isinstance(value, datetime):
        return iso_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [jsonable(v) for v in value]
    return str(value)


def parsed(text: Any) -> Any:
    """A stored JSON document parsed, or the raw text when it is not valid JSON."""
    if not isinstance(text, str):
        return jsonable(text)
    try:
        return json.loads(text)
    except ValueError:
        return text


def dumps(document: Any) -> bytes:
    """A pack JSON file: indented for people, sorted keys so two exports of the same data match."""
    return (json.dumps(jsonable(document), indent=2, sort_keys=True, ensure_ascii=False,
                       allow_nan=False) + "\n").encode("utf-8")


def entry_line(entry: LedgerEntry) -> bytes:
    """One ledger entry as a JSONL line: the canonical JSON of ``LedgerEntry.to_json``."""
    return (canonical_json(entry.to_json()) + "\n").encode("utf-8")
