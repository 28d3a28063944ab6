"""The MLflow environments and the registry gateway's prod write guard.

Reads run on the shared demo workspace. Attempted prod writes run on a private copy of it (with
the MLflow stores' absolute artifact paths repointed at the copy), so a broken guard cannot
damage the workspace other tests share; the copy is the demo, byte for byte, otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from mlflow import MlflowClient

from governance.envguard import current_grant, prod_writes
from governance.errors import BackendUnavailable, EnvironmentViolation
from governance.promotion import PROMOTION_EXPERIMENT
from governance.registry import (
    MlflowEnv,
    Registry,
    mlflow_envs,
    model_digest,
    registries,
    table_dataset,
)
from governance.settings import Settings, load_settings

MODELS = ["basket_propensity", "demand_forecast", "price_elasticity"]


def small_settings(home: Path) -> Settings:
    """Settings for a small demo home."""
    return load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small"}, {})


def files_under(folder: Path) -> set[str]:
    """Relative paths of every file under ``folder``."""
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def store_state(env: MlflowEnv) -> dict[str, Any]:
    """Everything a prod write could change, read through a plain MLflow client."""
    client = MlflowClient(tracking_uri=env.uri, registry_uri=env.uri)
    experiments = client.search_experiments()
    runs = client.search_runs([e.experiment_id for e in experiments])
    models = {}
    for registered in client.search_registered_models():
        versions = client.search_model_versions(f"name = '{registered.name}'")
        models[registered.name] = {
            "aliases": {k: str(v) for k, v in registered.aliases.items()},
            "versions": {str(v.version): dict(v.tags) for v in versions},
        }
    assert env.artifact_root is not None
    return {
        "experiments": sorted(e.name for e in experiments),
        "runs": {r.info.run_id: (r.info.status, dict(r.data.metrics), dict(r.data.params),
                                 dict(r.data.tags), len(r.inputs.dataset_inputs))
                 for r in runs},
        "models": models,
        "artifacts": files_under(env.artifact_root),
    }


@dataclass
class Target:
    """What the attempted writes aim at in the copied prod store."""

    registry: Registry
    model: str
    run_id: str
    folder: Path


@pytest.fixture(scope="module")
def guarded_home(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory,
                 copy_home: Callable[[Path, Path], Path]) -> Settings:
    """A private copy of the demo workspace for attempted prod writes."""
    return small_settings(copy_home(demo_settings.home, tmp_path_factory.mktemp("guard") / "h"))


@pytest.fixture(scope="module")
def baseline(guarded_home: Settings) -> dict[str, Any]:
    """The prod store's state before any attempted write."""
    return store_state(mlflow_envs(guarded_home)["prod"])


@pytest.fixture
def target(guarded_home: Settings, baseline: dict[str, Any], tmp_path: Path) -> Target:
    """A fresh prod Registry on the copy, and a real prod run and model to aim at."""
    prod = registries(guarded_home)["prod"]
    champion = prod.champion("demand_forecast")
    assert champion is not None
    folder = tmp_path / "payload"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(b"forged model")
    return Target(prod, "demand_forecast", str(champion.run_id), folder)


def _dataset() -> Any:
    frame = pd.DataFrame({"x": [1.0, 2.0], "y": [0.0, 1.0]})
    return table_dataset(frame, "uat.training.forged_v9", "y", "f" * 64)


PROD_WRITES: dict[str, Callable[[Target], object]] = {
    "create_store": lambda t: t.registry.create_store(),
    "experiment_id-new-name": lambda t: t.registry.experiment_id("rogue-experiment"),
    "start_run": lambda t: t.registry.start_run(PROMOTION_EXPERIMENT, "rogue", {"k": "v"}),
    "start_run-new-experiment": lambda t: t.registry.start_run("rogue-experiment", "rogue", {}),
    "log_run": lambda t: t.registry.log_run(t.run_id, params={"p": 1},
                                            metrics={"forged": 1.0}, tags={"t": "x"}),
    "log_artifacts": lambda t: t.registry.log_artifacts(t.run_id, t.folder, "model"),
    "log_dataset": lambda t: t.registry.log_dataset(t.run_id, _dataset(), "training"),
    "end_run": lambda t: t.registry.end_run(t.run_id, "FAILED"),
    "register_version": lambda t: t.registry.register_version(
        t.model, t.run_id, "model", {"driftgate.approval_id": "forged"}),
    "register_version-new-model": lambda t: t.registry.register_version(
        "rogue_model", t.run_id, "model", {}),
    "set_version_tag": lambda t: t.registry.set_version_tag(
        t.model, "1", "driftgate.approval_id", "forged"),
    "set_champion": lambda t: t.registry.set_champion(t.model, "1"),
}


@pytest.mark.parametrize("write", list(PROD_WRITES), ids=list(PROD_WRITES))
def test_prod_write_without_grant_is_refused_and_changes_nothing(
    write: str, target: Target, guarded_home: Settings, baseline: dict[str, Any]
) -> None:
    """Every prod write method raises EnvironmentViolation and leaves the store as it was."""
    assert current_grant() is None

    with pytest.raises(EnvironmentViolation, match=r"would write to 'prod' outside the promotion"):
        PROD_WRITES[write](target)

    assert baseline == store_state(mlflow_envs(guarded_home)["prod"])


def test_refused_write_names_the_operation(target: Target) -> None:
    """The violation says what was attempted, on which model and version."""
    with pytest.raises(EnvironmentViolation,
                       match=r"MLflow move the champion alias of demand_forecast to v7 in prod"):
        target.registry.set_champion("demand_forecast", "7")


def test_prod_store_keeps_one_champion_per_model(guarded_home: Settings,
                                                 baseline: dict[str, Any]) -> None:
    """The copied prod store (the demo) has one champion per model: the bootstrap v1, and v2
    for basket_propensity, whose drift candidate the demo approved and promoted."""
    assert MODELS == sorted(baseline["models"])
    for name in MODELS:
        latest = "2" if name == "basket_propensity" else "1"
        assert {"champion": latest} == baseline["models"][name]["aliases"]
        assert [str(v) for v in range(1, int(latest) + 1)] == sorted(
            baseline["models"][name]["versions"])
    assert PROMOTION_EXPERIMENT in baseline["experiments"]


def test_uat_registry_is_never_guarded(demo_settings: Settings) -> None:
    """A write on the UAT registry is not refused for lack of a grant (it reaches MLflow)."""
    from mlflow.exceptions import MlflowException

    uat = registries(demo_settings)["uat"]
    # A version that does not exist: MLflow itself refuses, proving the guard let it through
    # without changing anything in the shared demo.
    with pytest.raises(MlflowException, match="99"):
        uat.set_champion("demand_forecast", "99")


# --- reads on the demo ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_regs(demo_settings: Settings) -> dict[str, Registry]:
    """Read-only registries of the shared demo."""
    return registries(demo_settings)


def test_reads_list_models_champions_versions_and_runs(demo_regs: dict[str, Registry]) -> None:
    """Prod lists three models with their champions (basket_propensity's is the promoted v2),
    and each champion's promotion run reads back with its approval id."""
    prod = demo_regs["prod"]
    approval = {"basket_propensity": "APR-basket_propensity-20261005"}

    assert MODELS == [m.name for m in prod.registered_models()]
    for name in MODELS:
        champion = prod.champion(name)
        assert champion is not None
        latest = "2" if name in approval else "1"
        assert latest == str(champion.version)
        assert [str(v) for v in range(1, int(latest) + 1)] == [
            str(v.version) for v in prod.versions(name)]
        run = prod.run(str(champion.run_id))
        assert approval.get(name, f"bootstrap-{name}-v1") == run.data.tags["driftgate.approval_id"]
        assert "FINISHED" == run.info.status


def test_uat_run_carries_params_metrics_and_dataset_input(demo_regs: dict[str, Registry]) -> None:
    """The UAT training run of each model's v1 has params, metrics and a training dataset."""
    uat = demo_regs["uat"]
    for name in MODELS:
        version = uat.model_version(name, "1")
        run = uat.run(str(version.run_id))
        assert {"algorithm", "features", "seed"} <= set(run.data.params)
        assert any(k.startswith("importance.") for k in run.data.metrics)
        (dataset_input,) = run.inputs.dataset_inputs
        assert f"uat.training.{name}_v1" == dataset_input.dataset.name
        assert [("mlflow.data.context", "training")] == [
            (t.key, t.value) for t in dataset_input.tags]


def test_champion_of_unknown_model_or_unset_alias_is_none(demo_regs: dict[str, Registry]) -> None:
    """No champion reads as None: unknown model, and UAT (which has no aliases)."""
    assert demo_regs["prod"].champion("no_such_model") is None
    assert demo_regs["uat"].champion("demand_forecast") is None


def test_versions_of_unknown_model_is_empty(demo_regs: dict[str, Registry]) -> None:
    """A name with quotes is escaped in the filter and simply matches nothing."""
    assert [] == demo_regs["prod"].versions("it's' OR name != '")


# --- UAT writes and the positive control -----------------------------------------------------


def _write_everything(reg: Registry, folder: Path) -> str:
    """Run every write method once on ``reg``; return the run id."""
    reg.create_store()
    run_id = reg.start_run("exp", "run-1", {"driftgate.model": "m"})
    reg.log_run(run_id, params={"alpha": 0.5}, metrics={"rmse": 1.25}, tags={"t": "x"})
    reg.log_dataset(run_id, _dataset(), "training")
    reg.log_artifacts(run_id, folder, "model")
    reg.end_run(run_id)
    version = reg.register_version("m", run_id, "model", {"k": "v"}, description="d")
    reg.set_version_tag("m", str(version.version), "k2", "v2")
    reg.set_champion("m", str(version.version))
    return run_id


def _check_written(reg: Registry, run_id: str) -> None:
    champion = reg.champion("m")
    assert champion is not None
    assert ("1", {"k": "v", "k2": "v2"}) == (str(champion.version), dict(champion.tags))
    run = reg.run(run_id)
    assert (1.25, "0.5", "FINISHED") == (run.data.metrics["rmse"], run.data.params["alpha"],
                                         run.info.status)
    assert 1 == len(run.inputs.dataset_inputs)
    assert reg.env.artifact_root is not None
    assert "exp" in {p.name for p in reg.env.artifact_root.iterdir()}
    assert any(p.endswith("model/model.pkl") for p in files_under(reg.env.artifact_root))


def test_uat_writes_need_no_grant(tmp_path: Path) -> None:
    """On a UAT store every write method works without any grant."""
    folder = tmp_path / "payload"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(b"model")
    uat = Registry(MlflowEnv("uat", f"sqlite:///{tmp_path / 'uat.db'}", tmp_path / "uat-art"))

    assert current_grant() is None
    run_id = _write_everything(uat, folder)

    _check_written(uat, run_id)


def test_fresh_prod_store_is_not_even_created_without_a_grant(tmp_path: Path) -> None:
    """create_store on prod without a grant raises before the sqlite file or folder exists."""
    db = tmp_path / "prod.db"
    prod = Registry(MlflowEnv("prod", f"sqlite:///{db}", tmp_path / "prod-art"))

    with pytest.raises(EnvironmentViolation, match="create the MLflow store in prod"):
        prod.create_store()

    assert not db.exists()
    assert not (tmp_path / "prod-art").exists()


def test_prod_writes_work_inside_the_promotion_grant(tmp_path: Path) -> None:
    """The guard is not a blanket refusal: with the promotion grant, prod writes all succeed."""
    folder = tmp_path / "payload"
    folder.mkdir()
    (folder / "model.pkl").write_bytes(b"model")
    prod = Registry(MlflowEnv("prod", f"sqlite:///{tmp_path / 'prod.db'}", tmp_path / "prod-art"))

    with prod_writes("governance.promotion", "test"):
        run_id = _write_everything(prod, folder)

    _check_written(prod, run_id)
    with pytest.raises(EnvironmentViolation, match="tag m v1"):
        prod.set_version_tag("m", "1", "k", "late")


# --- unusable stores ------------------------------------------------------------------------


def test_missing_store_is_backend_unavailable_and_not_created(tmp_path: Path) -> None:
    """A missing sqlite file raises BackendUnavailable naming the store and the demo command."""
    db = tmp_path / "mlflow" / "prod.db"
    prod = Registry(MlflowEnv("prod", f"sqlite:///{db}", tmp_path / "prod-art"))

    with pytest.raises(BackendUnavailable, match=r"the prod MLflow store sqlite:///.*prod\.db "
                       r"does not exist") as info:
        prod.registered_models()

    assert "python -m governance demo" in info.value.hint
    assert not db.exists()


def test_deleted_store_of_a_seeded_workspace_hints_the_reset(
    demo_settings: Settings, tmp_path: Path, copy_home: Callable[[Path, Path], Path]
) -> None:
    """A seeded workspace missing prod.db names `demo --reset`, the command that repairs it."""
    settings = small_settings(copy_home(demo_settings.home, tmp_path / "home"))
    (settings.mlflow_dir / "prod.db").unlink()

    with pytest.raises(BackendUnavailable, match="prod MLflow store") as info:
        registries(settings)["prod"].champion("demand_forecast")

    assert "demo --reset" in info.value.hint


def test_corrupt_store_is_backend_unavailable(tmp_path: Path) -> None:
    """Garbage bytes in the sqlite file raise BackendUnavailable with the reset hint."""
    db = tmp_path / "prod.db"
    db.write_bytes(b"\x00\x01 not sqlite at all \xff" * 300)
    prod = Registry(MlflowEnv("prod", f"sqlite:///{db}", tmp_path / "prod-art"))

    with pytest.raises(BackendUnavailable, match=r"cannot open the prod MLflow store") as info:
        prod.registered_models()

    assert "demo --reset" in info.value.hint


def test_corrupt_store_is_backend_unavailable_for_every_read(tmp_path: Path) -> None:
    """The champion lookup (which swallows MLflow errors) still reports a corrupt store."""
    db = tmp_path / "uat.db"
    db.write_bytes(b"\x00\x01 not sqlite at all \xff" * 300)
    uat = Registry(MlflowEnv("uat", f"sqlite:///{db}", tmp_path / "uat-art"))

    with pytest.raises(BackendUnavailable, match=r"cannot open the uat MLflow store"):
        uat.champion("demand_forecast")


# --- environments ---------------------------------------------------------------------------


def test_local_envs_live_under_gov_home_with_separate_artifact_roots(tmp_path: Path) -> None:
    """Default URIs are two sqlite files under GOV_HOME/mlflow, each with its own artifacts."""
    home = tmp_path / "home"
    envs = mlflow_envs(load_settings({"GOV_HOME": str(home)}, {}))

    mlflow_dir = (home / "mlflow").resolve()
    assert ["uat", "prod"] == list(envs)
    for name, env in envs.items():
        assert name == env.name
        assert f"sqlite:///{mlflow_dir / f'{name}.db'}" == env.uri
        assert mlflow_dir / f"{name}-artifacts" == env.artifact_root
        assert env.is_local
    assert envs["uat"].artifact_root != envs["prod"].artifact_root
    assert envs["uat"].uri != envs["prod"].uri


def test_relative_gov_home_gives_absolute_uris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A relative GOV_HOME is resolved, so a later chdir cannot move the stores."""
    monkeypatch.chdir(tmp_path)
    envs = mlflow_envs(load_settings({"GOV_HOME": "var"}, {}))

    assert f"sqlite:///{tmp_path.resolve() / 'var' / 'mlflow' / 'prod.db'}" == envs["prod"].uri
    assert envs["prod"].artifact_root is not None
    assert envs["prod"].artifact_root.is_absolute()


def test_configured_uri_is_used_as_is_and_the_other_env_stays_local(tmp_path: Path) -> None:
    """GOV_UAT_MLFLOW_URI is respected (no artifact root); prod keeps its local store."""
    envs = mlflow_envs(load_settings(
        {"GOV_HOME": str(tmp_path), "GOV_UAT_MLFLOW_URI": "databricks://uat-profile"}, {}))

    assert MlflowEnv("uat", "databricks://uat-profile", None) == envs["uat"]
    assert not envs["uat"].is_local
    assert envs["prod"].is_local
    assert envs["prod"].uri.endswith("/mlflow/prod.db")


def test_both_configured_uris_are_used(tmp_path: Path) -> None:
    """With both URIs configured nothing local is used."""
    envs = mlflow_envs(load_settings({
        "GOV_HOME": str(tmp_path), "GOV_UAT_MLFLOW_URI": "databricks",
        "GOV_PROD_MLFLOW_URI": "databricks-uc"}, {}))

    assert {"uat": ("databricks", None), "prod": ("databricks-uc", None)} == {
        k: (e.uri, e.artifact_root) for k, e in envs.items()}


def test_registries_are_one_gateway_per_environment(tmp_path: Path) -> None:
    """registries() wraps each environment in its own Registry."""
    settings = load_settings({"GOV_HOME": str(tmp_path)}, {})

    regs = registries(settings)

    assert {"uat", "prod"} == set(regs)
    assert mlflow_envs(settings) == {k: r.env for k, r in regs.items()}


# --- model digest ---------------------------------------------------------------------------


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    root.mkdir(parents=True)
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


FILES = {"MLmodel": b"flavors: {}\n", "model.skops": b"\x00\x01weights", "sub/req.txt": b"x==1\n"}


def test_digest_ignores_creation_order_and_location(tmp_path: Path) -> None:
    """Two folders with the same files, written in opposite order, have the same digest."""
    a = _tree(tmp_path / "a", FILES)
    b = _tree(tmp_path / "elsewhere" / "b", dict(reversed(FILES.items())))

    assert model_digest(a) == model_digest(b)
    assert 64 == len(model_digest(a))


@pytest.mark.parametrize("change", [
    "flip one byte", "append one byte", "rename a file", "move a file into a folder",
    "add an empty file", "swap two files' contents", "remove a file",
])
def test_digest_changes_with_any_byte_or_name(change: str, tmp_path: Path) -> None:
    """Any change to a file's bytes, name, place or presence changes the digest."""
    files = dict(FILES)
    if change == "flip one byte":
        files["model.skops"] = b"\x00\x02weights"
    elif change == "append one byte":
        files["MLmodel"] += b" "
    elif change == "rename a file":
        files["model.skops2"] = files.pop("model.skops")
    elif change == "move a file into a folder":
        files["sub/MLmodel"] = files.pop("MLmodel")
    elif change == "add an empty file":
        files["extra"] = b""
    elif change == "swap two files' contents":
        files["MLmodel"], files["model.skops"] = files["model.skops"], files["MLmodel"]
    else:
        del files["sub/req.txt"]

    assert model_digest(_tree(tmp_path / "a", FILES)) != model_digest(_tree(tmp_path / "b", files))
