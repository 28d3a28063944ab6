"""Every Driftgate setting, declared once.

Each field of :class:`Settings` carries its environment variable, default, parser and a one-line
doc. Values come from ``GOV_*`` environment variables first, then the ``[governance]`` table of
``.streamlit/secrets.toml``, then the defaults. Problems are collected and reported together, so a
misconfigured deployment is fixed in one pass instead of one error per restart.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.errors import ConfigError

SECRETS_FILE = Path(".streamlit") / "secrets.toml"


def _setting(
    default: Any,
    doc: str,
    *,
    parse: Callable[[str], Any] = str,
    choices: tuple[str, ...] = (),
    secret: bool = False,
) -> Any:
    return field(
        default=default,
        repr=not secret,
        metadata={"doc": doc, "parse": parse, "choices": choices, "secret": secret},
    )


def _positive_float(raw: str) -> float:
    value = float(raw)
    if not 0 < value < float("inf"):
        raise ValueError("must be a finite number > 0")
    return value


def _int(raw: str) -> int:
    return int(raw)


@dataclass(frozen=True)
class Settings:
    """Resolved configuration. Secret fields are left out of ``repr``."""

    home: Path = _setting(
        Path("var"), "Folder holding the embedded workspace (DuckDB files, MLflow stores).",
        parse=Path,
    )
    backend: str = _setting(
        "duckdb", "Warehouse engine for governance tables.", choices=("duckdb", "databricks")
    )
    demo_seed: int = _setting(42, "Seed of the retail demo workspace.", parse=_int)
    demo_scale: str = _setting(
        "default", "Size of the retail demo: small (tests), default, or large (default plus "
        "three years of synthetic history: ~200 models, ~1M ledger entries).",
        choices=("small", "default", "large"),
    )
    lock_timeout: float = _setting(
        10.0, "Seconds to retry a locked DuckDB workspace before failing.", parse=_positive_float
    )
    governance_catalog: str = _setting(
        "governance", "Catalog holding Driftgate's own tables (Databricks backend)."
    )
    uat_catalog: str = _setting("uat", "Catalog of the non-production environment (Databricks).")
    prod_catalog: str = _setting("prod", "Catalog of the production environment (Databricks).")
    databricks_http_path: str = _setting(
        "", "HTTP path of the Databricks SQL warehouse, e.g. /sql/1.0/warehouses/abc."
    )
    databricks_token: str = _setting(
        "", "Personal access token; leave empty to use OAuth M2M (DATABRICKS_CLIENT_ID/SECRET).",
        secret=True,
    )
    uat_mlflow_uri: str = _setting(
        "", "MLflow tracking+registry URI for uat; empty means a sqlite store under home."
    )
    prod_mlflow_uri: str = _setting(
        "", "MLflow tracking+registry URI for prod; empty means a sqlite store under home."
    )
    mlflow_ui_url: str = _setting(
        "", "Base URL of the uat MLflow UI (on Databricks: the workspace URL); the audit view "
        "links runs and versions to it. Empty: no links."
    )
    prod_mlflow_ui_url: str = _setting(
        "", "Base URL of the prod MLflow UI; empty means the same as mlflow_ui_url."
    )
    policy_file: str = _setting(
        "", "TOML policy (drift thresholds, [response] gates, required approvals) used by the "
        "app and the CLI; empty means the built-in defaults."
    )
    identity_source: str = _setting(
        "oidc", "Where a signed-in user's identity comes from: oidc (st.login; [auth] in "
        "secrets.toml) or databricks-apps (the Apps proxy's X-Forwarded-* headers, honoured "
        "only when DATABRICKS_APP_NAME is set).", choices=("oidc", "databricks-apps"),
    )
    groups_claim: str = _setting("groups", "ID-token claim that lists the user's groups.")
    approver_groups: str = _setting(
        "model-approvers", "Comma-separated groups whose members may approve or reject.")
    data_scientist_groups: str = _setting(
        "data-scientists", "Comma-separated groups of data scientists (request candidates).")
    auditor_groups: str = _setting(
        "auditors", "Comma-separated groups with read-only audit access.")
    admin_groups: str = _setting("driftgate-admins", "Comma-separated groups of administrators.")
    role_users: str = _setting(
        "", "Extra role grants by email for identities without groups (Databricks Apps), e.g. "
        "approver=alice@x.com;data_scientist=dana@x.com."
    )
    promotion_job_id: str = _setting(
        "", "Databricks job that runs the promotion (`python -m governance promote`); empty "
        "runs the promotion job in-process (embedded workspace)."
    )

    @property
    def duckdb_dir(self) -> Path:
        """Folder of the embedded DuckDB catalogs."""
        return self.home / "warehouse"

    @property
    def mlflow_dir(self) -> Path:
        """Folder of the embedded MLflow stores and artifact roots."""
        return self.home / "mlflow"


def env_name(name: str) -> str:
    """Return the environment variable that sets the field ``name``."""
    return f"GOV_{name.upper()}"


def describe() -> list[tuple[str, str, str, str]]:
    """Return ``(env var, default, choices, doc)`` for every setting, for docs and ``--help``."""
    rows = []
    for f in dataclasses.fields(Settings):
        choices = " | ".join(f.metadata["choices"])
        rows.append((env_name(f.name), str(f.default), choices, f.metadata["doc"]))
    return rows


def read_secrets_file(path: Path = SECRETS_FILE) -> Mapping[str, Any]:
    """Read the ``[governance]`` table of a Streamlit secrets file, or ``{}`` if absent.

    Raises:
        ConfigError: The file exists but is not valid TOML.
    """
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc})"]) from exc
    section = data.get("governance", {})
    if not isinstance(section, dict):
        raise ConfigError([f"{path}: [governance] must be a table"])
    return section


def load_settings(
    env: Mapping[str, str] | None = None, secrets: Mapping[str, Any] | None = None
) -> Settings:
    """Resolve settings from environment, then secrets, then defaults.

    Args:
        env: Environment variables; defaults to ``os.environ``.
        secrets: The ``[governance]`` secrets table; defaults to reading ``SECRETS_FILE``.

    Returns:
        The validated settings.

    Raises:
        ConfigError: Listing every invalid or unknown setting at once.
    """
    env = os.environ if env is None else env
    secrets = read_secrets_file() if secrets is None else secrets
    fields = {f.name: f for f in dataclasses.fields(Settings)}
    problems = [
        f"[governance] {key}: unknown setting (known: {', '.join(sorted(fields))})"
        for key in secrets
        if key not in fields
    ]
    values: dict[str, Any] = {}
    for name, f in fields.items():
        var = env_name(name)
        if var in env:
            raw, origin = env[var], var
        elif name in secrets:
            raw, origin = str(secrets[name]), f"[governance] {name}"
        else:
            continue
        choices = f.metadata["choices"]
        if choices and raw not in choices:
            problems.append(f"{origin}={raw!r}: must be one of {', '.join(choices)}")
            continue
        try:
            values[name] = f.metadata["parse"](raw)
        except ValueError as exc:
            shown = "***" if f.metadata["secret"] else repr(raw)
            problems.append(f"{origin}={shown}: {exc}")
    if problems:
        raise ConfigError(problems, hint="fix the listed settings (see docs/settings.md)")
    return Settings(**values)
