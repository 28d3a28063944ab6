"""Docs kept honest by tests: the settings reference and the README's commands."""

from __future__ import annotations

from pathlib import Path

from governance.cli import settings_markdown

ROOT = Path(__file__).resolve().parents[2]


def test_settings_reference_is_current() -> None:
    """docs/settings.md is exactly what `python -m governance settings --markdown` prints."""
    assert settings_markdown() == (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")


def test_readme_gives_the_two_commands_ci_runs() -> None:
    """README names `make run` and `make test`, and CI runs `make test`."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make run" in readme
    assert "make test" in readme
    assert "make test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_core_never_imports_streamlit() -> None:
    """governance/ is the pure core: no module imports streamlit (the UI is app/ and pages/)."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "governance").rglob("*.py")
        if any(line.strip().startswith(("import streamlit", "from streamlit"))
               for line in path.read_text(encoding="utf-8").splitlines())
    ]
    assert [] == offenders


def test_pages_hold_no_sql() -> None:
    """Pages call governance; SQL lives in queries/ only."""
    keywords = ("SELECT ", "INSERT ", "duckdb", "sqlglot")
    offenders = [
        str(path.relative_to(ROOT))
        for path in (ROOT / "pages").glob("*.py")
        if any(k in path.read_text(encoding="utf-8") for k in keywords)
    ]
    assert [] == offenders


def test_response_policy_defaults_are_documented() -> None:
    """docs/response.md's [response] table lists every ResponseRule field with its default."""
    import dataclasses
    import re

    from governance.drift.policy import ResponseRule

    text = (ROOT / "docs" / "response.md").read_text(encoding="utf-8")
    documented = dict(re.findall(r"^\| `(\w+)` \| ([\d.]+) \|", text, flags=re.MULTILINE))
    expected = {f.name: str(f.default) for f in dataclasses.fields(ResponseRule)}
    assert expected == documented
