"""Links from audit rows to the MLflow UI, when its URL is configured."""

from __future__ import annotations

from urllib.parse import quote

from governance.settings import Settings


def _base(settings: Settings, environment: str) -> str:
    url = settings.prod_mlflow_ui_url if environment == "prod" else ""
    return (url or settings.mlflow_ui_url).rstrip("/")


def run_url(settings: Settings, environment: str, experiment_id: str | None,
            run_id: str | None) -> str | None:
    """The MLflow UI page of a run, or ``None`` when no UI is configured or ids are missing."""
    base = _base(settings, environment)
    if not base or not experiment_id or not run_id:
        return None
    return f"{base}/#/experiments/{quote(experiment_id, safe='')}/runs/{quote(run_id, safe='')}"


def version_url(settings: Settings, environment: str, model_name: str,
                version: str | None) -> str | None:
    """The MLflow UI page of a registered model version, or ``None``."""
    base = _base(settings, environment)
    if not base or not version:
        return None
    return f"{base}/#/models/{quote(model_name, safe='')}/versions/{quote(version, safe='')}"
