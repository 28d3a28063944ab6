"""Lineage upstream of a pack's datasets, walked table by table to the raw tables.

Lineage is recorded by jobs, not by Driftgate's ledger, so it can hold anything, cycles
included (a job that rewrites its own input). The walk therefore keeps the path it is on, notes
an edge back into that path as a cycle instead of following it, visits every table once and
stops at a depth limit, so a bad lineage store makes a longer list, never a hang.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from governance.evidence.layout import jsonable
from governance.warehouse import Session

MAX_DEPTH = 64


@dataclass
class _Walk:
    session: Session
    tables: list[dict[str, Any]] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)
    cycles: list[list[str]] = field(default_factory=list)
    truncated: list[str] = field(default_factory=list)

    def visit(self, table: str, path: tuple[str, ...]) -> None:
        if table in self.sources:
            return
        rows = self.session.fetch_rows("evidence/table_lineage_into", {"target": table})
        self.sources[table] = [str(r["source"]) for r in rows]
        self.tables.extend(jsonable(r) for r in rows)
        self.columns.extend(jsonable(r) for r in
                            self.session.fetch_rows("evidence/column_lineage_into",
                                                    {"target": table}))
        here = (*path, table)
        for source in self.sources[table]:
            if source in here:
                self.cycles.append([*here[here.index(source):], source])
            elif len(here) >= MAX_DEPTH:
                self.truncated.append(source)
            else:
                self.visit(source, here)


def walk(session: Session, roots: Iterable[str]) -> dict[str, Any]:
    """The table and column lineage upstream of ``roots``.

    Args:
        session: An open unit of work.
        roots: Full table names (``uat.training.x``) to start from, e.g. training and holdout.

    Returns:
        ``roots``; ``tables`` and ``columns``: the lineage rows met (newest record per edge);
        ``raw_tables``: tables reached that nothing was written into; ``cycles``: each loop
        found, as the list of tables around it; ``truncated``: tables not followed because the
        walk reached :data:`MAX_DEPTH`; ``no_lineage``: roots with no upstream at all.
    """
    state = _Walk(session)
    starts = list(dict.fromkeys(r for r in roots if r))
    for root in starts:
        state.visit(root, ())
    raw = sorted(t for t, sources in state.sources.items() if not sources and t not in starts)
    return {
        "roots": starts,
        "tables": state.tables,
        "columns": state.columns,
        "raw_tables": raw,
        "cycles": state.cycles,
        "truncated": sorted(set(state.truncated)),
        "no_lineage": [r for r in starts if not state.sources.get(r)],
    }
