"""The retail demo build: determinism, idempotence, recovery from a crash, --reset, ledger, lineage.

Builds are expensive (~10 s each at small scale), so the module builds two workspaces and asks
several questions of each:

* ``rebuilt``: a build crashed by an injected failure in the second bootstrap promotion, then
  completed by the next ``seed()``; compared with the shared demo (same seed) it proves both
  "a crash leaves nothing half-written" and "same seed, same data and metrics".
* ``reseeded``: a copy of the demo rebuilt with ``demo --reset --seed 7`` through the CLI.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest

from governance import ledger
from governance.cli import main
from governance.demo import seed as seed_module
from governance.demo.seed import SOURCES, SeedReport, is_seeded, seed
from governance.lineage import frame_digest
from governance.registry import registries
from governance.settings import Settings, load_settings
from governance.warehouse import open_warehouse

ROOT = Path(__file__).resolve().parents[2]
MODELS = ["demand_forecast", "price_elasticity", "basket_propensity"]
# The bootstrap copies, plus basket_propensity's drift candidate the demo approves and promotes.
PROD_VERSIONS = {"demand_forecast": ["1"], "price_elasticity": ["1"],
                 "basket_propensity": ["1", "2"]}
DATA_SCHEMAS = ("prod_retail", "prod_features", "uat_training", "prod_inference")


def small_settings(home: Path, seed_value: int = 42) -> Settings:
    """Settings of a small demo home."""
    return load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small",
                          "GOV_DEMO_SEED": str(seed_value)}, {})


def workspace_path(settings: Settings) -> Path:
    """The DuckDB file of a home."""
    return settings.duckdb_dir / "workspace.duckdb"


def table_digests(settings: Settings, schemas: tuple[str, ...] = DATA_SCHEMAS) -> dict[str, str]:
    """frame_digest of every table in ``schemas``, rows in a canonical order."""
    out = {}
    with duckdb.connect(str(workspace_path(settings)), read_only=True) as con:
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema IN (SELECT unnest(?)) ORDER BY ALL", [list(schemas)]).fetchall()
        for schema, table in tables:
            frame = con.execute(f'SELECT * FROM "{schema}"."{table}" ORDER BY ALL').df()
            out[f"{schema}.{table}"] = frame_digest(frame)
    return out


def ledger_entries(settings: Settings) -> list[ledger.LedgerEntry]:
    """Every ledger entry of a home, oldest first."""
    with open_warehouse(settings).session() as session:
        return list(ledger.entries(session))


def uat_metrics(settings: Settings) -> dict[str, dict[str, float]]:
    """The logged metrics of each model's UAT v1 training run."""
    uat = registries(settings)["uat"]
    return {name: dict(uat.run(str(uat.model_version(name, "1").run_id)).data.metrics)
            for name in MODELS}


def tree_digest(root: Path) -> dict[str, str]:
    """sha256 of every file under ``root``."""
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


# A crash is a dead process: the build is interrupted in a child process (the injected failure
# in the 2nd bootstrap promotion), and the next seed() runs here, as a user's re-run would.
CRASHING_BUILD = """
import sys
from governance.demo import seed as seed_module
from governance.settings import load_settings

settings = load_settings({"GOV_HOME": sys.argv[1], "GOV_DEMO_SCALE": "small"}, {})
real, calls = seed_module.promotion.promote, []

def crashing_promote(*args, **kwargs):
    calls.append(kwargs["model_name"])
    if len(calls) == 2:
        raise RuntimeError(f"injected crash promoting {kwargs['model_name']}")
    return real(*args, **kwargs)

seed_module.promotion.promote = crashing_promote
seed_module.seed(settings, progress=lambda line: None)
"""


@dataclass(frozen=True)
class Rebuilt:
    """What the crash-then-rebuild sequence observed."""

    settings: Settings
    crash: subprocess.CompletedProcess[str]
    seeded_after_crash: bool
    types_after_crash: list[str]
    report: SeedReport
    progress: list[str]


@pytest.fixture(scope="module")
def rebuilt(tmp_path_factory: pytest.TempPathFactory) -> Rebuilt:
    """A seed-42 build crashed in the 2nd bootstrap promotion, then completed by seed()."""
    home = tmp_path_factory.mktemp("rebuilt") / "home"
    settings = small_settings(home)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOV_", "DATABRICKS_"))}
    env |= {"PYTHONPATH": str(ROOT), "MLFLOW_TRACKING_URI": f"sqlite:///{home.parent}/stray.db"}
    crash = subprocess.run([sys.executable, "-c", CRASHING_BUILD, str(home)], cwd=home.parent,
                           env=env, capture_output=True, text=True, timeout=300, check=False)
    seeded_after_crash = is_seeded(open_warehouse(settings))
    types_after_crash = [e.type for e in ledger_entries(settings)]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home.parent / 'stray.db'}")
        progress: list[str] = []
        report = seed(settings, progress=progress.append)
    return Rebuilt(settings, crash, seeded_after_crash, types_after_crash, report, progress)


@pytest.mark.slow
def test_crash_mid_build_leaves_an_incomplete_workspace(rebuilt: Rebuilt) -> None:
    """After the crash the workspace is not seeded and its ledger stops before demo_seeded."""
    assert 0 != rebuilt.crash.returncode
    assert "RuntimeError: injected crash promoting price_elasticity" in rebuilt.crash.stderr
    assert not rebuilt.seeded_after_crash
    assert ["workspace_created", "model_trained", "model_promoted",
            "model_trained"] == rebuilt.types_after_crash


@pytest.mark.slow
def test_next_seed_rebuilds_the_incomplete_workspace_completely(rebuilt: Rebuilt) -> None:
    """The next seed() rebuilds from scratch: built, 3 champions at v1, one intact ledger."""
    settings = rebuilt.settings
    assert rebuilt.report.built
    assert "found an incomplete or older workspace: rebuilding it" in rebuilt.progress
    # The budget is 2 minutes for the default scale; the small one must be far below.
    assert rebuilt.report.seconds < 60
    assert is_seeded(open_warehouse(settings))
    prod = registries(settings)["prod"]
    for name in MODELS:
        champion = prod.champion(name)
        assert champion is not None
        # Nothing of the crashed attempt survives: no extra prod version from it (the demo
        # itself promotes basket_propensity's drift candidate as v2).
        assert PROD_VERSIONS[name] == [str(v.version) for v in prod.versions(name)]
    types = [e.type for e in ledger_entries(settings)]
    assert 1 == types.count("demo_seeded")
    assert 1 == types.count("workspace_created")
    with open_warehouse(settings).session() as session:
        assert ledger.verify(session).intact


@pytest.mark.slow
def test_same_seed_gives_identical_tables(rebuilt: Rebuilt, demo_settings: Settings) -> None:
    """Every data table of a second seed-42 build equals the shared demo's, row for row."""
    ours, theirs = table_digests(rebuilt.settings), table_digests(demo_settings)

    assert sorted(theirs) == sorted(ours)
    # raw, feature tables, v1 training sets, inference logs, and the two drift candidates' sets
    assert 6 + 3 + 3 + 3 + 2 == len(ours)
    assert theirs == ours


@pytest.mark.slow
def test_same_seed_gives_identical_metrics(rebuilt: Rebuilt, demo_settings: Settings) -> None:
    """The UAT runs of a second seed-42 build log exactly the same metrics and importances."""
    ours = uat_metrics(rebuilt.settings)

    assert uat_metrics(demo_settings) == ours
    for name in MODELS:
        assert {k: ours[name][k] for k in rebuilt.report.metrics[name]} == \
            rebuilt.report.metrics[name]


@pytest.mark.slow
def test_same_seed_gives_identical_models_table_and_lineage(
    rebuilt: Rebuilt, demo_settings: Settings
) -> None:
    """The governed-model rows and the lineage edges match too (ids and times aside)."""
    def described(settings: Settings) -> tuple[object, ...]:
        with duckdb.connect(str(workspace_path(settings)), read_only=True) as con:
            models = con.execute(
                "SELECT * EXCLUDE (registered_at) FROM governance.models ORDER BY ALL").fetchall()
            edges = con.execute(
                "SELECT source_table_full_name, target_table_full_name, entity_type, entity_id "
                "FROM lineage.table_lineage ORDER BY ALL").fetchall()
            columns = con.execute(
                "SELECT source_table_full_name, source_column_name, target_table_full_name, "
                "target_column_name FROM lineage.column_lineage ORDER BY ALL").fetchall()
        return models, edges, columns

    assert described(demo_settings) == described(rebuilt.settings)


# --- --reset and another seed ---------------------------------------------------------------


@dataclass(frozen=True)
class Reseeded:
    """A copy of the demo rebuilt by the CLI with --reset --seed 7."""

    settings: Settings
    code: int
    out: str
    old_entries: list[ledger.LedgerEntry]


@pytest.fixture(scope="module")
def reseeded(
    demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Reseeded:
    """`python -m governance demo --reset --seed 7` run (in-process) on a copy of the demo."""
    home = tmp_path_factory.mktemp("reseeded") / "home"
    shutil.copytree(demo_settings.home, home)
    old = ledger_entries(small_settings(home))
    with pytest.MonkeyPatch.context() as patch:
        for var in [v for v in os.environ if v.startswith(("GOV_", "DATABRICKS_"))]:
            patch.delenv(var)
        patch.setenv("GOV_HOME", str(home))
        patch.setenv("GOV_DEMO_SCALE", "small")
        patch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{home.parent / 'stray.db'}")
        patch.chdir(home.parent)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
            code = main(["demo", "--reset", "--seed", "7"])
    return Reseeded(small_settings(home, 7), code, out.getvalue(), old)


@pytest.mark.slow
def test_reset_rebuilds_from_scratch(reseeded: Reseeded) -> None:
    """--reset replaces the workspace: a fresh 8-entry ledger recording seed 7, new stores."""
    assert 0 == reseeded.code
    assert reseeded.out.startswith(f"demo workspace built at {reseeded.settings.home} in ")
    entries = ledger_entries(reseeded.settings)
    assert (1, "workspace_created") == (entries[0].seq, entries[0].type)
    assert ["demo_seeded"] == [e.type for e in entries if e.type == "demo_seeded"]
    assert {"seed": 7, "scale": "small"} == {
        k: entries[-1].payload[k] for k in ("seed", "scale")}
    assert {e.hash for e in reseeded.old_entries}.isdisjoint(e.hash for e in entries)
    prod = registries(reseeded.settings)["prod"]
    assert [PROD_VERSIONS[n] for n in MODELS] == [
        [str(v.version) for v in prod.versions(n)] for n in MODELS]


@pytest.mark.slow
def test_another_seed_gives_different_sales(reseeded: Reseeded, demo_settings: Settings) -> None:
    """Seed 7 gives different sales (and inference) data with the same tables and columns."""
    ours, theirs = table_digests(reseeded.settings), table_digests(demo_settings)

    assert sorted(theirs) == sorted(ours)
    assert theirs["prod_retail.sales"] != ours["prod_retail.sales"]
    assert theirs["prod_inference.demand_forecast"] != ours["prod_inference.demand_forecast"]
    with duckdb.connect(str(workspace_path(reseeded.settings)), read_only=True) as a, \
            duckdb.connect(str(workspace_path(demo_settings)), read_only=True) as b:
        query = ("SELECT column_name, data_type FROM information_schema.columns "
                 "WHERE table_schema = 'prod_retail' AND table_name = 'sales' ORDER BY ALL")
        assert b.execute(query).fetchall() == a.execute(query).fetchall()


# --- idempotence, ledger and lineage of the shared demo -------------------------------------


def test_seed_again_without_reset_changes_nothing(
    demo_settings: Settings, tmp_path: Path
) -> None:
    """seed() on a complete workspace returns built=False and leaves every file byte-identical."""
    home = tmp_path / "home"
    shutil.copytree(demo_settings.home, home)
    settings = small_settings(home)
    before = tree_digest(home)
    lines: list[str] = []

    report = seed(settings, progress=lines.append)

    assert (False, {}, {}) == (report.built, report.tables, report.metrics)
    assert [] == lines
    assert before == tree_digest(home)


def test_seed_of_a_workspace_with_unreadable_file_rebuilds_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A corrupt DuckDB file counts as incomplete: is_seeded is False rather than an error."""
    settings = small_settings(tmp_path / "home")
    workspace_path(settings).parent.mkdir(parents=True)
    workspace_path(settings).write_bytes(b"\x00 garbage \xff" * 100)

    assert not is_seeded(open_warehouse(settings))


def test_fresh_demo_ledger_tells_the_build_in_order(demo_settings: Settings) -> None:
    """workspace_created, then model_trained/model_promoted per model, then the promotion of
    the approved basket_propensity candidate, then demo_seeded."""
    entries = ledger_entries(demo_settings)

    expected = [("workspace_created", "prod", "workspace")]
    for name in MODELS:
        expected += [("model_trained", "uat", f"{name}/1"), ("model_promoted", "prod", name)]
    expected.append(("model_promoted", "prod", "basket_propensity"))
    expected.append(("demo_seeded", "global", "workspace"))
    build = [e for e in entries if e.type in {t for t, _, _ in expected}]
    assert expected == [(e.type, e.environment, e.subject) for e in build]
    assert (entries[0], entries[-1]) == (build[0], build[-1])
    assert {"system:demo"} == {e.actor for e in build[:-2]}
    assert "system:promotion-job" == build[-2].actor
    assert list(range(1, len(entries) + 1)) == [e.seq for e in entries]
    assert entries == sorted(entries, key=lambda e: e.time)


def test_demo_seeded_payload_matches_the_stored_tables(demo_settings: Settings) -> None:
    """The row counts recorded in demo_seeded are the row counts actually stored."""
    seeded = ledger_entries(demo_settings)[-1]
    assert {"seed": 42, "scale": "small"} == {k: seeded.payload[k] for k in ("seed", "scale")}

    recorded = dict(seeded.payload["tables"])
    with duckdb.connect(str(workspace_path(demo_settings)), read_only=True) as con:
        stored = {
            table: con.execute(
                'SELECT count(*) FROM "{}_{}"."{}"'.format(*table.split("."))).fetchall()[0][0]
            for table in recorded
        }
    assert recorded == stored
    assert {f"prod.retail.{t}" for t in seed_module.RAW_TABLES} <= set(recorded)


def test_model_trained_entries_match_the_uat_runs(demo_settings: Settings) -> None:
    """Each model_trained entry names its UAT run, its training table and the dataset digest."""
    uat = registries(demo_settings)["uat"]
    trained = [e for e in ledger_entries(demo_settings) if e.type == "model_trained"]

    for entry in trained:
        name = entry.subject.split("/")[0]
        version = uat.model_version(name, "1")
        assert str(version.run_id) == entry.payload["run_id"]
        assert f"uat.training.{name}_v1" == entry.payload["training_table"]
        assert version.tags["driftgate.dataset_digest"] == entry.payload["dataset_digest"]


def test_every_training_table_traces_back_to_raw_retail_tables(demo_settings: Settings) -> None:
    """Walking lineage.table_lineage upstream from each training set reaches prod.retail."""
    with duckdb.connect(str(workspace_path(demo_settings)), read_only=True) as con:
        edges = con.execute("SELECT source_table_full_name, target_table_full_name "
                            "FROM lineage.table_lineage").fetchall()
        training = [f"uat.training.{t}" for (t,) in con.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'uat_training' ORDER BY 1").fetchall()]
    upstream: dict[str, set[str]] = {}
    for source, target in edges:
        upstream.setdefault(target, set()).add(source)

    # three v1 sets, and a refreshed set for each of the two drifting models
    assert 5 == len(training)
    for table in training:
        seen, todo = set(), [table]
        while todo:
            for source in upstream.get(todo.pop(), set()) - seen:
                seen.add(source)
                todo.append(source)
        name = re.sub(r"_v\d+(_inc\d+)?$", "", table.removeprefix("uat.training."))
        raw = {s for s in seen if s.startswith("prod.retail.")}
        assert {f"prod.retail.{s}" for s in SOURCES[name]} == raw, table
        assert f"prod.features.{name}_features" in seen


def test_training_columns_have_column_lineage(demo_settings: Settings) -> None:
    """Every feature and target column of a training set has a column lineage row."""
    from governance.demo.models import MODEL_SPECS

    with duckdb.connect(str(workspace_path(demo_settings)), read_only=True) as con:
        rows = con.execute("SELECT target_table_full_name, target_column_name "
                           "FROM lineage.column_lineage").fetchall()
    for name in MODELS:
        spec = MODEL_SPECS[name]
        columns = {c for t, c in rows if t == f"uat.training.{name}_v1"}
        assert {*spec.features, spec.target} == columns, name


@pytest.mark.slow
def test_reset_works_in_a_process_that_already_read_the_stores(
    demo_settings: Settings, tmp_path: Path
) -> None:
    """seed(reset=True) rebuilds even when this process has the old MLflow stores open."""
    home = tmp_path / "home"
    shutil.copytree(demo_settings.home, home)
    settings = small_settings(home)
    regs = registries(settings)
    assert regs["prod"].champion("demand_forecast") is not None
    assert regs["uat"].versions("demand_forecast")

    report = seed(settings, reset=True, progress=lambda line: None)

    assert report.built
    champion = registries(settings)["prod"].champion("demand_forecast")
    assert champion is not None
    assert "1" == str(champion.version)
