"""Drift policy: documented defaults, override order, and errors that name the file and key."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from governance.drift.policy import DatasetRule, Policy, Thresholds, load_policy
from governance.errors import ConfigError

ROOT = Path(__file__).resolve().parents[3]


def write(tmp_path: Path, text: str, name: str = "policy.toml") -> Path:
    """Write a policy file and return its path."""
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def documented_defaults() -> dict[str, float]:
    """The defaults table of docs/drift.md as {setting: value}."""
    text = (ROOT / "docs" / "drift.md").read_text(encoding="utf-8")
    section = text.split("## Defaults and overrides", 1)[1].split("\n## ", 1)[0]
    out: dict[str, float] = {}
    for names, values in re.findall(r"^\| (`[^|]+`) \| ([^|]+) \|", section, flags=re.M):
        keys = re.findall(r"`([^`]+)`", names)
        vals = [v.strip() for v in values.split("/")]
        for key, val in zip(keys, vals, strict=True):
            out[key] = {"true": 1.0, "false": 0.0}[val] if val in ("true", "false") else float(val)
    return out


def test_defaults_match_the_documentation() -> None:
    """Every Thresholds/DatasetRule default equals the value documented in docs/drift.md."""
    code = {f.name: float(f.default) for f in dataclasses.fields(Thresholds)}
    code |= {f"dataset.{f.name}": float(f.default) for f in dataclasses.fields(DatasetRule)}
    assert code == documented_defaults()


def test_defaults_follow_the_consensus() -> None:
    """The headline defaults: PSI 0.1/0.2, alpha 0.01, min 100 rows, drift share 0.2, no BH."""
    t = Thresholds()
    assert (100, 0.01, 0.1, 0.2) == (t.min_rows, t.alpha, t.psi_warn, t.psi_drift)
    assert (0.1, 0.2, 0.1, 0.15) == (t.wasserstein_warn, t.wasserstein_drift, t.js_warn,
                                     t.js_drift)
    assert (0.01, 0.05, 0.05, 0.1) == (t.unseen_warn, t.unseen_drift, t.null_warn, t.null_drift)
    d = DatasetRule()
    assert (0.2, 0.15, False, 50, 7) == (d.drift_share, d.importance, d.bh, d.max_categories,
                                         d.cooldown_days)


def test_no_file_gives_the_built_in_defaults() -> None:
    """load_policy(None) is the default policy."""
    policy = load_policy(None)
    assert Policy() == policy
    assert Thresholds() == policy.thresholds("any_model", "any_feature")
    assert "built-in defaults" == policy.source


def test_overrides_resolve_defaults_then_model_then_feature(tmp_path: Path) -> None:
    """A feature override beats its model's, which beats [defaults]; the rest stays default."""
    path = write(tmp_path, """
[defaults]
psi_drift = 0.3
min_rows = 50
[models.m]
psi_drift = 0.4
alpha = 0.05
[models.m.features.f]
psi_drift = 0.5
""")
    policy = load_policy(path)
    assert Thresholds(min_rows=50, alpha=0.05, psi_drift=0.5) == policy.thresholds("m", "f")
    assert Thresholds(min_rows=50, alpha=0.05, psi_drift=0.4) == policy.thresholds("m", "g")
    assert Thresholds(min_rows=50, psi_drift=0.3) == policy.thresholds("other", "f")
    assert Thresholds(min_rows=50, psi_drift=0.3) == policy.thresholds(None, "f")
    assert str(path) == policy.source


def test_feature_override_without_model_values(tmp_path: Path) -> None:
    """A model section holding only feature overrides leaves the model's other features alone."""
    policy = load_policy(write(tmp_path, "[models.m.features.f]\nnull_drift = 0.3\n"))
    assert Thresholds(null_drift=0.3) == policy.thresholds("m", "f")
    assert Thresholds() == policy.thresholds("m", "g")


def test_dataset_section_and_int_for_float(tmp_path: Path) -> None:
    """[dataset] sets the dataset rule; an integer is accepted where a float is expected."""
    policy = load_policy(write(tmp_path, """
[defaults]
psi_drift = 1
[dataset]
drift_share = 0.5
bh = true
max_categories = 10
cooldown_days = 3
"""))
    assert DatasetRule(drift_share=0.5, bh=True, max_categories=10, cooldown_days=3) \
        == policy.dataset
    assert 1.0 == policy.defaults.psi_drift
    assert isinstance(policy.defaults.psi_drift, float)


@pytest.mark.parametrize(("text", "expected"), [
    ("[defaults]\npsi_drfit = 0.3\n", ["defaults.psi_drfit: unknown"]),
    ("[defaults]\npsi_drift = 'x'\nmin_rows = 1.5\n",
     ["defaults.psi_drift='x': must be float", "defaults.min_rows=1.5: must be int"]),
    ("[defaults]\nmin_rows = true\n", ["defaults.min_rows=True: must be int"]),
    ("[dataset]\nbh = 1\n", ["dataset.bh=1: must be bool"]),
    ("[defaults]\nalpha = -0.5\n", ["defaults.alpha=-0.5: must not be negative"]),
    ("[models.m]\nbogus = 1\n", ["models.m.bogus: unknown"]),
    ("[models.m.features.f]\npsi = 1\n", ["models.m.features.f.psi: unknown"]),
    ("[thresholds]\npsi_drift = 1\n", ["unknown section(s) thresholds"]),
    ("defaults = 3\n", ["defaults must be a table"]),
    ("[models]\nm = 3\n", ["models.m must be a table"]),
    ("[models.m.features]\nf = 3\n", ["models.m.features.f must be a table"]),
    ("[defaults\npsi_drift = 1\n", ["not valid TOML"]),
])
def test_bad_policy_is_one_config_error_naming_file_and_key(
        tmp_path: Path, text: str, expected: list[str]) -> None:
    """Each problem is a line of one ConfigError, prefixed with the file name."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="Invalid settings") as info:
        load_policy(path)
    assert len(expected) == len(info.value.problems)
    for want, problem in zip(expected, info.value.problems, strict=True):
        assert problem.startswith(f"{path}:")
        assert want in problem


def test_missing_policy_file_names_the_path(tmp_path: Path) -> None:
    """A missing file is a ConfigError naming it."""
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: policy file not found"):
        load_policy(path)


def test_non_utf8_policy_is_a_config_error(tmp_path: Path) -> None:
    """Undecodable bytes are reported as not valid TOML."""
    path = tmp_path / "latin1.toml"
    path.write_bytes("[defaults]\n# été\n".encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.toml: not valid TOML"):
        load_policy(path)


def test_problems_in_several_sections_are_reported_together(tmp_path: Path) -> None:
    """Unknown key in [defaults] and a wrong type in [dataset]: both listed."""
    path = write(tmp_path, "[defaults]\nfoo = 1\n[dataset]\nbh = 3\n[models.m]\nalpha = 'x'\n")
    with pytest.raises(ConfigError) as info:
        load_policy(path)
    text = "\n".join(info.value.problems)
    assert "defaults.foo" in text
    assert "dataset.bh" in text
    assert "models.m.alpha" in text


@pytest.mark.parametrize("text", ["models = 3\n", "[models.m]\nfeatures = 3\n"])
def test_non_table_models_or_features_is_a_config_error(tmp_path: Path, text: str) -> None:
    """A scalar where a table belongs is a ConfigError naming the file."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError, match="must be a table") as info:
        load_policy(path)
    assert all(p.startswith(str(path)) for p in info.value.problems)


def test_policy_path_that_is_a_directory_is_a_config_error(tmp_path: Path) -> None:
    """--policy pointing at a folder is a ConfigError naming it."""
    with pytest.raises(ConfigError, match=re.escape(str(tmp_path))):
        load_policy(tmp_path)
