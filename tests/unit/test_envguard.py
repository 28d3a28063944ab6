"""The production write guard, and a source scan that pins who may open it."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from governance import envguard
from governance.envguard import (
    ALLOWED_CALLERS,
    ProdWriteGrant,
    current_grant,
    prod_writes,
    require_prod_write,
)
from governance.errors import EnvironmentViolation, GovernanceError

PACKAGE = Path(envguard.__file__).resolve().parent
CALLER = "governance.promotion"


def test_no_grant_by_default() -> None:
    """Outside any prod_writes block there is no grant and prod writes are refused."""
    assert current_grant() is None
    with pytest.raises(EnvironmentViolation, match=r"refused: load table prod\.retail\.x would"):
        require_prod_write("load table prod.retail.x")


def test_violation_names_environment_and_operation() -> None:
    """EnvironmentViolation is a GovernanceError carrying the environment, operation and a hint."""
    with pytest.raises(EnvironmentViolation, match="outside the promotion job") as info:
        require_prod_write("query 'demo/prod_schemas'")

    assert isinstance(info.value, GovernanceError)
    assert ("prod", "query 'demo/prod_schemas'") == (info.value.environment, info.value.operation)
    assert "governance.promotion" in info.value.hint


def test_grant_is_in_force_inside_the_block_only() -> None:
    """An allowed caller gets a grant inside the block; it is gone after the block."""
    with prod_writes(CALLER, "approval a-1") as grant:
        assert ProdWriteGrant(CALLER, "approval a-1") == grant
        assert grant == current_grant()
        assert grant == require_prod_write("load table prod.retail.x")

    assert current_grant() is None
    with pytest.raises(EnvironmentViolation, match="prod"):
        require_prod_write("load table prod.retail.x")


def test_grant_is_gone_after_an_exception() -> None:
    """An exception inside the block propagates and leaves no grant behind."""
    with pytest.raises(RuntimeError, match="promotion failed"), prod_writes(CALLER, "a-2"):
        raise RuntimeError("promotion failed")

    assert current_grant() is None


def test_nested_grants_restore_the_outer_one() -> None:
    """A nested grant is replaced by the outer one when the inner block ends."""
    with prod_writes("governance.demo.seed", "outer") as outer:
        with prod_writes(CALLER, "inner") as inner:
            assert inner == current_grant()
        assert outer == current_grant()
    assert current_grant() is None


@pytest.mark.parametrize(
    "caller",
    ["governance.refresh", "governance.monitor", "governance.promotion.helpers",
     "Governance.Promotion", "", "governance.demo"],
)
def test_disallowed_caller_is_refused(caller: str) -> None:
    """A caller not in ALLOWED_CALLERS raises EnvironmentViolation and gets no grant."""
    with pytest.raises(EnvironmentViolation, match="asked for prod write access"), \
            prod_writes(caller, "sneaky"):
        pass  # pragma: no cover - never entered

    assert current_grant() is None


def test_allowed_callers_are_exactly_promotion_and_demo_seed() -> None:
    """Only the promotion job and the demo upstream simulator may write prod."""
    assert frozenset({"governance.promotion", "governance.demo.seed"}) == ALLOWED_CALLERS


def test_grant_does_not_leak_into_a_new_thread() -> None:
    """A thread started inside a grant sees no grant (contextvars are per thread)."""
    seen: dict[str, object] = {}

    def worker() -> None:
        seen["grant"] = current_grant()
        try:
            require_prod_write("load table prod.retail.x")
        except EnvironmentViolation as exc:
            seen["error"] = exc

    with prod_writes(CALLER, "a-3"):
        thread = threading.Thread(target=worker)
        thread.start()
        thread.join(timeout=10)

    assert not thread.is_alive()
    assert seen["grant"] is None
    assert isinstance(seen["error"], EnvironmentViolation)


def test_grant_in_another_thread_is_not_visible_here() -> None:
    """A grant held by another thread does not authorise this one."""
    entered, release = threading.Event(), threading.Event()

    def holder() -> None:
        with prod_writes(CALLER, "other thread"):
            entered.set()
            release.wait(timeout=10)

    thread = threading.Thread(target=holder)
    thread.start()
    try:
        assert entered.wait(timeout=10)
        assert current_grant() is None
        with pytest.raises(EnvironmentViolation, match="prod"):
            require_prod_write("load table prod.retail.x")
    finally:
        release.set()
        thread.join(timeout=10)


# --- source scan ------------------------------------------------------------------------------


def module_name(path: Path, root: Path) -> str:
    """Dotted module name of a file under the package root's parent."""
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def prod_write_sites(root: Path) -> list[tuple[str, int, str]]:
    """(module, line, problem) for every prod_writes call or private-grant use outside envguard.

    A call is acceptable only in a module listed in ALLOWED_CALLERS, and only when it names that
    same module as the caller (``__name__`` or the literal module name), so a module cannot borrow
    another's permission. Any other mention of ``prod_writes`` (an alias, getattr) and any use of
    envguard's private ``_grant`` is reported too.
    """
    found = []
    for path in sorted(root.rglob("*.py")):
        module = module_name(path, root)
        if module == "governance.envguard":
            continue
        source = path.read_text(encoding="utf-8")
        tree = ast.parse(source, filename=str(path))
        calls = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if name == "prod_writes":
                    calls.add(node.lineno)
                    first = node.args[0] if node.args else None
                    names_itself = (
                        isinstance(first, ast.Name) and first.id == "__name__"
                    ) or (isinstance(first, ast.Constant) and first.value == module)
                    if module not in ALLOWED_CALLERS:
                        found.append((module, node.lineno, "calls prod_writes"))
                    elif not names_itself:
                        found.append((module, node.lineno, "passes another caller's name"))
            if isinstance(node, ast.Attribute | ast.Name | ast.alias):
                ident = getattr(node, "attr", None) or getattr(node, "id", None) \
                    or getattr(node, "name", None)
                line = getattr(node, "lineno", 0)
                if ident == "_grant":
                    found.append((module, line, "touches envguard._grant"))
                elif ident == "prod_writes" and module not in ALLOWED_CALLERS \
                        and line not in calls:
                    found.append((module, line, "mentions prod_writes"))
        if "prod_writes(" in source and not calls and module not in ALLOWED_CALLERS:
            found.append((module, 0, "text mentions prod_writes("))
    return found


def test_only_allowed_modules_open_prod_writes() -> None:
    """Every prod_writes( call site in governance/ is in ALLOWED_CALLERS and names itself."""
    assert [] == prod_write_sites(PACKAGE)


def test_allowed_modules_exist_and_really_call_prod_writes() -> None:
    """Each allowed caller exists and calls prod_writes with its own name (no stale entries)."""
    for module in ALLOWED_CALLERS:
        path = PACKAGE.parent.joinpath(*module.split(".")).with_suffix(".py")
        assert path.is_file(), f"{module} is allowed but does not exist"
        source = path.read_text(encoding="utf-8")
        assert f'prod_writes("{module}"' in source or "prod_writes(__name__" in source, module


def test_scan_catches_new_and_disguised_call_sites(tmp_path: Path) -> None:
    """The scan itself flags an unlisted caller, a borrowed name, an alias and _grant use."""
    root = tmp_path / "governance"
    (root / "demo").mkdir(parents=True)
    (root / "__init__.py").write_text("")
    (root / "refresh.py").write_text(
        "from governance import envguard\n"
        "def go():\n"
        "    with envguard.prod_writes('governance.promotion', 'x'):\n"
        "        pass\n"
    )
    (root / "promotion.py").write_text(
        "from governance.envguard import prod_writes\n"
        "def go():\n"
        "    with prod_writes('governance.demo.seed', 'borrowed'):\n"
        "        pass\n"
    )
    (root / "sneaky.py").write_text(
        "from governance.envguard import prod_writes as pw\n"
        "from governance import envguard\n"
        "token = envguard._grant.set(None)\n"
    )
    (root / "demo" / "seed.py").write_text(
        "from governance import envguard\n"
        "def go():\n"
        "    with envguard.prod_writes(__name__, 'ok'):\n"
        "        pass\n"
    )

    found = prod_write_sites(root)

    assert [
        ("governance.promotion", 3, "passes another caller's name"),
        ("governance.refresh", 3, "calls prod_writes"),
        ("governance.sneaky", 1, "mentions prod_writes"),
        ("governance.sneaky", 3, "touches envguard._grant"),
    ] == sorted(found)
