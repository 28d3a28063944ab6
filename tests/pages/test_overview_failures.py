"""AppTest of the overview on broken workspaces: a clear error and a fix, never a traceback.

Each test breaks a private copy of the demo home (MLflow artifact paths repointed at the copy);
the shared demo is only read.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from governance import ledger
from governance.envguard import prod_writes
from governance.registry import registries
from governance.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
MAIN = str(ROOT / "app" / "main.py")
MODELS = ["basket_propensity", "demand_forecast", "price_elasticity"]


@pytest.fixture
def home(demo_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
         copy_home: Callable[[Path, Path], Path]) -> Path:
    """A private copy of the demo home, with GOV_HOME pointing at it."""
    copied = copy_home(demo_settings.home, tmp_path / "home")
    monkeypatch.setenv("GOV_HOME", str(copied))
    return copied


def run_app() -> AppTest:
    """Run the app once and return the finished AppTest."""
    return AppTest.from_file(MAIN, default_timeout=60).run()


def errors(at: AppTest) -> str:
    """Every st.error text on the page, joined."""
    return "\n".join(e.value for e in at.error)


def infos(at: AppTest) -> str:
    """Every st.info text on the page, joined."""
    return "\n".join(i.value for i in at.info)


def run_sql(home: Path, statement: str, params: list[object] | None = None) -> None:
    """Change the copied workspace with raw DuckDB, outside Driftgate."""
    with duckdb.connect(str(home / "warehouse" / "workspace.duckdb")) as con:
        con.execute(statement, params or [])


def test_corrupt_workspace_file_shows_the_problem_and_the_reset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Garbage in the DuckDB file: an error naming the file, the reset command, no exception."""
    path = tmp_path / "home" / "warehouse" / "workspace.duckdb"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00not a duckdb file\xff" * 500)
    monkeypatch.setenv("GOV_HOME", str(tmp_path / "home"))

    at = run_app()

    assert not at.exception
    assert f"cannot open workspace {path}" in errors(at)
    assert "WorkspaceError" in errors(at)
    assert "python -m governance demo --reset" in infos(at)
    assert 0 == len(at.dataframe)


def test_missing_table_shows_the_table_and_the_reset(home: Path) -> None:
    """A dropped inference log: an error naming the table, the reset command, no exception."""
    run_sql(home, "DROP TABLE prod_inference.demand_forecast")

    at = run_app()

    assert not at.exception
    assert "demand_forecast" in errors(at)
    assert "demo --reset" in infos(at)


def test_deleted_prod_store_names_the_prod_mlflow_store(home: Path) -> None:
    """Without mlflow/prod.db the page names the prod MLflow store and a fix, no exception."""
    (home / "mlflow" / "prod.db").unlink()

    at = run_app()

    assert not at.exception
    assert "the prod MLflow store" in errors(at)
    assert str(home / "mlflow" / "prod.db") in errors(at)
    assert "python -m governance demo" in infos(at)
    assert not (home / "mlflow" / "prod.db").exists()


def test_deleted_prod_store_offers_the_reset_that_repairs_it(home: Path) -> None:
    """The fix offered for a missing store of a seeded workspace is `demo --reset`."""
    (home / "mlflow" / "prod.db").unlink()

    at = run_app()

    assert "python -m governance demo --reset" in infos(at)


def test_corrupt_prod_store_shows_the_store_and_the_reset(home: Path) -> None:
    """Garbage in mlflow/prod.db: an error naming the prod store, the reset hint, no exception."""
    (home / "mlflow" / "prod.db").write_bytes(b"\x00garbage\xff" * 1000)

    at = run_app()

    assert not at.exception
    assert "cannot open the prod MLflow store" in errors(at)
    assert "demo --reset" in infos(at)


def test_tampered_ledger_shows_broken_at_the_entry(home: Path) -> None:
    """A payload edited with raw SQL turns the ledger status red, naming the entry."""
    with duckdb.connect(str(home / "warehouse" / "workspace.duckdb")) as con:
        (payload,) = con.execute("SELECT payload FROM governance.ledger WHERE seq = 3").fetchone()
        forged = {**json.loads(payload), "approval_id": "forged-approval"}
        con.execute("UPDATE governance.ledger SET payload = ? WHERE seq = 3",
                    [ledger.canonical_json(forged)])

    at = run_app()

    assert not at.exception
    assert ("Ledger BROKEN at entry 3: stored hash does not match its content and predecessor"
            in errors(at))
    assert not [s.value for s in at.success if "intact" in s.value]
    # The rest of the page still renders: the auditor sees what the ledger claims.
    assert MODELS == sorted(at.dataframe[0].value["model"])


def test_unreadable_ledger_entry_is_shown_not_raised(home: Path) -> None:
    """A non-JSON payload is reported on the page as a broken entry, never as a traceback."""
    run_sql(home, "UPDATE governance.ledger SET payload = 'not json' WHERE seq = 3")

    at = run_app()

    assert not at.exception
    assert "entry 3" in errors(at)


def test_champion_moved_outside_driftgate_is_flagged(home: Path) -> None:
    """A prod alias moved through the registry API (not the ledger) shows 'ledger agrees: NO'."""
    settings = load_settings({"GOV_HOME": str(home)}, {})
    prod = registries(settings)["prod"]
    original = prod.champion("demand_forecast")
    assert original is not None
    with prod_writes("governance.promotion", "test: simulate an out-of-band alias move"):
        moved = prod.register_version("demand_forecast", str(original.run_id), "model", {})
        prod.set_champion("demand_forecast", str(moved.version))

    at = run_app()

    assert not at.exception
    frame = at.dataframe[0].value.set_index("model")
    assert "2" == str(frame.loc["demand_forecast", "champion"])
    assert str(frame.loc["demand_forecast", "ledger agrees"]).startswith("NO")
    assert {"yes"} == set(frame.drop(index="demand_forecast")["ledger agrees"])
    assert any("intact" in s.value for s in at.success)
