"""Writable copies of the seeded demo for the drift-response tests.

The shared demo (``demo_settings``) already answered both drifting incidents. Two session
bases are derived from it once, then every test copies a base (``copy_home``, ~40 ms):

* ``adopt`` -- the brief's "un-answer" recipe: the incident's rows in governance.responses,
  approvals and evaluations deleted and its status back to ``open``; the demo's UAT candidate
  (tagged with the incident) and staged tables stay, so a rerun must adopt that candidate.
* ``fresh`` -- as if the response never ran: additionally the staged tables, their lineage,
  the candidate's baseline profile, UAT version and MLflow runs are gone, so the train step
  really trains (the next UAT version number is 3: MLflow does not reuse numbers).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import duckdb
import pytest

from governance import ledger
from governance.drift.policy import Policy
from governance.registry import Registry, registries
from governance.response import pipeline, state
from governance.settings import Settings, load_settings
from governance.warehouse import Warehouse, open_warehouse

INCIDENTS = {"demand_forecast": "INC-demand_forecast-20261005",
             "basket_propensity": "INC-basket_propensity-20261005"}
DEMAND = INCIDENTS["demand_forecast"]
BASKET = INCIDENTS["basket_propensity"]
STEP_EVENTS = ("refresh_staged", "candidate_trained", "candidate_evaluated",
               "approval_requested")


class Killed(BaseException):
    """Stands for SIGKILL inside a step: not an Exception, so nothing records it."""


@contextmanager
def duckdb_connection(warehouse: Warehouse) -> Iterator[duckdb.DuckDBPyConnection]:
    """A raw connection to an embedded warehouse's file (tests tamper with rows this way)."""
    with duckdb.connect(str(warehouse.path)) as con:  # type: ignore[attr-defined]
        yield con


def model_of(incident_id: str) -> str:
    return incident_id.removeprefix("INC-").rsplit("-", 1)[0]


@dataclass
class Workspace:
    """A private copy of the demo workspace: raw SQL, registries, the pipeline."""

    settings: Settings
    read_only: bool = False
    progress: list[str] = field(default_factory=list)

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

    def sql(self, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.settings.duckdb_dir / "workspace.duckdb"),
                            read_only=self.read_only) as con:
            cur = con.execute(query, list(params))
            return cur.fetchall() if cur.description else []

    def scalar(self, query: str, params: Sequence[Any] = ()) -> Any:
        return self.sql(query, params)[0][0]

    def respond(self, incident_id: str = DEMAND, *, policy: Policy | None = None,
                requested_by: str = pipeline.ACTOR, uat: Registry | None = None,
                prod: Registry | None = None) -> pipeline.Outcome:
        return pipeline.respond(self.warehouse, uat or self.uat, prod or self.prod,
                                incident_id, policy=policy or Policy(),
                                requested_by=requested_by, progress=self.progress.append)

    def response(self, incident_id: str = DEMAND) -> state.Response | None:
        with self.warehouse.session() as session:
            return state.get(session, incident_id)

    def status(self, incident_id: str = DEMAND) -> str:
        return str(self.scalar("SELECT status FROM governance.drift_incidents "
                               "WHERE incident_id = ?", [incident_id]))

    def head(self) -> int:
        return int(self.scalar("SELECT coalesce(max(seq), 0) FROM governance.ledger"))

    def entries(self, since: int = 0, subject: str | None = None) -> list[ledger.LedgerEntry]:
        with self.warehouse.session() as session:
            return [e for e in ledger.entries(session)
                    if e.seq > since and (subject is None or e.subject == subject)]

    def events(self, since: int = 0, subject: str | None = DEMAND) -> list[str]:
        return [e.type for e in self.entries(since, subject)]

    def intact(self) -> bool:
        with self.warehouse.session() as session:
            return ledger.verify(session).intact

    def tables(self, schema: str) -> list[str]:
        return [r[0] for r in self.sql(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = ? "
            "ORDER BY table_name", [schema])]

    def staged_tables(self, incident_id: str = DEMAND) -> tuple[list[str], list[str]]:
        """Training and holdout tables named for the incident."""
        model, slug = model_of(incident_id), incident_id.rsplit("-", 1)[1]
        training = [t for t in self.tables("uat_training")
                    if re.fullmatch(rf"{model}_v\d+_inc{slug}", t)]
        holdout = [t for t in self.tables("uat_evaluation") if t == f"{model}_holdout_inc{slug}"]
        return training, holdout

    def candidates(self, incident_id: str = DEMAND) -> list[str]:
        """UAT versions tagged with the incident, read through a fresh client."""
        uat = registries(self.settings)["uat"]
        return [str(v.version) for v in uat.versions_tagged(
            model_of(incident_id), "driftgate.incident_id", incident_id)]

    def approvals(self, incident_id: str = DEMAND) -> list[tuple[Any, ...]]:
        return self.sql("SELECT approval_id, state, candidate_version, requested_by "
                        "FROM governance.approvals WHERE incident_id = ?", [incident_id])

    def evaluations(self, incident_id: str = DEMAND) -> list[tuple[Any, ...]]:
        return self.sql("SELECT role, environment, model_version, harness_version, "
                        "holdout_digest, n_rows FROM governance.evaluations "
                        "WHERE incident_id = ? ORDER BY role", [incident_id])

    def prod_snapshot(self) -> tuple[Any, ...]:
        """Everything prod: registry versions, runs, experiments and prod table row counts."""
        from mlflow import MlflowClient

        prod = registries(self.settings)["prod"]
        client = MlflowClient(prod.env.uri, prod.env.uri)
        versions = sorted((m.name, str(v.version), str(v.run_id))
                          for m in prod.registered_models() for v in prod.versions(m.name))
        experiments = sorted(e.experiment_id for e in client.search_experiments())
        runs = sorted(r.info.run_id for r in client.search_runs(experiments))
        tables = [(s, t, self.scalar(f'SELECT count(*) FROM "{s}"."{t}"'))
                  for s, t in self.sql(
                      "SELECT table_schema, table_name FROM information_schema.tables "
                      "WHERE table_schema LIKE 'prod_%' ORDER BY 1, 2")]
        return versions, experiments, runs, tables


def forget(home: Path, *, fresh: bool) -> None:
    """Un-answer both demo incidents in ``home`` (see the module docstring)."""
    ws = Workspace(load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small"}, {}))
    responses = {r[0]: r for r in ws.sql(
        "SELECT incident_id, dataset_table, holdout_table, candidate_version, candidate_run_id "
        "FROM governance.responses")}
    for incident_id in INCIDENTS.values():
        for table in ("responses", "approvals", "evaluations"):
            ws.sql(f"DELETE FROM governance.{table} WHERE incident_id = ?",
                   [incident_id])
        ws.sql("UPDATE governance.drift_incidents SET status = 'open' WHERE incident_id = ?",
               [incident_id])
    if not fresh:
        return
    from mlflow import MlflowClient

    client = MlflowClient(ws.uat.env.uri, ws.uat.env.uri)
    for incident_id, (_, dataset_table, holdout_table, version, run_id) in responses.items():
        model = model_of(incident_id)
        for table in (dataset_table, holdout_table):
            env, schema, name = table.split(".")
            ws.sql(f'DROP TABLE "{env}_{schema}"."{name}"')
        for lineage_table in ("table_lineage", "column_lineage"):
            ws.sql(f"DELETE FROM lineage.{lineage_table} "
                   "WHERE entity_run_id = ?", [incident_id])
        ws.sql("DELETE FROM governance.model_baselines WHERE model_name = ? "
               "AND model_version = ?", [model, version])
        client.delete_model_version(model, version)
        client.delete_run(run_id)
        for run in client.search_runs(
                [client.get_experiment_by_name("driftgate-evaluations").experiment_id],
                f"tags.`driftgate.incident_id` = '{incident_id}'"):
            client.delete_run(run.info.run_id)


@pytest.fixture(scope="session")
def adopt_home(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Base: responses un-answered, the demo's tagged UAT candidates kept."""
    home = copy_home(demo_settings.home, tmp_path_factory.mktemp("adopt") / "home")
    forget(home, fresh=False)
    return home


@pytest.fixture(scope="session")
def fresh_home(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
               tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Base: as if neither incident had been answered."""
    home = copy_home(demo_settings.home, tmp_path_factory.mktemp("fresh") / "home")
    forget(home, fresh=True)
    return home


def _workspace(base: Path, copy_home: Callable[[Path, Path], Path], dest: Path) -> Workspace:
    home = copy_home(base, dest)
    return Workspace(load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small",
                                    "GOV_LOCK_TIMEOUT": "5"}, {}))


@pytest.fixture
def fresh(fresh_home: Path, copy_home: Callable[[Path, Path], Path],
          tmp_path: Path) -> Workspace:
    """A private workspace where no incident was answered (train really trains)."""
    return _workspace(fresh_home, copy_home, tmp_path / "home")


@pytest.fixture
def adopt(adopt_home: Path, copy_home: Callable[[Path, Path], Path],
          tmp_path: Path) -> Workspace:
    """A private workspace with un-answered incidents but their UAT candidates registered."""
    return _workspace(adopt_home, copy_home, tmp_path / "home")


@pytest.fixture
def answered(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
             tmp_path: Path) -> Workspace:
    """A private copy of the demo as seeded (both incidents answered)."""
    return _workspace(demo_settings.home, copy_home, tmp_path / "home")


@pytest.fixture(scope="module")
def demo(demo_settings: Settings) -> Workspace:
    """The shared demo, for reads only."""
    return Workspace(demo_settings, read_only=True)
