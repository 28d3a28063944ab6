"""The overview: which model versions serve in each environment, since when, signed by whom."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

from governance import ledger, schema
from governance.registry import Registry
from governance.warehouse import Warehouse


@dataclass(frozen=True)
class ModelStatus:
    """One registered model in one environment.

    Attributes:
        environment: ``uat`` or ``prod``.
        model_name: Registered model name.
        versions: Number of registered versions.
        champion_version: Version holding the ``champion`` alias (``None`` if unset).
        latest_version: Newest registered version.
        changed_at: When the ledger recorded the version now in place (promotion in prod,
            training in uat).
        changed_by: Actor of that ledger entry.
        approval_id: The approval behind the prod champion, if any.
        ledger_agrees: False when the registry's champion differs from the ledger's last
            promotion (the alias was moved outside Driftgate).
    """

    environment: str
    model_name: str
    versions: int
    champion_version: str | None
    latest_version: str | None
    changed_at: datetime | None
    changed_by: str | None
    approval_id: str | None
    ledger_agrees: bool


@dataclass(frozen=True)
class InferenceWindow:
    """The newest daily window of a production model's inference log."""

    model_name: str
    table: str
    window_date: date | None
    rows: int
    labelled_rows: int


@dataclass(frozen=True)
class Incident:
    """A drift incident, as the overview lists it."""

    incident_id: str
    model_name: str
    model_version: str
    status: str
    first_window: date
    last_window: date
    score: float | None
    drifted_features: tuple[str, ...]


@dataclass(frozen=True)
class Overview:
    """Everything the overview page shows."""

    workspace: str
    schema_version: int | None
    models: tuple[ModelStatus, ...]
    windows: tuple[InferenceWindow, ...]
    incidents: tuple[Incident, ...] = ()


def load_overview(warehouse: Warehouse, registries: dict[str, Registry]) -> Overview:
    """Collect the overview from the governance store and both registries.

    Raises:
        GovernanceError: The workspace or a registry is missing or unreadable.
    """
    with warehouse.session() as session:
        version = schema.schema_version(session)
        promoted = ledger.latest_by_type(session, "model_promoted")
        trained = {e.subject.split("/")[0]: e
                   for e in ledger.latest_by_type(session, "model_trained").values()}
        windows = []
        for model in session.fetch_rows("models/list"):
            table = model["inference_table"]
            rows = session.fetch_rows("inference/latest_window", {"log_table": table})
            first = rows[0] if rows else {}
            windows.append(InferenceWindow(
                model["model_name"], table, first.get("window_date"),
                int(first.get("n_rows") or 0), int(first.get("labelled_rows") or 0),
            ))
        incidents = tuple(
            Incident(r["incident_id"], r["model_name"], r["model_version"], r["status"],
                     r["first_window"], r["last_window"], r["score"],
                     tuple(json.loads(r["drifted_features"])))
            for r in session.fetch_rows("incidents/list")
        )
    statuses = []
    for env, registry in registries.items():
        for registered in registry.registered_models():
            name = registered.name
            champion = registry.champion(name)
            versions = registry.versions(name)
            entry = promoted.get(name) if env == "prod" else trained.get(name)
            agrees = True
            if env == "prod" and champion is not None:
                agrees = (entry is not None
                          and str(entry.payload.get("prod_version")) == str(champion.version))
            statuses.append(ModelStatus(
                env, name, len(versions), champion.version if champion else None,
                str(versions[-1].version) if versions else None,
                entry.time if entry else None, entry.actor if entry else None,
                entry.payload.get("approval_id") if entry and env == "prod" else None, agrees,
            ))
    return Overview(warehouse.describe(), version, tuple(statuses), tuple(windows), incidents)
