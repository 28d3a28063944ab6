"""Real-browser harness: `streamlit run app/main.py` on a free port, driven by Debian chromium.

Playwright cannot download its own browsers here, so it launches /usr/bin/chromium
(`make test` installs it with apt when missing).
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from governance.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's chromium instead of a Playwright-downloaded build."""
    if not Path(CHROMIUM).exists():
        pytest.fail("chromium is not installed: run `make test` (it installs Debian chromium)")
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


def free_port() -> int:
    """An unused TCP port on the loopback interface."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_healthy(url: str, proc: subprocess.Popen[bytes], timeout: float = 60) -> None:
    """Poll Streamlit's health endpoint until it answers ok."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {proc.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
                if resp.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"streamlit at {url} not healthy after {timeout}s")


def start_streamlit(env: dict[str, str], log: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """Start the dashboard in its own process group; return its URL and process."""
    port = free_port()
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"),
        "--server.headless", "true", "--server.address", "127.0.0.1",
        "--server.port", str(port), "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
    ]
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    wait_healthy(url, proc)
    return url, proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a process group started by :func:`start_streamlit`."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="session")
def app_url(demo_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard served over the shared seeded demo workspace."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOV_", "DATABRICKS_"))}
    env.update({"GOV_HOME": str(demo_settings.home), "GOV_DEMO_SCALE": "small"})
    log = tmp_path_factory.mktemp("streamlit") / "streamlit.log"
    url, proc = start_streamlit(env, log)
    try:
        yield url
    finally:
        stop(proc)


# --- real OIDC sign-in: an in-process oidc-provider-mock and a dashboard configured for it ---
IDLE = "[data-testid='stApp'][data-test-script-state='notRunning']"
USERS = {
    "dana": ("Dana Scientist", ["data-scientists"]),
    "alice": ("Alice Approver", ["model-approvers"]),
    "audrey": ("Audrey Auditor", ["auditors"]),
}


@pytest.fixture(scope="module")
def idp() -> Iterator[str]:
    """oidc-provider-mock on a free port with the demo's people as one-click users."""
    import warnings

    with warnings.catch_warnings():  # Authlib's jose/httpx deprecations at import time
        import authlib.deprecate  # noqa: F401  (its import installs an "always" filter first)

        warnings.simplefilter("ignore", DeprecationWarning)
        import oidc_provider_mock

    users = [oidc_provider_mock.User(sub=sub, claims={
        "email": f"{sub}@retail.example", "name": name, "groups": groups})
        for sub, (name, groups) in USERS.items()]
    with oidc_provider_mock.run_server_in_thread(user_claims=users) as server:
        # The mock binds "localhost" and names its issuer after the Host header: use the same
        # host in server_metadata_url as the browser is redirected to.
        yield f"http://localhost:{server.server_port}"


@contextmanager
def serve_with_login(idp_url: str, settings: Settings, folder: Path) -> Iterator[str]:
    """``streamlit run`` over ``settings.home`` with ``[auth]`` pointing at the mock.

    The secrets file is passed with ``--secrets.files``, so a developer's own
    ``.streamlit/secrets.toml`` plays no part.
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    secrets = folder / "secrets.toml"
    secrets.write_text(
        "[auth]\n"
        f'redirect_uri = "{url}/oauth2callback"\n'
        f'cookie_secret = "{os.urandom(32).hex()}"\n'
        'client_id = "driftgate-e2e"\n'
        'client_secret = "any-secret-works"\n'
        f'server_metadata_url = "{idp_url}/.well-known/openid-configuration"\n',
        encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOV_", "DATABRICKS_"))}
    env.update({"GOV_HOME": str(settings.home), "GOV_DEMO_SCALE": "small",
                "PYTHONWARNINGS": "ignore::DeprecationWarning"})
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app" / "main.py"),
           "--server.headless", "true", "--server.address", "127.0.0.1",
           "--server.port", str(port), "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--secrets.files", str(secrets)]
    with (folder / "streamlit.log").open("wb") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        wait_healthy(url, proc)
        yield url
    finally:
        stop(proc)


def log_in(page: Any, url: str, sub: str) -> None:
    """Log in through the sidebar's Log in button and the provider's one-click user."""
    import re

    from playwright.sync_api import expect

    page.goto(url)
    page.wait_for_selector(IDLE, timeout=60_000)
    page.get_by_test_id("stSidebar").get_by_role("button", name="Log in").click()
    page.get_by_role("button", name=sub, exact=True).click()  # the provider's authorize page
    page.wait_for_url(re.compile(re.escape(url) + r"/?(\?.*)?$"), timeout=30_000)
    name = USERS[sub][0]
    expect(page.get_by_test_id("stSidebar").get_by_text(name)).to_be_visible(timeout=30_000)
