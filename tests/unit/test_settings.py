"""Settings: env > secrets > defaults, every problem reported at once, secrets kept out of text."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from governance.errors import ConfigError, GovernanceError
from governance.settings import (
    SECRETS_FILE,
    Settings,
    describe,
    env_name,
    load_settings,
    read_secrets_file,
)

TOKEN = "dapi-SUPERSECRET-0123456789abcdef"


def test_defaults_when_nothing_is_set() -> None:
    """With no environment and no secrets every field takes its documented default."""
    settings = load_settings({}, {})

    assert Settings() == settings
    assert Path("var") == settings.home
    assert "duckdb" == settings.backend
    assert 42 == settings.demo_seed
    assert "default" == settings.demo_scale
    assert 10.0 == settings.lock_timeout
    assert ("governance", "uat", "prod") == (
        settings.governance_catalog,
        settings.uat_catalog,
        settings.prod_catalog,
    )
    assert "" == settings.databricks_token
    assert "" == settings.databricks_http_path
    mlflow = (settings.uat_mlflow_uri, settings.prod_mlflow_uri, settings.mlflow_ui_url)
    assert ("", "", "") == mlflow


def test_derived_folders_live_under_home() -> None:
    """duckdb_dir and mlflow_dir are fixed sub-folders of GOV_HOME."""
    settings = load_settings({"GOV_HOME": "/srv/driftgate"}, {})

    assert Path("/srv/driftgate/warehouse") == settings.duckdb_dir
    assert Path("/srv/driftgate/mlflow") == settings.mlflow_dir


def test_env_beats_secrets_beats_defaults() -> None:
    """An env var wins over the same key in secrets; a secrets key wins over the default."""
    env = {"GOV_BACKEND": "databricks", "GOV_DEMO_SEED": "7"}
    secrets = {"backend": "duckdb", "demo_seed": 99, "uat_catalog": "uat_from_secrets"}

    settings = load_settings(env, secrets)

    assert "databricks" == settings.backend
    assert 7 == settings.demo_seed
    assert "uat_from_secrets" == settings.uat_catalog
    assert "prod" == settings.prod_catalog


def test_secrets_values_of_toml_types_are_parsed() -> None:
    """TOML ints/floats from secrets go through the same parser as env strings."""
    settings = load_settings({}, {"lock_timeout": 2.5, "demo_seed": 3, "home": "/data/x"})

    assert 2.5 == settings.lock_timeout
    assert 3 == settings.demo_seed
    assert Path("/data/x") == settings.home


def test_gov_home_is_parsed_to_a_path() -> None:
    """GOV_HOME becomes a pathlib.Path, not a str."""
    settings = load_settings({"GOV_HOME": "some/where"}, {})

    assert isinstance(settings.home, Path)
    assert Path("some/where") == settings.home


def test_numeric_settings_are_typed() -> None:
    """GOV_DEMO_SEED is an int and GOV_LOCK_TIMEOUT a float after parsing."""
    settings = load_settings({"GOV_DEMO_SEED": "123", "GOV_LOCK_TIMEOUT": "0.25"}, {})

    assert (123, int) == (settings.demo_seed, type(settings.demo_seed))
    assert (0.25, float) == (settings.lock_timeout, type(settings.lock_timeout))


def test_three_bad_settings_are_reported_in_one_error() -> None:
    """A bad choice, a non-numeric int and a non-positive float give ONE ConfigError listing all."""
    env = {"GOV_BACKEND": "oracle", "GOV_DEMO_SEED": "forty-two", "GOV_LOCK_TIMEOUT": "-1"}

    with pytest.raises(ConfigError, match="Invalid settings") as info:
        load_settings(env, {})

    problems = info.value.problems
    assert 3 == len(problems)
    text = str(info.value)
    for var, value in [
        ("GOV_BACKEND", "oracle"),
        ("GOV_DEMO_SEED", "forty-two"),
        ("GOV_LOCK_TIMEOUT", "-1"),
    ]:
        matching = [p for p in problems if var in p and repr(value) in p]
        assert 1 == len(matching), f"no single problem names {var}={value!r}: {problems}"
        assert var in text
    assert any("duckdb" in p and "databricks" in p for p in problems if "GOV_BACKEND" in p)


@pytest.mark.parametrize("raw", ["0", "-0.5", "nan", "abc", ""])
def test_lock_timeout_must_be_a_positive_number(raw: str) -> None:
    """GOV_LOCK_TIMEOUT rejects zero, negatives, NaN, text and the empty string."""
    with pytest.raises(ConfigError, match="GOV_LOCK_TIMEOUT") as info:
        load_settings({"GOV_LOCK_TIMEOUT": raw}, {})

    assert 1 == len(info.value.problems)
    assert repr(raw) in info.value.problems[0]


@pytest.mark.parametrize(("var", "raw"), [("GOV_DEMO_SCALE", "huge"), ("GOV_BACKEND", "DuckDB")])
def test_choices_are_exact(var: str, raw: str) -> None:
    """Choice settings accept only the listed spellings (case-sensitive)."""
    with pytest.raises(ConfigError, match=var):
        load_settings({var: raw}, {})


def test_bad_value_from_secrets_names_the_secrets_key() -> None:
    """A bad value that came from secrets.toml is reported as `[governance] <key>`."""
    with pytest.raises(ConfigError, match=r"\[governance\] demo_scale='huge'") as info:
        load_settings({}, {"demo_scale": "huge"})

    assert 1 == len(info.value.problems)


def test_unknown_secrets_key_is_reported_with_other_problems() -> None:
    """An unknown [governance] key is a problem, listed together with invalid values."""
    with pytest.raises(ConfigError, match="lock_timout") as info:
        load_settings({"GOV_BACKEND": "oracle"}, {"lock_timout": 5})

    problems = info.value.problems
    assert 2 == len(problems)
    assert any("lock_timout" in p and "unknown setting" in p for p in problems)
    assert any("GOV_BACKEND" in p for p in problems)


def test_unknown_env_vars_are_ignored() -> None:
    """Unrelated GOV_* variables are not an error (other tools may share the prefix)."""
    assert Settings() == load_settings({"GOV_SOMETHING_ELSE": "x"}, {})


def test_config_error_is_a_governance_error_with_hint() -> None:
    """ConfigError derives from GovernanceError and carries a how-to-fix hint."""
    with pytest.raises(ConfigError, match="How to fix") as info:
        load_settings({"GOV_BACKEND": "x"}, {})

    assert isinstance(info.value, GovernanceError)
    assert "" != info.value.hint


def test_token_never_in_repr() -> None:
    """databricks_token is set but never appears in repr() or str() of the settings."""
    settings = load_settings({"GOV_DATABRICKS_TOKEN": TOKEN, "GOV_BACKEND": "databricks"}, {})

    assert TOKEN == settings.databricks_token
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)
    assert "databricks_token" not in repr(settings)


@pytest.mark.parametrize("where", ["env", "secrets"])
def test_token_never_in_config_error(where: str) -> None:
    """When other settings are bad, the error text never contains the token's value."""
    env = {"GOV_BACKEND": "oracle", "GOV_LOCK_TIMEOUT": "0"}
    secrets: dict[str, object] = {"not_a_setting": 1}
    if where == "env":
        env["GOV_DATABRICKS_TOKEN"] = TOKEN
    else:
        secrets["databricks_token"] = TOKEN

    with pytest.raises(ConfigError, match="GOV_BACKEND") as info:
        load_settings(env, secrets)

    assert TOKEN not in str(info.value)
    assert TOKEN not in repr(info.value)
    assert all(TOKEN not in p for p in info.value.problems)


def test_token_under_a_misspelt_key_is_not_echoed() -> None:
    """A token stored under a misspelt key is reported by key, never by value."""
    with pytest.raises(ConfigError, match="databricks_tokn") as info:
        load_settings({}, {"databricks_tokn": TOKEN})

    assert TOKEN not in str(info.value)


def test_settings_are_frozen() -> None:
    """Resolved settings cannot be mutated after validation."""
    settings = load_settings({}, {})

    with pytest.raises(dataclasses.FrozenInstanceError, match="backend"):
        settings.backend = "databricks"  # type: ignore[misc]


def test_read_secrets_file_missing_is_empty(tmp_path: Path) -> None:
    """A missing secrets file means no secrets, not an error."""
    assert {} == dict(read_secrets_file(tmp_path / "nope.toml"))


def test_read_secrets_file_returns_governance_table(tmp_path: Path) -> None:
    """Only the [governance] table is returned; other tables are ignored."""
    path = tmp_path / "secrets.toml"
    path.write_text(
        '[auth]\nclient_secret = "x"\n\n[governance]\nbackend = "databricks"\nlock_timeout = 3\n',
        encoding="utf-8",
    )

    assert {"backend": "databricks", "lock_timeout": 3} == dict(read_secrets_file(path))


def test_read_secrets_file_without_governance_table_is_empty(tmp_path: Path) -> None:
    """A valid secrets file without [governance] yields {}."""
    path = tmp_path / "secrets.toml"
    path.write_text('[auth]\nclient_id = "abc"\n', encoding="utf-8")

    assert {} == dict(read_secrets_file(path))


def test_read_secrets_file_invalid_toml_names_the_file(tmp_path: Path) -> None:
    """Invalid TOML raises ConfigError naming the file."""
    path = tmp_path / "broken-secrets.toml"
    path.write_text("[governance\nbackend = ", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"broken-secrets\.toml") as info:
        read_secrets_file(path)

    assert 1 == len(info.value.problems)
    assert "not valid TOML" in info.value.problems[0]


def test_read_secrets_file_not_utf8_names_the_file(tmp_path: Path) -> None:
    """A secrets file that is not UTF-8 raises ConfigError naming the file."""
    path = tmp_path / "latin1-secrets.toml"
    path.write_bytes(b'[governance]\nbackend = "caf\xe9"\n')

    with pytest.raises(ConfigError, match=r"latin1-secrets\.toml"):
        read_secrets_file(path)


def test_read_secrets_file_governance_not_a_table(tmp_path: Path) -> None:
    """`governance = 3` is rejected: [governance] must be a table."""
    path = tmp_path / "secrets.toml"
    path.write_text("governance = 3\n", encoding="utf-8")

    with pytest.raises(ConfigError, match=r"\[governance\] must be a table"):
        read_secrets_file(path)


def test_load_settings_defaults_to_os_environ_and_streamlit_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without arguments, load_settings reads os.environ and ./.streamlit/secrets.toml."""
    monkeypatch.chdir(tmp_path)
    secrets = tmp_path / SECRETS_FILE
    secrets.parent.mkdir()
    secrets.write_text('[governance]\ndemo_scale = "small"\ndemo_seed = 5\n', encoding="utf-8")
    monkeypatch.setenv("GOV_DEMO_SEED", "9")

    settings = load_settings()

    assert "small" == settings.demo_scale
    assert 9 == settings.demo_seed


def test_describe_lists_every_field_with_a_doc() -> None:
    """describe() has one row per Settings field: GOV_ var, default, choices, non-empty doc."""
    rows = describe()
    fields = dataclasses.fields(Settings)

    assert [env_name(f.name) for f in fields] == [row[0] for row in rows]
    for (var, default, _choices, doc), f in zip(rows, fields, strict=True):
        assert var.startswith("GOV_")
        assert var.upper() == var
        assert str(f.default) == default
        assert "" != doc.strip(), f"{var} has no doc"
    by_var = {row[0]: row for row in rows}
    assert "duckdb | databricks" == by_var["GOV_BACKEND"][2]
    assert "small | default | large" == by_var["GOV_DEMO_SCALE"][2]
    assert "" == by_var["GOV_HOME"][2]


def test_every_described_variable_is_accepted() -> None:
    """Each variable describe() documents is actually read by load_settings."""
    for var, _default, choices, _doc in describe():
        value = choices.split(" | ")[-1] if choices else "1.5"
        field_name = var.removeprefix("GOV_").lower()
        if field_name == "demo_seed":
            value = "15"

        settings = load_settings({var: value}, {})

        assert value == str(getattr(settings, field_name)), var


def test_env_name() -> None:
    """env_name maps a field to its upper-case GOV_ variable."""
    assert "GOV_LOCK_TIMEOUT" == env_name("lock_timeout")
