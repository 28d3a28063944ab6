"""Ledger status: verified once, reused while no row changes, re-walked after any change."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest

from governance import ledger
from governance.audit import integrity
from governance.settings import Settings, load_settings
from governance.warehouse import Warehouse, open_warehouse


@pytest.fixture
def copy(demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
         tmp_path: Path) -> Warehouse:
    home = copy_home(demo_settings.home, tmp_path / "home")
    return open_warehouse(load_settings({"GOV_HOME": str(home)}, {}))


def raw(wh: Warehouse, statement: str) -> None:
    """Tamper with the DuckDB file directly, as someone with file access would."""
    con = duckdb.connect(str(wh.path))  # type: ignore[attr-defined]
    try:
        con.execute(statement)
    finally:
        con.close()


def status(wh: Warehouse) -> integrity.LedgerStatus:
    with wh.session() as s:
        return integrity.status(s, wh.describe())


def test_intact_then_reused_while_nothing_changes(copy: Warehouse) -> None:
    first = status(copy)
    assert first.intact
    assert not first.cached
    assert first.fingerprint[0] > 20
    again = status(copy)
    assert again.cached
    assert again.verification == first.verification


def test_an_append_is_walked_again(copy: Warehouse) -> None:
    before = status(copy)
    with copy.session() as s:
        ledger.append(s, actor="system:test", environment="global", event_type="test_event",
                      subject="x")
    after = status(copy)
    assert not after.cached
    assert after.intact
    assert after.verification.entries == before.verification.entries + 1


def test_an_edited_payload_shows_broken_at_that_entry(copy: Warehouse) -> None:
    assert status(copy).intact
    raw(copy, "UPDATE governance.ledger SET payload = replace(payload, 'alice', 'mallory') "
              "WHERE event_type = 'approval_decided'")
    with copy.session() as s:
        seq = s.fetch_rows("audit/promotions_of", {"model_name": "basket_propensity"})[-1]["seq"]
    broken = status(copy)
    assert not broken.cached
    assert not broken.intact
    assert broken.verification.broken_seq is not None
    assert broken.verification.broken_seq < seq
    assert "BROKEN at entry" in broken.verification.summary()


def test_a_deleted_entry_shows_broken(copy: Warehouse) -> None:
    status(copy)
    raw(copy, "DELETE FROM governance.ledger WHERE seq = 5")
    broken = status(copy)
    assert not broken.intact
    assert broken.verification.broken_seq == 5
    assert "missing" in broken.verification.reason


def test_workspaces_never_share_a_cached_result(copy: Warehouse, demo_settings: Settings) -> None:
    status(copy)
    other = open_warehouse(demo_settings)
    with other.session() as s:
        assert not integrity.status(s, other.describe()).cached


def test_a_broken_prefix_stays_broken_after_appends(copy: Warehouse) -> None:
    raw(copy, "UPDATE governance.ledger SET actor = 'user:mallory@x' WHERE seq = 3")
    assert status(copy).verification.broken_seq == 3
    with copy.session() as s:
        ledger.append(s, actor="system:test", environment="global", event_type="test_event",
                      subject="x")
    again = status(copy)
    assert again.verification.broken_seq == 3
    assert again.cached


def wait_for_status(wh: Warehouse) -> integrity.LedgerStatus:
    for _ in range(200):
        answer = integrity.check(wh)
        if isinstance(answer, integrity.LedgerStatus):
            return answer
        assert 0 <= answer.walked <= answer.total
        time.sleep(0.05)
    raise AssertionError("the background walk never finished")


def test_check_walks_a_long_chain_in_the_background(copy: Warehouse,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(integrity, "INLINE_ROWS", 3)
    monkeypatch.setattr(integrity, "CHUNK", 4)
    first = integrity.check(copy)
    assert isinstance(first, integrity.Pending)
    assert first.total > 3
    done = wait_for_status(copy)
    assert done.intact
    assert done.verification.entries == first.total
    assert integrity.check(copy) == integrity.LedgerStatus(done.verification, done.fingerprint,
                                                           True, 0.0, done.verified_at)


def test_check_finds_a_tampered_entry_in_the_background(copy: Warehouse,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(integrity, "INLINE_ROWS", 3)
    raw(copy, "UPDATE governance.ledger SET subject = 'forged' WHERE seq = 7")
    done = wait_for_status(copy)
    assert not done.intact
    assert done.verification.broken_seq == 7


def test_check_answers_a_short_tail_inline(copy: Warehouse) -> None:
    assert isinstance(integrity.check(copy), integrity.LedgerStatus)


def test_fingerprints_of_adjacent_ranges_compose(copy: Warehouse) -> None:
    """The tail walk joins the prefix's fingerprint with the tail's; it must equal one scan."""
    with copy.session() as s:
        head = integrity.fingerprint(s)[1]
        for split in (0, 1, head // 2, head - 1, head):
            joined = integrity._joined(integrity.fingerprint(s, split),
                                       integrity.fingerprint(s, head, after=split))
            assert joined == integrity.fingerprint(s, head)


def test_after_an_append_the_next_check_is_cached(copy: Warehouse) -> None:
    status(copy)
    with copy.session() as s:
        ledger.append(s, actor="system:test", environment="global", event_type="test_event",
                      subject="x")
    walked = status(copy)
    assert not walked.cached
    again = status(copy)
    assert again.cached
    assert again.fingerprint == walked.fingerprint
