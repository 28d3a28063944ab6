"""Drift thresholds: documented defaults, overridden per model and per feature by a TOML file.

A feature drifts only when an *effect size* crosses its drift threshold and, where the test has
one, the p-value is below ``alpha``: at large n every p-value is tiny, so a p-value alone never
makes drift. The score of a feature is its largest effect divided by that effect's drift
threshold, so ``score >= 1`` means drift-sized whatever the test.

Policy file (every key optional; unknown keys are an error naming the file and key)::

    [defaults]                 # any Thresholds field
    psi_drift = 0.25
    [dataset]                  # any DatasetRule field
    drift_share = 0.3
    [features.price]           # Thresholds fields for one feature, any model (and files)
    psi_drift = 0.3
    [models.demand_forecast]   # Thresholds fields for one model
    min_rows = 500
    [models.demand_forecast.features.price]
    psi_drift = 0.3
    [response]                 # any ResponseRule field: the drift response's gates
    min_rows = 2000
    [models.demand_forecast.response]
    max_regression = 0.0
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from governance.errors import ConfigError


@dataclass(frozen=True)
class Thresholds:
    """Per-feature thresholds. Defaults follow the consensus in shared/reference/drift-methods.md.

    Attributes:
        min_rows: Windows (either side) with fewer non-null rows are ``insufficient_data``.
        alpha: Significance level for KS and chi-square (effect sizes still decide).
        psi_warn: PSI at which a feature is worth a look.
        psi_drift: PSI at which a feature has drifted (0.2 is the industry rule of thumb).
        wasserstein_warn: Wasserstein distance / baseline std, warn level.
        wasserstein_drift: Wasserstein distance / baseline std, drift level.
        js_warn: Jensen-Shannon distance (base 2), warn level.
        js_drift: Jensen-Shannon distance (base 2), drift level.
        unseen_warn: Share of current rows in categories the baseline never had, warn level.
        unseen_drift: Same, drift level.
        null_warn: Absolute change in null rate, warn level.
        null_drift: Absolute change in null rate, drift level.
    """

    min_rows: int = 100
    alpha: float = 0.01
    psi_warn: float = 0.1
    psi_drift: float = 0.2
    wasserstein_warn: float = 0.1
    wasserstein_drift: float = 0.2
    js_warn: float = 0.1
    js_drift: float = 0.15
    unseen_warn: float = 0.01
    unseen_drift: float = 0.05
    null_warn: float = 0.05
    null_drift: float = 0.1


@dataclass(frozen=True)
class DatasetRule:
    """When a whole dataset (or model) counts as drifted.

    Attributes:
        drift_share: Share of tested features that drifted at which the dataset drifts.
        importance: A drifted feature with at least this model importance drifts the model.
        bh: Apply Benjamini-Hochberg to the p-values across features before gating.
        max_categories: Baseline categories kept as their own bucket; rarer ones fold into
            ``other`` (unseen categories always get their own bucket).
        cooldown_days: After an incident is closed, no new one opens for this many days.
    """

    drift_share: float = 0.2
    importance: float = 0.15
    bh: bool = False
    max_categories: int = 50
    cooldown_days: int = 7


@dataclass(frozen=True)
class ResponseRule:
    """Gates of the drift response (refresh validation and candidate qualification).

    Attributes:
        min_rows: A candidate training set needs at least this many labelled rows.
        min_recent_rows: ... and at least this many labelled rows from the drifted period
            (the incident's first window up to the cut-off), or retraining learns nothing new.
        min_label_coverage: Share of the drifted period's inference rows that must carry a
            label; below it the labels are too incomplete to train on.
        max_null_rate: Largest null rate any feature may have in the candidate training set.
        holdout_days: The harness holds out the newest this many labelled days; the candidate
            trains only on rows dated before them (the cut-off), so nothing leaks.
        min_holdout_rows: The holdout needs this many labelled rows to judge anything.
        max_regression: The candidate qualifies when its primary metric is no worse than the
            champion's by more than this share (0.02 = 2% worse at most).
        required_approvals: Distinct approvers who must sign before promotion (2 = four eyes).
    """

    min_rows: int = 1000
    min_recent_rows: int = 200
    min_label_coverage: float = 0.8
    max_null_rate: float = 0.5
    holdout_days: int = 7
    min_holdout_rows: int = 200
    max_regression: float = 0.02
    required_approvals: int = 1


@dataclass(frozen=True)
class Policy:
    """Resolved thresholds for every model and feature."""

    defaults: Thresholds = field(default_factory=Thresholds)
    dataset: DatasetRule = field(default_factory=DatasetRule)
    models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    source: str = "built-in defaults"
    features: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    response: ResponseRule = field(default_factory=ResponseRule)
    model_response: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def response_for(self, model: str) -> ResponseRule:
        """The response gates for ``model``: ``[response]`` then ``[models.<m>.response]``."""
        overrides = self.model_response.get(model, {})
        return dataclasses.replace(self.response, **overrides) if overrides else self.response

    def thresholds(self, model: str | None, feature: str) -> Thresholds:
        """Thresholds for one feature: defaults, then ``[features.<f>]``, then the model's
        overrides, then the model's own feature overrides."""
        spec = self.models.get(model or "", {})
        merged = dict(self.features.get(feature, {}))
        merged.update({k: v for k, v in spec.items() if k not in ("features", "response")})
        merged.update(spec.get("features", {}).get(feature, {}))
        return dataclasses.replace(self.defaults, **merged) if merged else self.defaults


def _check(section: Any, cls: type, where: str, source: str,
           problems: list[str]) -> dict[str, Any]:
    if not isinstance(section, Mapping):
        problems.append(f"{source}: {where} must be a table")
        return {}
    known = {f.name: f for f in dataclasses.fields(cls)}
    values = {}
    for key, value in section.items():
        if key not in known:
            problems.append(f"{source}: {where}.{key}: unknown (known: {', '.join(known)})")
            continue
        expected = type(known[key].default)
        if expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
            problems.append(f"{source}: {where}.{key}={value!r}: must be {expected.__name__}")
            continue
        if isinstance(value, int | float) and not isinstance(value, bool) and value < 0:
            problems.append(f"{source}: {where}.{key}={value!r}: must not be negative")
            continue
        values[key] = value
    return values


def _tables(section: Any, where: str, source: str, problems: list[str]) -> dict[str, Any]:
    if not isinstance(section, Mapping):
        problems.append(f"{source}: {where} must be a table of tables")
        return {}
    return dict(section)


def configured_policy(policy_file: str, override: Path | None = None) -> Policy:
    """The policy in force: ``override`` (a ``--policy`` flag), else the settings'
    ``GOV_POLICY_FILE``, else the built-in defaults, so the app and the CLI judge alike."""
    if override is not None:
        return load_policy(override)
    return load_policy(Path(policy_file)) if policy_file else Policy()


def load_policy(path: Path | None) -> Policy:
    """Read a policy file; ``None`` gives the built-in defaults.

    Raises:
        ConfigError: The file is missing or unreadable, not TOML, or has unknown keys, wrong
            types or negative numbers (every problem in the file, listed together).
    """
    if path is None:
        return Policy()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError([f"{path}: policy file not found"]) from exc
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read the policy file ({exc.strerror})"]) from exc
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: not valid TOML ({exc})"]) from exc
    src, problems = str(path), []
    unknown = sorted(set(data) - {"defaults", "dataset", "models", "features", "response"})
    if unknown:
        problems.append(f"{src}: unknown section(s) {', '.join(unknown)} "
                        "(known: defaults, dataset, features, models, response)")
    defaults = _check(data.get("defaults", {}), Thresholds, "defaults", src, problems)
    dataset = _check(data.get("dataset", {}), DatasetRule, "dataset", src, problems)
    features = {
        name: _check(values, Thresholds, f"features.{name}", src, problems)
        for name, values in _tables(data.get("features", {}), "features", src,
                                    problems).items()
    }
    response = _check(data.get("response", {}), ResponseRule, "response", src, problems)
    models: dict[str, dict[str, Any]] = {}
    model_response: dict[str, dict[str, Any]] = {}
    for model, spec in _tables(data.get("models", {}), "models", src, problems).items():
        if not isinstance(spec, Mapping):
            problems.append(f"{src}: models.{model} must be a table")
            continue
        overrides = _check({k: v for k, v in spec.items() if k not in ("features", "response")},
                           Thresholds, f"models.{model}", src, problems)
        if "response" in spec:
            model_response[model] = _check(spec["response"], ResponseRule,
                                           f"models.{model}.response", src, problems)
        overrides["features"] = {
            name: _check(values, Thresholds, f"models.{model}.features.{name}", src, problems)
            for name, values in _tables(spec.get("features", {}), f"models.{model}.features",
                                        src, problems).items()
        }
        models[model] = overrides
    if problems:
        raise ConfigError(problems, hint="see the policy format in docs/drift.md")
    return Policy(Thresholds(**defaults), DatasetRule(**dataset), models, src, features,
                  ResponseRule(**response), model_response)
