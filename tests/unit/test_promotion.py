"""The promotion job: what the demo's bootstrap promotions left in prod, and failure handling.

The first half reads the shared demo workspace. The second half promotes on private copies of
it (MLflow artifact paths repointed at the copy) and injects failures.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pytest

from governance import ledger, promotion
from governance.envguard import current_grant
from governance.errors import EnvironmentViolation
from governance.overview import load_overview
from governance.promotion import PROMOTION_EXPERIMENT, PromotionFailed, promote
from governance.registry import Registry, model_digest, registries
from governance.settings import Settings, load_settings
from governance.warehouse import Warehouse, open_warehouse

MODELS = ["basket_propensity", "demand_forecast", "price_elasticity"]
DRIFTGATE_TAGS = {
    "driftgate.approval_id", "driftgate.source_model_uri", "driftgate.source_environment",
    "driftgate.source_run_id", "driftgate.model_digest", "driftgate.ledger_hash",
}


@dataclass(frozen=True)
class Downloaded:
    """One model's UAT and prod copies, downloaded from the demo."""

    uat_dir: Path
    prod_dir: Path


@pytest.fixture(scope="module")
def demo_regs(demo_settings: Settings) -> dict[str, Registry]:
    """Read-only registries of the shared demo."""
    return registries(demo_settings)


@pytest.fixture(scope="module")
def promoted(demo_settings: Settings) -> dict[str, ledger.LedgerEntry]:
    """The bootstrap model_promoted ledger entry per model in the demo (the first one; the demo
    later promotes basket_propensity's drift candidate as well)."""
    with open_warehouse(demo_settings).session() as session:
        first: dict[str, ledger.LedgerEntry] = {}
        for entry in ledger.entries(session, event_type="model_promoted"):
            first.setdefault(entry.subject, entry)
        return first


@pytest.fixture(scope="module")
def downloads(
    demo_regs: dict[str, Registry], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Downloaded]:
    """UAT v1 and its bootstrap copy in prod (prod v1) of every model, downloaded once."""
    out = {}
    for name in MODELS:
        champion = demo_regs["prod"].model_version(name, "1")
        assert champion is not None
        root = tmp_path_factory.mktemp(name)
        out[name] = Downloaded(
            demo_regs["uat"].download_model(name, "1", root / "uat"),
            demo_regs["prod"].download_model(name, str(champion.version), root / "prod"),
        )
    return out


# --- the demo's bootstrap promotions -------------------------------------------------------


@pytest.mark.parametrize("name", MODELS)
def test_prod_champion_carries_exactly_the_provenance_tags(
    name: str, demo_regs: dict[str, Registry], promoted: dict[str, ledger.LedgerEntry],
    downloads: dict[str, Downloaded],
) -> None:
    """Approval id, source URI/env/run, digest of both copies and the ledger entry's hash."""
    champion = demo_regs["prod"].model_version(name, "1")
    source = demo_regs["uat"].model_version(name, "1")
    assert champion is not None

    tags = dict(champion.tags)

    assert DRIFTGATE_TAGS == set(tags)
    assert f"bootstrap-{name}-v1" == tags["driftgate.approval_id"]
    assert f"models:/{name}/1" == tags["driftgate.source_model_uri"]
    assert "uat" == tags["driftgate.source_environment"]
    assert str(source.run_id) == tags["driftgate.source_run_id"]
    assert model_digest(downloads[name].uat_dir) == tags["driftgate.model_digest"]
    assert model_digest(downloads[name].prod_dir) == tags["driftgate.model_digest"]
    assert promoted[name].hash == tags["driftgate.ledger_hash"]


@pytest.mark.parametrize("name", MODELS)
def test_uat_tags_are_not_carried_to_prod(name: str, demo_regs: dict[str, Registry]) -> None:
    """The UAT version's own tags (e.g. the dataset digest) stay in UAT."""
    source = demo_regs["uat"].model_version(name, "1")
    champion = demo_regs["prod"].model_version(name, "1")
    assert champion is not None

    assert "driftgate.dataset_digest" in source.tags
    assert set(source.tags).isdisjoint(champion.tags)


@pytest.mark.parametrize("name", MODELS)
def test_ledger_entry_describes_the_promotion(
    name: str, demo_regs: dict[str, Registry], promoted: dict[str, ledger.LedgerEntry]
) -> None:
    """The model_promoted payload names both versions, the runs, the approval and the digest."""
    champion = demo_regs["prod"].model_version(name, "1")
    source = demo_regs["uat"].model_version(name, "1")
    assert champion is not None
    entry = promoted[name]

    assert ("system:demo", "prod", name) == (entry.actor, entry.environment, entry.subject)
    assert {
        "approval_id": f"bootstrap-{name}-v1",
        "reason": "bootstrap",
        "uat_version": "1",
        "prod_version": str(champion.version),
        "source_model_uri": f"models:/{name}/1",
        "source_run_id": str(source.run_id),
        "prod_run_id": str(champion.run_id),
        "model_digest": champion.tags["driftgate.model_digest"],
    } == dict(entry.payload)


@pytest.mark.parametrize("name", MODELS)
def test_prod_copy_was_logged_by_a_finished_promotion_run(
    name: str, demo_regs: dict[str, Registry]
) -> None:
    """The prod version comes from a FINISHED run in the promotions experiment, tagged too."""
    prod = demo_regs["prod"]
    champion = prod.model_version(name, "1")
    source = demo_regs["uat"].model_version(name, "1")
    assert champion is not None

    run = prod.run(str(champion.run_id))

    assert "FINISHED" == run.info.status
    assert prod.experiment_id(PROMOTION_EXPERIMENT) == run.info.experiment_id
    assert f"bootstrap-{name}-v1" == run.data.tags["driftgate.approval_id"]
    assert str(source.run_id) == run.data.tags["driftgate.source_run_id"]
    # Different stores: the prod run is a new run, not the UAT one.
    assert str(source.run_id) != str(champion.run_id)


def _inference_rows(demo_settings: Settings, name: str) -> tuple[list[str], object]:
    """The model's feature list and the first 20 rows of its inference log."""
    path = demo_settings.duckdb_dir / "workspace.duckdb"
    with duckdb.connect(str(path), read_only=True) as con:
        (features,) = con.execute(
            "SELECT features FROM governance.models WHERE model_name = ?", [name]).fetchone()
        frame = con.execute(
            f'SELECT * FROM prod_inference."{name}" ORDER BY event_date, request_id LIMIT 20'
        ).df()
    return json.loads(features), frame


@pytest.mark.parametrize("name", [
    "demand_forecast",
    "price_elasticity",
    pytest.param("basket_propensity"),
])
def test_prod_champion_loads_and_reproduces_the_logged_predictions(
    name: str, demo_settings: Settings, downloads: dict[str, Downloaded]
) -> None:
    """mlflow.pyfunc loads the prod copy and predicts what the inference log recorded."""
    import mlflow.pyfunc

    features, frame = _inference_rows(demo_settings, name)
    model = mlflow.pyfunc.load_model(str(downloads[name].prod_dir))
    inputs = frame[features]
    inputs = inputs.astype(dict.fromkeys(inputs.select_dtypes("integer").columns, "float64"))

    predicted = np.asarray(model.predict(inputs), dtype=float)

    assert (20,) == predicted.shape
    np.testing.assert_allclose(predicted, frame["prediction"].to_numpy(), rtol=1e-5, atol=1e-6)


# --- promoting on a private copy -------------------------------------------------------------


@dataclass(frozen=True)
class Workspace:
    """A private copy of the demo: settings, warehouse and both registries."""

    settings: Settings
    warehouse: Warehouse
    uat: Registry
    prod: Registry

    def promote(self, name: str, approval_id: str) -> promotion.Promotion:
        """Promote UAT v1 of ``name`` as the promotion job would."""
        return promote(self.warehouse, self.uat, self.prod, model_name=name, uat_version="1",
                       approval_id=approval_id, actor="system:promotion-job",
                       reason="approved")

    def rows(self) -> list[tuple[int, str, str]]:
        """(seq, type, hash) of every ledger entry."""
        with self.warehouse.session() as session:
            return [(e.seq, e.type, e.hash) for e in ledger.entries(session)]

    def verification(self) -> ledger.Verification:
        """The ledger's verification."""
        with self.warehouse.session() as session:
            return ledger.verify(session)

    def champion_version(self, name: str) -> str:
        """The prod champion's version, read through a fresh client."""
        champion = registries(self.settings)["prod"].champion(name)
        assert champion is not None
        return str(champion.version)


@pytest.fixture
def workspace(demo_settings: Settings, tmp_path: Path,
              copy_home: Callable[[Path, Path], Path]) -> Workspace:
    """A private, promotable copy of the demo workspace."""
    home = copy_home(demo_settings.home, tmp_path / "home")
    settings = load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small"}, {})
    regs = registries(settings)
    return Workspace(settings, open_warehouse(settings), regs["uat"], regs["prod"])


def test_digest_mismatch_fails_without_moving_the_champion_or_the_ledger(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A copy whose digest differs raises PromotionFailed; alias, ledger and grant untouched."""
    real, calls = model_digest, []

    def flaky_digest(path: Path) -> str:
        calls.append(path)
        return real(path) if len(calls) == 1 else "0" * 64

    monkeypatch.setattr(promotion, "model_digest", flaky_digest)
    before = workspace.rows()

    with pytest.raises(PromotionFailed,
                       match=r"demand_forecast: prod v2 does not match uat v1") as info:
        workspace.promote("demand_forecast", "approval-1")

    assert 2 == len(calls)
    assert "retry the promotion with the same approval" == info.value.hint
    assert "1" == workspace.champion_version("demand_forecast")
    assert before == workspace.rows()
    assert workspace.verification().intact
    assert current_grant() is None
    (failed,) = [v for v in workspace.prod.versions("demand_forecast") if str(v.version) == "2"]
    assert "FAILED" == workspace.prod.run(str(failed.run_id)).info.status
    assert "driftgate.ledger_hash" not in failed.tags


def test_failed_promotion_can_be_retried_with_the_same_approval(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a failed attempt, the same approval promotes cleanly and the ledger agrees."""
    before = workspace.rows()
    with monkeypatch.context() as patch:
        patch.setattr(promotion, "model_digest", lambda path: str(path))
        with pytest.raises(PromotionFailed, match="does not match"):
            workspace.promote("demand_forecast", "approval-2")

    done = workspace.promote("demand_forecast", "approval-2")

    assert ("demand_forecast", "1", "3") == (done.model_name, done.uat_version, done.prod_version)
    assert "3" == workspace.champion_version("demand_forecast")
    rows = workspace.rows()
    assert before == rows[:-1]
    assert (done.ledger_seq, "model_promoted") == rows[-1][:2]
    assert workspace.verification().intact
    statuses = load_overview(workspace.warehouse, registries(workspace.settings))
    prod = {m.model_name: m for m in statuses.models if m.environment == "prod"}
    assert prod["demand_forecast"].ledger_agrees
    assert "approval-2" == prod["demand_forecast"].approval_id


def test_promote_opens_its_own_grant_and_does_not_leak_it(workspace: Workspace) -> None:
    """promote() outside any grant succeeds; afterwards a direct prod write is refused."""
    assert current_grant() is None

    done = workspace.promote("price_elasticity", "approval-3")

    assert current_grant() is None
    assert "2" == done.prod_version
    assert "2" == workspace.champion_version("price_elasticity")
    version = workspace.prod.model_version("price_elasticity", "2")
    assert done.digest == version.tags["driftgate.model_digest"]
    assert "approval-3" == version.tags["driftgate.approval_id"]
    assert workspace.rows()[-1][2] == version.tags["driftgate.ledger_hash"]
    with pytest.raises(EnvironmentViolation, match="champion alias of price_elasticity to v1"):
        workspace.prod.set_champion("price_elasticity", "1")
    assert "2" == workspace.champion_version("price_elasticity")
    assert workspace.verification().intact


def test_promote_refuses_a_missing_uat_version_before_touching_prod(
    workspace: Workspace,
) -> None:
    """Promoting a UAT version that does not exist fails and leaves prod and the ledger alone."""
    from mlflow.exceptions import MlflowException

    before = workspace.rows()

    with pytest.raises(MlflowException, match="demand_forecast"):
        promote(workspace.warehouse, workspace.uat, workspace.prod,
                model_name="demand_forecast", uat_version="9", approval_id="approval-4",
                actor="system:promotion-job", reason="approved")

    assert ["1"] == [str(v.version) for v in workspace.prod.versions("demand_forecast")]
    assert before == workspace.rows()


def test_alias_move_failure_leaves_no_promotion_in_the_ledger(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When moving the alias fails, the ledger records no promotion and still agrees."""
    def broken_alias(name: str, version: str) -> None:
        raise RuntimeError(f"injected: cannot move the alias of {name}")

    monkeypatch.setattr(workspace.prod, "set_champion", broken_alias)
    before = workspace.rows()

    with pytest.raises((RuntimeError, PromotionFailed), match="demand_forecast"):
        workspace.promote("demand_forecast", "approval-5")

    assert "1" == workspace.champion_version("demand_forecast")
    assert before == workspace.rows()
    statuses = load_overview(workspace.warehouse, registries(workspace.settings))
    assert all(m.ledger_agrees for m in statuses.models)
