"""What the ledger entries of a pack say, in the shapes the cross-check compares.

Shared by export (:mod:`governance.evidence.collect`, which picks the run ids to look up) and
verification (:mod:`governance.evidence.crosscheck`), so both read the entries by one rule and a
fresh pack can never fail its own check.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

#: Entry types that name a training or holdout table, in the order export trusts them.
DATASET_TYPES = ("model_trained", "refresh_staged", "candidate_trained", "candidate_evaluated")

_ABSENT = object()
Entry = Mapping[str, Any]
Compare = Callable[[str, Any, Entry, Any], None]


@dataclass(frozen=True)
class Ledger:
    """The story's ledger entries (``ledger show --format json`` objects), oldest first."""

    entries: Sequence[Entry]

    @cached_property
    def by_seq(self) -> dict[int, Entry]:
        """The entries by seq."""
        return {e["seq"]: e for e in self.entries}

    def all(self, event_type: str, **payload: Any) -> list[Entry]:
        """Entries of ``event_type`` whose payload has every given key and value."""
        return [e for e in self.entries if e["type"] == event_type
                and all(e["payload"].get(k) == v for k, v in payload.items())]

    def of_type(self, event_type: str) -> list[Entry]:
        """Entries of ``event_type``, oldest first."""
        return self.all(event_type)

    def latest(self, event_type: str, **payload: Any) -> Entry | None:
        """The newest entry :meth:`all` finds, or ``None``."""
        found = self.all(event_type, **payload)
        return found[-1] if found else None

    def at(self, seq: Any, event_type: str) -> Entry | None:
        """Entry ``seq`` if the pack holds it and it is of ``event_type``."""
        entry = self.by_seq.get(seq) if isinstance(seq, int) else None
        return entry if entry is not None and entry["type"] == event_type else None

    @staticmethod
    def name(entry: Entry) -> str:
        """How a problem names an entry: ``ledger entry 24 (approval_decided)``."""
        return f"ledger entry {entry['seq']} ({entry['type']})"


class Problems:
    """Problems found so far, and comparators that add one per differing field."""

    def __init__(self) -> None:
        self.found: list[str] = []

    def add(self, problem: str) -> None:
        """Record one problem."""
        self.found.append(problem)

    def against(self, file: str, record: str) -> Compare:
        """A comparator for one record of ``file``: ``cmp(field, have, entry, want)``.

        Objects are compared key by key, so a problem names the leaf field that differs
        (``metrics.auc``), not the whole object.
        """

        def cmp(field: str, have: Any, entry: Entry, want: Any) -> None:
            if isinstance(have, Mapping) and isinstance(want, Mapping):
                for key in sorted(set(have) | set(want), key=str):
                    cmp(f"{field}.{key}", have.get(key, _ABSENT), entry,
                        want.get(key, _ABSENT))
            elif have is _ABSENT or want is _ABSENT or have != want:
                self.add(f"{file}: {record} {field} {_show(have)} but {Ledger.name(entry)} "
                         f"says {_show(want)}")

        return cmp


def _show(value: Any) -> str:
    return "(absent)" if value is _ABSENT else repr(value)


def obj(value: Any) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one (a malformed file compares as empty)."""
    return value if isinstance(value, dict) else {}


def records(doc: Any, key: str) -> list[dict[str, Any]]:
    """The objects in list ``key`` of JSON object ``doc`` (anything malformed yields none)."""
    found = doc.get(key) if isinstance(doc, dict) else None
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def dataset_claims(ledger: Ledger) -> dict[str, tuple[Entry, str, Any]]:
    """The training and holdout table and digest the ledger records, with the entry saying so.

    The first of :data:`DATASET_TYPES` (newest entry of each) to name a role wins, as in
    export's ``datasets.json``.
    """
    claims: dict[str, tuple[Entry, str, Any]] = {}
    for event_type in DATASET_TYPES:
        entry = ledger.latest(event_type)
        if entry is None:
            continue
        p = entry["payload"]
        table = p.get("dataset_table") or p.get("training_table")
        if table and event_type != "candidate_evaluated":
            claims.setdefault("training", (entry, str(table), p.get("dataset_digest")))
        if p.get("holdout_table"):
            claims.setdefault("holdout", (entry, str(p["holdout_table"]),
                                          p.get("holdout_digest")))
    return claims


def run_references(value: Any, path: str) -> Iterator[tuple[str, str]]:
    """Every MLflow run id in a payload (any key ending in ``run_id``) with where it sits."""
    if isinstance(value, Mapping):
        for key, inner in value.items():
            where = f"{path}.{key}"
            if key.endswith("run_id") and isinstance(inner, str) and inner:
                yield inner, where
            else:
                yield from run_references(inner, where)
    elif isinstance(value, list):
        for i, inner in enumerate(value):
            yield from run_references(inner, f"{path}[{i}]")
