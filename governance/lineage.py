"""Lineage records with Unity Catalog's ``table_lineage`` / ``column_lineage`` columns."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

from governance.warehouse import Session


@dataclass(frozen=True)
class Edge:
    """``target`` was written from ``source`` by one run of a job.

    Attributes:
        source: Full name ``catalog.schema.table``.
        target: Full name ``catalog.schema.table``.
        entity_type: What wrote it, as in UC (``JOB``, ``NOTEBOOK``, ``PIPELINE``...).
        entity_id: The job's id or name.
        entity_run_id: The run that wrote it.
        created_by: Who ran it (``system:<job>`` or a user).
        columns: ``(source column, target column)`` pairs for column lineage.
    """

    source: str
    target: str
    entity_type: str
    entity_id: str
    entity_run_id: str
    created_by: str
    columns: tuple[tuple[str, str], ...] = ()


def _parts(prefix: str, full_name: str) -> dict[str, str]:
    catalog, schema, name = full_name.split(".")
    return {prefix: full_name, f"{prefix}_catalog": catalog, f"{prefix}_schema": schema,
            f"{prefix}_name": name}


def record(session: Session, edges: Iterable[Edge], now: datetime) -> int:
    """Insert table and column lineage rows for ``edges``; returns rows written."""
    written = 0
    for edge in edges:
        common = {
            "entity_type": edge.entity_type,
            "entity_id": edge.entity_id,
            "entity_run_id": edge.entity_run_id,
            **_parts("source", edge.source),
            **_parts("target", edge.target),
            "created_by": edge.created_by,
            "event_time": now,
        }
        session.execute("lineage/insert_table_edge", {**common, "record_id": str(uuid.uuid4())})
        for source_column, target_column in edge.columns:
            session.execute(
                "lineage/insert_column_edge",
                {**common, "source_column": source_column, "target_column": target_column,
                 "record_id": str(uuid.uuid4())},
            )
        written += 1 + len(edge.columns)
    return written


def frame_digest(frame: pd.DataFrame) -> str:
    """Content digest of a dataset: sha256 over column names, dtypes and row hashes."""
    digest = hashlib.sha256()
    digest.update("|".join(f"{c}:{t}" for c, t in frame.dtypes.astype(str).items()).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()
