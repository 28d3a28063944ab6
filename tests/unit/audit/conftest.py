"""Fixtures for the audit core: the shared demo (read-only) and hand-built ledgers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from governance import ledger
from governance.audit import integrity
from governance.settings import Settings
from governance.warehouse import Session, Warehouse, open_warehouse


@pytest.fixture
def demo(demo_settings: Settings) -> Iterator[Session]:
    """A session on the shared seeded demo (tests only read)."""
    with open_warehouse(demo_settings).session() as session:
        yield session


@pytest.fixture(autouse=True)
def fresh_integrity_cache() -> Iterator[None]:
    """Each test sees the ledger status computed afresh."""
    integrity.forget()
    yield
    integrity.forget()


def promote(warehouse: Warehouse, model: str, prod: str, uat: str, at: datetime,
            approval_id: str | None = None, reason: str = "approved") -> ledger.LedgerEntry:
    """Append a ``model_promoted`` entry shaped like the promotion job's, at ``at``."""
    payload: dict[str, Any] = {
        "approval_id": approval_id or f"APR-{model}-{prod}", "model_digest": "d" * 64,
        "prod_run_id": f"prod-run-{model}-{prod}", "prod_version": prod, "reason": reason,
        "source_model_uri": f"models:/{model}/{uat}", "source_run_id": f"run-{model}-{uat}",
        "uat_version": uat,
    }
    with warehouse.session() as session:
        return ledger.append(session, actor="system:promotion-job", environment="prod",
                             event_type="model_promoted", subject=model, payload=payload, now=at)


def train(warehouse: Warehouse, model: str, uat: str, at: datetime) -> ledger.LedgerEntry:
    """Append a bootstrap ``model_trained`` entry at ``at``."""
    with warehouse.session() as session:
        return ledger.append(session, actor="system:demo", environment="uat",
                             event_type="model_trained", subject=f"{model}/{uat}",
                             payload={"dataset_digest": "a" * 64, "metrics": {},
                                      "run_id": f"run-{model}-{uat}",
                                      "training_table": f"uat.training.{model}_v{uat}"},
                             now=at)
