"""A real kill: ``python -m governance response run`` SIGKILLed mid-train, then rerun."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from governance import cli
from tests.unit.response.conftest import DEMAND, STEP_EVENTS, Workspace
from tests.unit.response.test_pipeline import assert_answered_once

ROOT = Path(__file__).resolve().parents[3]


def _cli(ws: Workspace, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("GOV_", "DATABRICKS_", "MLFLOW_"))}
    env.update(GOV_HOME=str(ws.home), GOV_DEMO_SCALE="small", PYTHONUNBUFFERED="1",
               MLFLOW_TRACKING_URI=f"sqlite:///{tmp_path / 'stray-mlflow.db'}")
    # stderr to a file: a full stderr pipe nobody reads would block the child
    with (tmp_path / "stderr.txt").open("w") as err:
        return subprocess.Popen([sys.executable, "-m", "governance", *args], cwd=ROOT,
                                env=env, stdout=subprocess.PIPE, stderr=err, text=True)


@pytest.mark.slow
def test_sigkill_during_train_then_rerun_answers_once(
        fresh: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Killed when it announces the train step, the runner leaves its lease and at most a
    registered candidate behind; the rerun (this process) takes the dead runner's lease over,
    continues from the last committed step and ends with one candidate and one request."""
    head = fresh.head()
    proc = _cli(fresh, tmp_path, "response", "run", "--incident", DEMAND)
    seen = []
    assert proc.stdout is not None
    for line in proc.stdout:  # blocks until each line; no timing involved
        seen.append(line.rstrip("\n"))
        if line.startswith(f"{DEMAND}: train ..."):
            proc.send_signal(signal.SIGKILL)
            break
    proc.wait()  # reap it: a zombie would still look alive to the lease check
    proc.stdout.close()

    assert -signal.SIGKILL == proc.returncode, (seen, (tmp_path / "stderr.txt").read_text())
    assert [f"{DEMAND}: refresh ...", f"{DEMAND}: refresh staged", f"{DEMAND}: train ..."] == seen
    r = fresh.response()
    assert r is not None
    assert r.step in ("refresh_staged", "candidate_trained")
    assert f":{proc.pid}:" in str(r.lease_owner)  # the killed runner never gave it back
    assert len(fresh.candidates()) <= 1
    assert fresh.intact()

    # the rerun, in this process (another pid): `response run` answers unfinished incidents
    monkeypatch.setenv("GOV_HOME", str(fresh.home))
    monkeypatch.setenv("GOV_DEMO_SCALE", "small")
    code = cli.main(["response", "run", "--incident", DEMAND])
    out = capsys.readouterr().out

    assert 0 == code, out
    assert out.splitlines()[-1] == f"{DEMAND}: approval requested"
    assert f"{DEMAND}: refresh ..." not in out  # continued, did not restart
    assert_answered_once(fresh, since=head)
    assert list(STEP_EVENTS) == fresh.events(head)

    assert 0 == cli.main(["response", "list", "--format", "json"])
    out = capsys.readouterr().out
    rows = {row["incident_id"]: row for row in map(json.loads, out.splitlines())}
    assert ("approval_requested", "3", None) == (
        rows[DEMAND]["step"], rows[DEMAND]["candidate_version"], rows[DEMAND]["failed_step"])
