"""As-of answers and live ranges across several promotions at known times."""

from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from governance import schema
from governance.audit import view
from governance.audit.view import AuditFilter
from governance.settings import load_settings
from governance.warehouse import Warehouse, open_warehouse
from tests.unit.audit.conftest import promote, train

T0 = datetime(2025, 1, 1, 9, 0)


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def test_champion_at_each_moment_across_promotions(warehouse: Warehouse) -> None:
    train(warehouse, "m", "1", day(0))
    promote(warehouse, "m", "1", "1", day(1), reason="bootstrap")
    promote(warehouse, "n", "1", "1", day(2), reason="bootstrap")
    promote(warehouse, "m", "2", "3", day(5))
    promote(warehouse, "m", "3", "4", day(9))
    with warehouse.session() as s:
        def prod(moment: datetime) -> dict[str, str]:
            return view.champions_at(view.as_of(s, moment))
        assert prod(day(0)) == {}
        assert prod(day(1)) == {"m": "1"}  # the promotion's own instant counts
        assert prod(day(1) - timedelta(microseconds=1)) == {}
        assert prod(day(3)) == {"m": "1", "n": "1"}
        assert prod(day(5)) == {"m": "2", "n": "1"}
        assert prod(day(8)) == {"m": "2", "n": "1"}
        assert prod(day(30)) == {"m": "3", "n": "1"}
        assert view.champions_at(view.as_of(s, day(0)), "uat") == {"m": "1"}
        rows = {r.prod_version: r for r in
                view.model_versions(s, AuditFilter(model="m")).rows}
    assert [rows[v].live_until for v in ("1", "2", "3")] == [day(5), day(9), None]
    assert [rows[v].is_champion for v in ("1", "2", "3")] == [False, False, True]
    assert rows["2"].get("uat_version") == "3"


def test_a_rollback_to_an_older_uat_version_is_a_new_prod_version(warehouse: Warehouse) -> None:
    promote(warehouse, "m", "1", "1", day(1))
    promote(warehouse, "m", "2", "2", day(2))
    promote(warehouse, "m", "3", "1", day(3), reason="rollback")
    with warehouse.session() as s:
        assert view.champions_at(view.as_of(s, day(4))) == {"m": "3"}
        back = view.model_versions(s, AuditFilter(model="m"), limit=1).rows[0]
    assert back.reason == "rollback"
    assert back.get("uat_version") == "1"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from("abc"), st.integers(1, 500)), min_size=1,
                max_size=12),
       st.integers(0, 520))
def test_as_of_equals_the_last_promotion_at_or_before(tmp_path_factory: object,
                                                      promotions: list[tuple[str, int]],
                                                      probe: int) -> None:
    """Brute force: replay the promotions in time order and compare at ``probe`` hours."""
    home = tmp_path_factory.mktemp("asof")  # type: ignore[attr-defined]
    wh = open_warehouse(load_settings({"GOV_HOME": str(home)}, {}), create=True)
    with wh.session() as s:
        schema.ensure_schema(s)
    expected: dict[str, str] = {}
    versions: dict[str, int] = {}
    moment = T0 + timedelta(hours=probe)
    for model, hours in sorted(promotions, key=lambda p: p[1]):
        versions[model] = versions.get(model, 0) + 1
        at = T0 + timedelta(hours=hours)
        promote(wh, model, str(versions[model]), str(versions[model]), at)
        if at <= moment:
            expected[model] = str(versions[model])
    with wh.session() as s:
        assert view.champions_at(view.as_of(s, moment)) == expected
