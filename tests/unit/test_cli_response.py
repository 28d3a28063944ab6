"""The response CLI and the monitor's automatic hand-off, on copies of the seeded demo."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from governance import cli
from governance.settings import Settings

INCIDENT = "INC-demand_forecast-20261005"


@pytest.fixture
def home(demo_settings: Settings, copy_home: Callable[[Path, Path], Path], tmp_path: Path,
         monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the demo, selected through GOV_HOME."""
    copied = copy_home(demo_settings.home, tmp_path / "home")
    monkeypatch.setenv("GOV_HOME", str(copied))
    monkeypatch.setenv("GOV_DEMO_SCALE", "small")
    return copied


def _sql(home: Path, statement: str, params: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse" / "workspace.duckdb")) as con:
        return con.execute(statement, params or []).fetchall()


def _forget_response(home: Path) -> None:
    """Undo the demo's answer to the demand_forecast incident (the UAT candidate stays)."""
    for table in ("responses", "approvals", "evaluations"):
        _sql(home, f"DELETE FROM governance.{table} WHERE incident_id = ?", [INCIDENT])
    _sql(home, "UPDATE governance.drift_incidents SET status = 'open' WHERE incident_id = ?",
         [INCIDENT])


def _forget_window(home: Path, start: str) -> None:
    for table in ("drift_results", "drift_windows"):
        _sql(home, f"DELETE FROM governance.{table} WHERE model_name = 'demand_forecast' "
                   f"AND window_start >= DATE '{start}'")


def test_response_list_json_names_both_answered_incidents(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each demo incident's response reached approval_requested with a candidate and request."""
    assert 0 == cli.main(["response", "list", "--format", "json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]

    assert {"INC-demand_forecast-20261005", "INC-basket_propensity-20261005"} == {
        r["incident_id"] for r in rows}
    for r in rows:
        assert ("approval_requested", None, "2") == (r["step"], r["failed_step"],
                                                     r["candidate_version"])
        assert r["approval_id"] == "APR-" + r["incident_id"].removeprefix("INC-")
        assert r["dataset_table"].startswith(f"uat.training.{r['model_name']}_v2_inc")


def test_response_run_with_nothing_to_do(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every incident is answered: `response run` says so and exits 0."""
    assert 0 == cli.main(["response", "run"])
    assert "no unfinished incidents" in capsys.readouterr().out


def test_unknown_incident_is_a_usage_error(home: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in --incident names the id and exits 2, writing nothing."""
    before = _sql(home, "SELECT count(*) FROM governance.ledger")
    assert 2 == cli.main(["response", "run", "--incident", "INC-nope"])
    assert "no incident 'INC-nope'" in capsys.readouterr().err
    assert before == _sql(home, "SELECT count(*) FROM governance.ledger")


def test_monitor_run_answers_the_open_incident_after_a_new_window(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A monitor run that stores a new window hands the unanswered incident to the response,
    which adopts the already registered candidate and opens the request."""
    _forget_response(home)
    _forget_window(home, "2026-10-26")

    assert 0 == cli.main(["monitor", "run", "--model", "demand_forecast"])
    out = capsys.readouterr().out

    assert "drift response for 1 incident(s):" in out
    assert f"{INCIDENT}: approval requested" in out
    assert [("approval_requested", "2")] == _sql(
        home, "SELECT step, candidate_version FROM governance.responses WHERE incident_id = ?",
        [INCIDENT])
    assert [("pending",)] == _sql(
        home, "SELECT state FROM governance.approvals WHERE incident_id = ?", [INCIDENT])


def test_no_response_flag_and_no_new_window_leave_incidents_alone(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--no-response skips the hand-off; a run that stores nothing new does not start it."""
    _forget_response(home)
    _forget_window(home, "2026-10-26")

    assert 0 == cli.main(["monitor", "run", "--model", "demand_forecast", "--no-response"])
    assert 0 == cli.main(["monitor", "run", "--model", "demand_forecast"])  # nothing new

    assert "drift response" not in capsys.readouterr().out
    assert [] == _sql(home, "SELECT * FROM governance.responses WHERE incident_id = ?",
                      [INCIDENT])


def test_incident_on_the_newest_week_waits_for_labels(
        home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Drift first seen in the unlabelled last week: the refresh fails as 'waiting for labels'
    (ledger and incident say so), nothing is trained, and the command exits 1."""
    _forget_response(home)
    _sql(home, "DELETE FROM governance.drift_incidents WHERE incident_id = ?", [INCIDENT])
    _forget_window(home, "2026-10-05")

    assert 1 == cli.main(["monitor", "run", "--model", "demand_forecast"])
    out = capsys.readouterr().out

    (incident, status), = _sql(home, "SELECT incident_id, status FROM governance.drift_incidents "
                                     "WHERE model_name = 'demand_forecast'")
    assert ("INC-demand_forecast-20261026", "refresh_failed") == (incident, status)
    assert "waiting for labels" in out
    (payload,), = _sql(home, "SELECT payload FROM governance.ledger WHERE event_type = "
                             "'refresh_failed' AND subject = ?", [incident])
    assert "waiting for labels" in json.loads(payload)["problems"][0]
    assert [("started", "refresh", None)] == _sql(
        home, "SELECT step, failed_step, dataset_table FROM governance.responses "
              "WHERE incident_id = ?", [incident])


def test_the_configured_policy_file_gates_the_response(
        home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """GOV_POLICY_FILE reaches `response run` (the app reads the same setting): an impossible
    row minimum fails the refresh, naming the policy key; --policy overrides the setting."""
    strict = tmp_path / "strict.toml"
    strict.write_text("[response]\nmin_rows = 10000000\n", encoding="utf-8")
    _forget_response(home)
    monkeypatch.setenv("GOV_POLICY_FILE", str(strict))

    assert 1 == cli.main(["response", "run", "--incident", INCIDENT])
    assert "(response.min_rows)" in capsys.readouterr().out

    lenient = tmp_path / "lenient.toml"
    lenient.write_text("[response]\nmin_rows = 10\n", encoding="utf-8")
    assert 0 == cli.main(["response", "run", "--incident", INCIDENT, "--policy", str(lenient)])
    assert f"{INCIDENT}: approval requested" in capsys.readouterr().out
