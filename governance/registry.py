"""The two MLflow environments and the registry gateway.

``uat`` and ``prod`` each have their own tracking + registry store: locally two sqlite files
with separate artifact roots under ``GOV_HOME/mlflow`` (no server needed), or the URIs given in
settings (e.g. ``databricks`` / ``databricks-uc``). Every client is built with explicit URIs;
the global ``mlflow.set_tracking_uri`` is never used, because MLflow 3 resolves some registry
calls through the global URI and would silently cross environments (stack-notes §8.2).

:class:`Registry` is the only way Driftgate code touches MLflow. Its write methods check the
prod guard, so a write to the prod store outside the promotion job raises
:class:`~governance.errors.EnvironmentViolation` before any request is sent.
"""

from __future__ import annotations

import functools
import hashlib
import os
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from governance import envguard
from governance.errors import BackendUnavailable
from governance.settings import Settings

if TYPE_CHECKING:
    from mlflow import MlflowClient
    from mlflow.entities import Run
    from mlflow.entities.model_registry import ModelVersion, RegisteredModel

ENVIRONMENTS = ("uat", "prod")
CHAMPION = "champion"


@dataclass(frozen=True)
class MlflowEnv:
    """Where one environment's MLflow data lives.

    Attributes:
        name: ``uat`` or ``prod``.
        uri: Tracking and registry URI.
        artifact_root: Folder for run artifacts of the local store (``None`` for remote URIs).
    """

    name: str
    uri: str
    artifact_root: Path | None

    @property
    def is_local(self) -> bool:
        """True for the embedded sqlite store."""
        return self.artifact_root is not None


def mlflow_envs(settings: Settings) -> dict[str, MlflowEnv]:
    """Return the uat and prod MLflow environments the settings describe."""
    envs = {}
    for name in ENVIRONMENTS:
        configured = getattr(settings, f"{name}_mlflow_uri")
        if configured:
            envs[name] = MlflowEnv(name, configured, None)
        else:
            db = (settings.mlflow_dir / f"{name}.db").resolve()
            envs[name] = MlflowEnv(name, f"sqlite:///{db}", settings.mlflow_dir.resolve()
                                   / f"{name}-artifacts")
    return envs


def model_digest(model_dir: Path) -> str:
    """Return a sha256 over every file path and content under ``model_dir`` (order-free)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        digest.update(path.relative_to(model_dir).as_posix().encode())
        digest.update(b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


class Registry:
    """Tracking and registry access for one environment.

    Reads are always allowed. Writes to ``prod`` need a grant from
    :func:`governance.envguard.prod_writes`, which only the promotion job holds.
    """

    def __init__(self, env: MlflowEnv) -> None:
        self.env = env

    @functools.cached_property
    def _client(self) -> MlflowClient:
        if self.env.is_local and not Path(self.env.uri.removeprefix("sqlite:///")).is_file():
            raise BackendUnavailable(
                f"the {self.env.name} MLflow store {self.env.uri} does not exist",
                hint="rebuild the workspace with `python -m governance demo --reset` (or set "
                f"GOV_{self.env.name.upper()}_MLFLOW_URI to the store's real location)",
            )
        return self._connect()

    def _connect(self) -> MlflowClient:
        from mlflow import MlflowClient

        try:
            return MlflowClient(tracking_uri=self.env.uri, registry_uri=self.env.uri)
        except Exception as exc:  # MLflow raises many unrelated types for a bad store
            raise BackendUnavailable(
                f"cannot open the {self.env.name} MLflow store {self.env.uri}: {exc}",
                hint="check the URI, or rebuild the demo with `python -m governance demo --reset`",
            ) from exc

    def create_store(self) -> None:
        """Create the local store (sqlite schema and artifact root) if missing."""
        self._check_write("create the MLflow store")
        if self.env.artifact_root is not None:
            self.env.artifact_root.mkdir(parents=True, exist_ok=True)
        self.__dict__["_client"] = self._connect()

    def _check_write(self, operation: str) -> None:
        if self.env.name == "prod":
            envguard.require_prod_write(f"MLflow {operation} in prod")

    # --- reads -------------------------------------------------------------------------------
    def registered_models(self) -> list[RegisteredModel]:
        """Every registered model, sorted by name."""
        return sorted(self._client.search_registered_models(), key=lambda m: m.name)

    def champion(self, name: str) -> ModelVersion | None:
        """The version holding the ``champion`` alias, or ``None``."""
        from mlflow.exceptions import MlflowException

        try:
            return self._client.get_model_version_by_alias(name, CHAMPION)
        except MlflowException:
            return None

    def versions(self, name: str) -> list[ModelVersion]:
        """Every version of ``name``, oldest first."""
        found = self._client.search_model_versions(f"name = '{_quote(name)}'")
        return sorted(found, key=lambda v: int(v.version))

    def model_version(self, name: str, version: str) -> ModelVersion:
        """One model version."""
        return self._client.get_model_version(name, version)

    def versions_tagged(self, name: str, key: str, value: str) -> list[ModelVersion]:
        """Versions of ``name`` whose tag ``key`` equals ``value``, oldest first."""
        return [v for v in self.versions(name) if v.tags.get(key) == value]

    def find_run(self, experiment: str, tags: Mapping[str, str]) -> str | None:
        """The newest finished run in ``experiment`` carrying all ``tags``, or ``None``."""
        found = self._client.get_experiment_by_name(experiment)
        if found is None:
            return None
        clauses = [f"tags.`{k}` = '{_quote(v)}'" for k, v in tags.items()]
        runs = self._client.search_runs(
            [found.experiment_id], " and ".join([*clauses, "attributes.status = 'FINISHED'"]),
            order_by=["attributes.start_time DESC"], max_results=1)
        return str(runs[0].info.run_id) if runs else None

    def run(self, run_id: str) -> Run:
        """One run, with params, metrics, tags and dataset inputs."""
        return self._client.get_run(run_id)

    def all_runs(self) -> list[Run]:
        """Every run of every active experiment (paged; for the local runs mirror)."""
        experiments = [e.experiment_id for e in self._client.search_experiments()]
        runs: list[Run] = []
        token = None
        while experiments:
            page = self._client.search_runs(experiments, max_results=1000, page_token=token)
            runs.extend(page)
            token = page.token
            if not token:
                break
        return runs

    def download_model(self, name: str, version: str, dest: Path) -> Path:
        """Download a version's model files into ``dest`` and return their folder."""
        from mlflow.artifacts import download_artifacts

        # Resolve through this environment's client: download_artifacts("models:/...") would
        # resolve the name through the *global* registry URI (stack-notes §8.2).
        uri = self._client.get_model_version_download_uri(name, version)
        return Path(download_artifacts(artifact_uri=uri, dst_path=str(dest),
                                       tracking_uri=self.env.uri))

    # --- writes ------------------------------------------------------------------------------
    def experiment_id(self, name: str) -> str:
        """Return the experiment ``name``, creating it (with this env's artifact root)."""
        found = self._client.get_experiment_by_name(name)
        if found is not None:
            return str(found.experiment_id)
        self._check_write(f"create experiment {name}")
        location = (self.env.artifact_root / name).as_uri() if self.env.artifact_root else None
        return str(self._client.create_experiment(name, artifact_location=location))

    def start_run(self, experiment: str, run_name: str, tags: Mapping[str, str]) -> str:
        """Create a run and return its id."""
        self._check_write(f"create run {run_name}")
        run = self._client.create_run(self.experiment_id(experiment), run_name=run_name,
                                      tags=dict(tags))
        return str(run.info.run_id)

    def log_run(
        self,
        run_id: str,
        *,
        params: Mapping[str, Any] | None = None,
        metrics: Mapping[str, float] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> None:
        """Log params, metrics and tags to a run in one batch."""
        from mlflow.entities import Metric, Param, RunTag

        self._check_write(f"log to run {run_id}")
        self._client.log_batch(
            run_id,
            metrics=[Metric(k, float(v), 0, 0) for k, v in (metrics or {}).items()],
            params=[Param(k, str(v)) for k, v in (params or {}).items()],
            tags=[RunTag(k, str(v)) for k, v in (tags or {}).items()],
        )

    def log_dataset(self, run_id: str, dataset: Any, context: str) -> None:
        """Attach an ``mlflow.data`` dataset to a run as an input (``log_input``)."""
        from mlflow.entities import DatasetInput, InputTag

        self._check_write(f"log dataset to run {run_id}")
        with warnings.catch_warnings():
            # MLflow's integer-column hint is about model signatures, not dataset records; left
            # alone it becomes an error under -W error, which MLflow swallows by dropping the
            # dataset's schema.
            warnings.filterwarnings("ignore", message=".*integer column", category=UserWarning)
            entity = dataset._to_mlflow_entity()
        self._client.log_inputs(
            run_id, datasets=[DatasetInput(entity, [InputTag("mlflow.data.context", context)])]
        )

    def log_artifacts(self, run_id: str, local_dir: Path, artifact_path: str) -> None:
        """Upload a folder as run artifacts."""
        self._check_write(f"log artifacts to run {run_id}")
        self._client.log_artifacts(run_id, str(local_dir), artifact_path)

    def end_run(self, run_id: str, status: str = "FINISHED") -> None:
        """Close a run."""
        self._check_write(f"end run {run_id}")
        self._client.set_terminated(run_id, status)

    def register_version(
        self, name: str, run_id: str, artifact_path: str, tags: Mapping[str, str],
        description: str = "",
    ) -> ModelVersion:
        """Register ``runs:/<run_id>/<artifact_path>`` as a new version of ``name``."""
        from mlflow.exceptions import MlflowException

        self._check_write(f"register a version of {name}")
        try:
            self._client.get_registered_model(name)
        except MlflowException:
            self._client.create_registered_model(name)
        return self._client.create_model_version(
            name, f"runs:/{run_id}/{artifact_path}", run_id=run_id, tags=dict(tags),
            description=description,
        )

    def set_version_tag(self, name: str, version: str, key: str, value: str) -> None:
        """Tag a model version."""
        self._check_write(f"tag {name} v{version}")
        self._client.set_model_version_tag(name, version, key, value)

    def set_champion(self, name: str, version: str) -> None:
        """Point the ``champion`` alias at ``version``."""
        self._check_write(f"move the champion alias of {name} to v{version}")
        self._client.set_registered_model_alias(name, CHAMPION, version)


def _quote(value: str) -> str:
    # MLflow's search filter is a string DSL without bind parameters; escape quotes.
    return value.replace("\\", "\\\\").replace("'", "\\'")


def table_dataset(frame: Any, table: str, target: str, digest: str) -> Any:
    """An ``mlflow.data`` dataset for a warehouse table, with Driftgate's content digest.

    A plain string source is ambiguous to MLflow (it warns and guesses a local file), and
    ``DeltaDatasetSource`` calls a Databricks workspace; :class:`_TableSource` just names the table.
    """
    from mlflow.data.pandas_dataset import from_pandas

    return from_pandas(frame, source=_table_source(table), name=table, targets=target,
                       digest=digest[:32])


@functools.cache
def _table_source_class() -> type:
    from mlflow.data.dataset_source import DatasetSource

    class _TableSource(DatasetSource):
        """A governed warehouse table, ``catalog.schema.table``."""

        def __init__(self, table: str) -> None:
            self.table = table

        @staticmethod
        def _get_source_type() -> str:
            return "warehouse_table"

        def load(self) -> str:
            return self.table

        @staticmethod
        def _can_resolve(raw_source: Any) -> bool:
            return False

        @classmethod
        def _resolve(cls, raw_source: Any) -> _TableSource:
            return cls(str(raw_source))

        def to_dict(self) -> dict[str, Any]:
            return {"table": self.table}

        @classmethod
        def from_dict(cls, source_dict: dict[Any, Any]) -> _TableSource:
            return cls(str(source_dict["table"]))

    return _TableSource


def _table_source(table: str) -> Any:
    return _table_source_class()(table)


def release_local_stores(settings: Settings) -> None:
    """Forget MLflow's cached connections to this workspace's sqlite stores.

    MLflow keeps one SQLAlchemy engine per store URI for the life of the process; after the
    files are deleted and rebuilt (``demo --reset``), a stale engine points at the old files.
    """
    try:
        from mlflow.store.model_registry.sqlalchemy_store import (
            SqlAlchemyStore as RegistryStore,
        )
        from mlflow.store.tracking.sqlalchemy_store import SqlAlchemyStore as TrackingStore
    except ImportError:  # pragma: no cover - full mlflow is a runtime dependency
        return
    for env in mlflow_envs(settings).values():
        if not env.is_local:
            continue
        for store in (TrackingStore, RegistryStore):
            engine_map = getattr(store, "_engine_map", {})
            engine = engine_map.pop(env.uri, None)
            if engine is not None:
                engine.dispose()
    from mlflow.tracking._model_registry.registry import ModelRegistryStoreRegistry
    from mlflow.tracking._tracking_service.registry import TrackingStoreRegistry

    # The store objects themselves are cached per URI too (an lru_cache on a method).
    for registry in (TrackingStoreRegistry, ModelRegistryStoreRegistry):
        registry._get_store_with_resolved_uri.cache_clear()


def registries(settings: Settings) -> dict[str, Registry]:
    """One :class:`Registry` per environment."""
    return {name: Registry(env) for name, env in mlflow_envs(settings).items()}


def quiet_mlflow() -> None:
    """Silence MLflow's own progress bars and telemetry for CLI and test output."""
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
