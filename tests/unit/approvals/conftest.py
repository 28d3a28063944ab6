"""Writable copies of the seeded demo for the sign-off tests, and the people who sign.

The shared demo (``demo_settings``) holds one pending request (APR-demand_forecast-20261005,
requested by ``system:drift-response``, candidate UAT v2 authored by ``system:drift-response``)
and one approved and promoted one (APR-basket_propensity-20261005, prod v2). Tests never write
to it: every test gets a private copy (``copy_home``, ~40 ms) of either

* the demo itself (``ws``), or
* ``approved_home``: a session base in which bob already approved the demand_forecast request
  (so the promotion-failure tests do not each pay for a decision).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pytest

from governance import approvals, ledger, promotion_job
from governance.drift.policy import Policy
from governance.identity import Identity
from governance.registry import Registry, model_digest, registries
from governance.settings import Settings, load_settings
from governance.warehouse import Warehouse, open_warehouse

DEMAND = "APR-demand_forecast-20261005"
BASKET = "APR-basket_propensity-20261005"
LATER = datetime.now(UTC) + timedelta(hours=8)


def person(email: str, *groups: str, source: str = "oidc",
           expires_at: datetime | None = LATER) -> Identity:
    """An identity as authentication would produce it."""
    local = email.split("@")[0]
    return Identity(email=email, name=local.title(), subject=f"sub-{local}",
                    issuer="https://idp.retail.example", groups=tuple(groups), source=source,
                    expires_at=expires_at)


BOB = person("bob@retail.example", "model-approvers")
CAROL = person("carol@retail.example", "model-approvers")
ERIN = person("erin@retail.example", "model-approvers")
DANA = person("dana@retail.example", "data-scientists")
DANA_APPROVER = person("dana@retail.example", "data-scientists", "model-approvers")
AUDREY = person("audrey@retail.example", "auditors")
ADAM = person("adam@retail.example", "driftgate-admins")
VIC = person("vic@retail.example")
FOUR_EYES = Policy(model_response={"demand_forecast": {"required_approvals": 2}})


@dataclass
class Workspace:
    """A private copy of the demo: raw SQL, registries and the sign-off calls."""

    settings: Settings

    @property
    def home(self) -> Path:
        return self.settings.home

    @cached_property
    def warehouse(self) -> Warehouse:
        return open_warehouse(self.settings)

    @cached_property
    def regs(self) -> dict[str, Registry]:
        return registries(self.settings)

    @property
    def uat(self) -> Registry:
        return self.regs["uat"]

    @property
    def prod(self) -> Registry:
        return self.regs["prod"]

    # --- raw reads and tampering ---------------------------------------------------------------
    def sql(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.settings.duckdb_dir / "workspace.duckdb")) as con:
            cur = con.execute(query, list(params))
            return cur.fetchall() if cur.description else []

    def scalar(self, query: str, params: Sequence[Any] = ()) -> Any:
        return self.sql(query, params)[0][0]

    def state(self, approval_id: str = DEMAND) -> str:
        return str(self.scalar("SELECT state FROM governance.approvals WHERE approval_id = ?",
                               [approval_id]))

    def row(self, approval_id: str = DEMAND) -> tuple[Any, ...]:
        """What a decision changes: state, decided_by, decided_at, comment, signatures."""
        (found,) = self.sql("SELECT state, decided_by, decided_at, comment, updated_at "
                            "FROM governance.approvals WHERE approval_id = ?", [approval_id])
        signatures = self.sql("SELECT signer, decision FROM governance.approval_signatures "
                              "WHERE approval_id = ? ORDER BY ledger_seq", [approval_id])
        return (*found, tuple(signatures))

    def get(self, approval_id: str = DEMAND) -> approvals.Approval:
        with self.warehouse.session() as session:
            return approvals.get(session, approval_id)

    def head(self) -> int:
        return int(self.scalar("SELECT coalesce(max(seq), 0) FROM governance.ledger"))

    def entries(self, since: int = 0, subject: str | None = None,
                types: Sequence[str] = ()) -> list[ledger.LedgerEntry]:
        with self.warehouse.session() as session:
            return [e for e in ledger.entries(session)
                    if e.seq > since and (subject is None or e.subject == subject)
                    and (not types or e.type in types)]

    def events(self, since: int = 0, subject: str | None = DEMAND) -> list[str]:
        return [e.type for e in self.entries(since, subject)]

    def intact(self) -> bool:
        with self.warehouse.session() as session:
            verification = ledger.verify(session)
        return verification.intact

    # --- prod, read through fresh clients (no cached state of the code under test) --------------
    def champion(self, model: str = "demand_forecast") -> str:
        found = registries(self.settings)["prod"].champion(model)
        assert found is not None
        return str(found.version)

    def prod_versions(self, model: str = "demand_forecast") -> list[str]:
        return [str(v.version) for v in registries(self.settings)["prod"].versions(model)]

    def digest(self, env: str, model: str, version: str, dest: Path) -> str:
        regs = registries(self.settings)
        return model_digest(regs[env].download_model(model, version, dest))

    # --- the calls under test ------------------------------------------------------------------
    def decide(self, identity: Identity | None, decision: str = "approve",
               comment: str = "looks good", approval_id: str = DEMAND,
               policy: Policy | None = None) -> approvals.Approval:
        return approvals.decide(self.warehouse, self.uat, self.settings, policy or Policy(),
                                approval_id, identity, decision, comment)  # type: ignore[arg-type]

    def promote(self, approval_id: str = DEMAND, *, uat: Registry | None = None,
                prod: Registry | None = None) -> approvals.Approval:
        return promotion_job.promote_approved(self.warehouse, uat or self.uat,
                                              prod or self.prod, approval_id)

    def snapshot(self, approval_id: str = DEMAND) -> tuple[Any, ...]:
        """Everything a refused decision must leave alone: the request, ledger, prod."""
        return (self.row(approval_id), self.incident_status(approval_id), self.head(),
                self.prod_versions(), self.champion())

    def incident_status(self, approval_id: str = DEMAND) -> str | None:
        found = self.sql("SELECT i.status FROM governance.drift_incidents i JOIN "
                         "governance.approvals a USING (incident_id) WHERE a.approval_id = ?",
                         [approval_id])
        return str(found[0][0]) if found else None

    def candidate_artifacts(self, model: str = "demand_forecast", version: str = "2") -> Path:
        """The local folder holding a UAT version's model files (in this copy)."""
        source = self.uat.model_version(model, version)
        uri = self.uat.run(str(source.run_id)).info.artifact_uri
        folder = Path(uri.removeprefix("file://")) / "model"
        assert folder.is_dir(), folder
        assert str(self.home.resolve()) in str(folder.resolve())  # never the shared demo
        return folder


def workspace_at(home: Path) -> Workspace:
    return Workspace(load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small",
                                    "GOV_LOCK_TIMEOUT": "5"}, {}))


@contextmanager
def raw(ws: Workspace) -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect(str(ws.settings.duckdb_dir / "workspace.duckdb")) as con:
        yield con


@pytest.fixture(scope="session")
def approved_home(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
                  tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Base: the demo with APR-demand_forecast-20261005 approved by bob, not yet promoted."""
    home = copy_home(demo_settings.home, tmp_path_factory.mktemp("approved") / "home")
    base = workspace_at(home)
    assert "approved" == base.decide(BOB, "approve", "beats the champion").state
    return home


@pytest.fixture
def ws(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
       tmp_path: Path) -> Workspace:
    """A private copy of the demo as seeded (demand_forecast pending, basket promoted)."""
    return workspace_at(copy_home(demo_settings.home, tmp_path / "home"))


@pytest.fixture
def approved(approved_home: Path, copy_home: Callable[[Path, Path], Path],
             tmp_path: Path) -> Workspace:
    """A private copy in which bob approved the demand_forecast request."""
    return workspace_at(copy_home(approved_home, tmp_path / "home"))
