"""The command line, run in-process with ``main([...])`` (plus one real ``python -m`` run).

Every test that changes a workspace works on a copy of the shared demo home; the shared demo is
only read.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from governance import ledger
from governance.cli import main
from governance.settings import Settings, describe

ROOT = Path(__file__).resolve().parents[2]
JSON_KEYS = {"seq", "time", "actor", "environment", "type", "subject", "payload", "hash"}
MODELS = ["basket_propensity", "demand_forecast", "price_elasticity"]


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run from an empty folder so a developer's .streamlit/secrets.toml cannot leak in."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)


@pytest.fixture
def home_copy(demo_settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the demo GOV_HOME, with GOV_HOME pointing at it."""
    home = tmp_path / "home"
    shutil.copytree(demo_settings.home, home)
    monkeypatch.setenv("GOV_HOME", str(home))
    return home


@pytest.fixture
def non_utc_local_zone() -> Iterator[None]:
    """Run with the process's local zone set to Asia/Tokyo (UTC+9), DuckDB follows it."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "Asia/Tokyo"
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()


def workspace_file(home: Path) -> Path:
    """The DuckDB file of a GOV_HOME."""
    return home / "warehouse" / "workspace.duckdb"


def stored_rows(home: Path) -> list[tuple[int, str]]:
    """(seq, hash) of every stored ledger row, read with raw DuckDB."""
    with duckdb.connect(str(workspace_file(home)), read_only=True) as con:
        return con.execute("SELECT seq, hash FROM governance.ledger ORDER BY seq").fetchall()


def run_sql(home: Path, statement: str, params: list[object] | None = None) -> None:
    """Run one raw statement against a (copied) workspace, outside Driftgate."""
    with duckdb.connect(str(workspace_file(home))) as con:
        con.execute(statement, params or [])


def show_json(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict[str, object]]:
    """Run ``ledger show --format json`` with ``extra`` args and parse every stdout line."""
    assert 0 == main(["ledger", "show", "--format", "json", *extra])
    out = capsys.readouterr().out
    return [json.loads(line) for line in out.splitlines()]


# --- ledger verify --------------------------------------------------------------------------


def test_verify_on_demo_prints_intact_and_exits_0(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ledger verify` on the seeded demo prints `intact: N entries (head <hash>)` and exits 0."""
    rows = stored_rows(demo_env.home)

    code = main(["ledger", "verify"])

    captured = capsys.readouterr()
    assert 0 == code
    assert f"intact: {len(rows)} entries (head {rows[-1][1][:12]})\n" == captured.out
    assert list(range(1, len(rows) + 1)) == [seq for seq, _ in rows]
    assert "error" not in captured.err


def test_verify_names_the_tampered_entry_and_exits_1(
    home_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A payload edited with raw SQL (still valid, canonical JSON) is reported by its seq."""
    with duckdb.connect(str(workspace_file(home_copy))) as con:
        (payload,) = con.execute("SELECT payload FROM governance.ledger WHERE seq = 5").fetchone()
        forged = {**json.loads(payload), "reason": "approved"}
        con.execute("UPDATE governance.ledger SET payload = ? WHERE seq = 5",
                    [ledger.canonical_json(forged)])

    code = main(["ledger", "verify"])

    assert 1 == code
    assert ("BROKEN at entry 5: stored hash does not match its content and predecessor\n"
            == capsys.readouterr().out)


def test_verify_reports_a_deleted_entry(
    home_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Deleting a middle entry is reported as that entry missing, exit 1."""
    run_sql(home_copy, "DELETE FROM governance.ledger WHERE seq = 3")

    code = main(["ledger", "verify"])

    assert 1 == code
    assert capsys.readouterr().out.startswith("BROKEN at entry 3: entry 3 is missing")


def test_verify_reports_an_unreadable_payload_without_traceback(
    home_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A payload that is not JSON at all is a broken entry (exit 1), not a crash."""
    run_sql(home_copy, "UPDATE governance.ledger SET payload = 'not json' WHERE seq = 3")

    code = main(["ledger", "verify"])

    assert 1 == code
    assert capsys.readouterr().out.startswith("BROKEN at entry 3: unreadable entry")


def test_module_entry_point_runs_ledger_verify(demo_settings: Settings, tmp_path: Path) -> None:
    """`python -m governance ledger verify` in a real process prints intact and exits 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOV_", "DATABRICKS_"))}
    env |= {"GOV_HOME": str(demo_settings.home), "PYTHONPATH": str(ROOT)}

    done = subprocess.run(
        [sys.executable, "-m", "governance", "ledger", "verify"],
        cwd=tmp_path / "cwd", env=env, capture_output=True, text=True, timeout=120, check=False,
    )

    rows = stored_rows(demo_settings.home)
    assert 0 == done.returncode, done.stderr
    assert f"intact: {len(rows)} entries (head {rows[-1][1][:12]})\n" == done.stdout
    assert "Traceback" not in done.stderr


# --- ledger show ----------------------------------------------------------------------------


def test_show_json_prints_one_object_per_entry_with_exact_keys(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each stdout line is one JSON object with exactly the documented keys, oldest first."""
    found = show_json(capsys)

    assert [seq for seq, _ in stored_rows(demo_env.home)] == [e["seq"] for e in found]
    for entry in found:
        assert JSON_KEYS == set(entry)
        assert isinstance(entry["payload"], dict)


def test_show_json_is_enough_to_re_verify_the_chain(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """An auditor can recompute every hash from the JSON output alone (no DB access)."""
    found = show_json(capsys)

    prev = ledger.GENESIS
    for entry in found:
        body = {k: v for k, v in entry.items() if k != "hash"}
        assert entry["hash"] == ledger.entry_hash(prev, body), f"entry {entry['seq']}"
        prev = str(entry["hash"])
    assert stored_rows(demo_env.home)[-1][1] == prev


def test_show_type_filter_lists_the_three_promotions(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--type model_promoted` gives the three bootstrap promotions and the demo's promotion of
    the approved basket_propensity candidate."""
    found = show_json(capsys, "--type", "model_promoted")

    assert 4 == len(found)
    assert {"model_promoted"} == {e["type"] for e in found}
    assert MODELS == sorted(str(e["subject"]) for e in found[:3])
    assert "basket_propensity" == found[3]["subject"]


def test_show_unknown_type_lists_nothing(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A type with no entries prints no lines and still exits 0."""
    assert [] == show_json(capsys, "--type", "no_such_event")


def test_show_since_in_the_future_lists_nothing(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--since` after the newest entry gives no entries."""
    assert [] == show_json(capsys, "--since", "2999-01-01")


def test_show_since_is_inclusive_of_the_given_instant(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--since <time of entry k>` lists entry k and everything after it (at or after)."""
    everything = show_json(capsys)
    pivot = everything[4]
    since = datetime.strptime(str(pivot["time"]), "%Y-%m-%dT%H:%M:%S.%fZ").isoformat()

    found = show_json(capsys, "--since", since)

    expected = [e["seq"] for e in everything if str(e["time"]) >= str(pivot["time"])]
    assert expected == [e["seq"] for e in found]
    assert pivot["seq"] == found[0]["seq"]


def test_show_since_with_offset_means_that_instant_on_a_non_utc_machine(
    demo_env: Settings, capsys: pytest.CaptureFixture[str], non_utc_local_zone: None
) -> None:
    """An ISO time with an offset means the same instant whatever the machine's local zone."""
    (seeded,) = show_json(capsys, "--type", "demo_seeded")
    at = datetime.strptime(str(seeded["time"]), "%Y-%m-%dT%H:%M:%S.%fZ")
    # One hour before that entry, written as UTC-01:00 wall time: it must be listed.
    since = (at - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S") + "-01:00"

    found = show_json(capsys, "--type", "demo_seeded", "--since", since)

    assert [seeded["seq"]] == [e["seq"] for e in found]


def test_show_limit_keeps_the_oldest_entries(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--limit 2` lists the two oldest entries."""
    assert [1, 2] == [e["seq"] for e in show_json(capsys, "--limit", "2")]


def test_show_table_has_a_header_and_one_row_per_entry(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """The table format prints a header line, then one line per entry starting with its seq."""
    code = main(["ledger", "show"])

    lines = capsys.readouterr().out.splitlines()
    assert 0 == code
    assert ["seq", "time", "(UTC)", "type", "env", "actor", "subject"] == lines[0].split()
    expected = [str(seq) for seq, _ in stored_rows(demo_env.home)]
    assert expected == [line.split()[0] for line in lines[1:]]
    assert lines[1].split()[3:] == ["workspace_created", "prod", "system:demo", "workspace"]


def test_show_table_with_no_match_prints_only_the_header(
    demo_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    """A filter with no match still prints the header, and nothing else."""
    assert 0 == main(["ledger", "show", "--since", "2999-01-01"])

    lines = capsys.readouterr().out.splitlines()
    assert 1 == len(lines)
    assert lines[0].split()[0] == "seq"


def test_show_on_unreadable_payload_is_a_clear_error(
    home_copy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-JSON payload makes `ledger show` exit 2 with `error:` naming the entry."""
    run_sql(home_copy, "UPDATE governance.ledger SET payload = 'not json' WHERE seq = 3")

    code = main(["ledger", "show"])

    err = capsys.readouterr().err
    assert 2 == code
    assert err.startswith("error:")
    assert "3" in err


def test_show_rejects_a_date_that_is_not_iso(capsys: pytest.CaptureFixture[str]) -> None:
    """A malformed --since is a usage error (exit 2) naming the bad value."""
    with pytest.raises(SystemExit, match=r"^2$"):
        main(["ledger", "show", "--since", "last tuesday"])

    assert "not an ISO date: 'last tuesday'" in capsys.readouterr().err


# --- bad workspace and settings -------------------------------------------------------------


@pytest.mark.parametrize("argv", [["ledger", "verify"], ["ledger", "show"]])
def test_missing_workspace_exits_2_with_the_demo_hint(
    argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """An empty GOV_HOME is exit 2, `error:` naming the missing file and the demo command."""
    home = tmp_path / "empty"
    home.mkdir()
    monkeypatch.setenv("GOV_HOME", str(home))

    code = main(argv)

    captured = capsys.readouterr()
    assert 2 == code
    assert captured.err.startswith("error: no workspace at ")
    assert str(workspace_file(home)) in captured.err
    assert "python -m governance demo" in captured.err
    assert "Traceback" not in captured.err
    assert "" == captured.out
    assert not (home / "warehouse" / "workspace.duckdb").exists()


def test_corrupt_workspace_exits_2_with_the_reset_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Garbage bytes in the DuckDB file: exit 2, the file named, and `demo --reset` as the fix."""
    path = workspace_file(tmp_path / "home")
    path.parent.mkdir(parents=True)
    path.write_bytes(b"\x00garbage, not a database\xff" * 400)
    monkeypatch.setenv("GOV_HOME", str(tmp_path / "home"))

    code = main(["ledger", "verify"])

    captured = capsys.readouterr()
    assert 2 == code
    assert captured.err.startswith(f"error: cannot open workspace {path}")
    assert "How to fix: rebuild it with `python -m governance demo --reset`" in captured.err
    assert "Traceback" not in captured.err


def test_workspace_without_ledger_table_exits_2_with_the_reset_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A valid but empty DuckDB file (no governance schema) is exit 2 with the reset hint."""
    path = workspace_file(tmp_path / "home")
    path.parent.mkdir(parents=True)
    duckdb.connect(str(path)).close()
    monkeypatch.setenv("GOV_HOME", str(tmp_path / "home"))

    code = main(["ledger", "verify"])

    err = capsys.readouterr().err
    assert 2 == code
    assert err.startswith("error: query 'ledger/all_entries'")
    assert "demo --reset" in err


@pytest.mark.parametrize("argv", [["ledger", "verify"], ["settings"], ["demo"]])
def test_bad_settings_are_listed_together(
    argv: list[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Two bad settings give exit 2 and one message naming both, before anything is built."""
    monkeypatch.setenv("GOV_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("GOV_BACKEND", "oracle")
    monkeypatch.setenv("GOV_LOCK_TIMEOUT", "abc")

    code = main(argv)

    captured = capsys.readouterr()
    assert 2 == code
    assert captured.err.startswith("error: Invalid settings:")
    assert 1 == captured.err.count("error:")
    assert "GOV_BACKEND='oracle': must be one of duckdb, databricks" in captured.err
    assert "GOV_LOCK_TIMEOUT='abc'" in captured.err
    assert "Traceback" not in captured.err
    assert not (tmp_path / "home").exists()


def test_settings_hides_the_databricks_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`settings` prints every variable, with the token's value replaced by ***."""
    monkeypatch.setenv("GOV_DATABRICKS_TOKEN", "dapi-very-secret-0123")

    code = main(["settings"])

    captured = capsys.readouterr()
    assert 0 == code
    assert "dapi-very-secret-0123" not in captured.out + captured.err
    assert "GOV_DATABRICKS_TOKEN=***\n" in captured.out
    for var, _, _, _ in describe():
        assert f"\n{var}=" in "\n" + captured.out


def test_settings_token_stays_hidden_when_other_settings_are_bad(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error listing bad settings never echoes the token."""
    monkeypatch.setenv("GOV_DATABRICKS_TOKEN", "dapi-very-secret-0123")
    monkeypatch.setenv("GOV_BACKEND", "oracle")

    assert 2 == main(["settings"])

    captured = capsys.readouterr()
    assert "dapi-very-secret-0123" not in captured.out + captured.err


def test_settings_shows_an_empty_token_as_empty(capsys: pytest.CaptureFixture[str]) -> None:
    """Without a token the line shows it unset (not ***), so a missing token is visible."""
    assert 0 == main(["settings"])

    assert "GOV_DATABRICKS_TOKEN=\n" in capsys.readouterr().out


def test_settings_markdown_matches_the_committed_reference(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`settings --markdown` prints exactly docs/settings.md."""
    assert 0 == main(["settings", "--markdown"])

    assert (ROOT / "docs" / "settings.md").read_text(encoding="utf-8") == capsys.readouterr().out


def test_demo_on_a_complete_workspace_changes_nothing(
    home_copy: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`demo` without --reset on a seeded home says so, exits 0, and leaves the ledger as is."""
    monkeypatch.setenv("GOV_DEMO_SCALE", "small")
    before = stored_rows(home_copy)

    code = main(["demo"])

    assert 0 == code
    assert (f"demo workspace already complete at {home_copy}; nothing changed "
            "(use --reset to rebuild)\n") == capsys.readouterr().out
    assert before == stored_rows(home_copy)
