"""Shared fixtures: a clean environment per test and a fresh embedded workspace."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from governance import schema
from governance.settings import Settings, load_settings
from governance.warehouse import Warehouse, open_warehouse

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Drop GOV_*/DATABRICKS_* variables and keep MLflow away from the working directory."""
    import os

    for var in list(os.environ):
        if var.startswith(("GOV_", "DATABRICKS_", "MLFLOW_")):
            monkeypatch.delenv(var)
    # MLflow 3 defaults to ./mlflow.db in the working directory; never let a test create it.
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'stray-mlflow.db'}")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings pointing at an empty GOV_HOME under the test's tmp_path."""
    return load_settings({"GOV_HOME": str(tmp_path / "home"), "GOV_LOCK_TIMEOUT": "2"}, {})


@pytest.fixture
def warehouse(settings: Settings) -> Warehouse:
    """An embedded workspace with the governance schema created (no demo data)."""
    wh = open_warehouse(settings, create=True)
    with wh.session() as session:
        schema.ensure_schema(session)
    return wh


def _copy_home(src: Path, dst: Path) -> Path:
    """Copy a GOV_HOME and repoint its MLflow stores' absolute artifact paths at the copy.

    MLflow's sqlite stores record absolute artifact locations, so a plain copy would still
    read and write the original's artifacts.
    """
    import shutil
    import sqlite3

    shutil.copytree(src, dst)
    for db in sorted((dst / "mlflow").glob("*.db")):
        con = sqlite3.connect(db)
        try:
            with con:
                for table, column in (("runs", "artifact_uri"),
                                      ("experiments", "artifact_location")):
                    con.execute(f"UPDATE {table} SET {column} = replace({column}, ?, ?)",
                                (str(src.resolve()), str(dst.resolve())))
        finally:
            con.close()
    return dst


@pytest.fixture(scope="session")
def copy_home() -> Callable[[Path, Path], Path]:
    """A function copying a workspace home (see :func:`_copy_home`) for tests that write."""
    return _copy_home


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A small seeded retail demo workspace, built once per test session (read-only use)."""
    from governance.demo.seed import seed
    from governance.registry import quiet_mlflow

    quiet_mlflow()
    home = tmp_path_factory.mktemp("demo") / "home"
    demo = load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small"}, {})
    seed(demo)
    return demo


@pytest.fixture
def demo_env(demo_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point GOV_* at the shared demo workspace for code that reads the environment."""
    monkeypatch.setenv("GOV_HOME", str(demo_settings.home))
    monkeypatch.setenv("GOV_DEMO_SCALE", "small")
    return demo_settings
