"""The hash-chained audit ledger on the embedded warehouse, including direct SQL tampering."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import duckdb
import pytest

from governance import ledger
from governance.backends.duckdb import DuckDBWarehouse
from governance.errors import LedgerError
from governance.ledger import GENESIS, LedgerEntry, Verification, canonical_json, entry_hash
from governance.warehouse import Session, Warehouse

T0 = datetime(2024, 3, 1, 9, 0, 0, 123456)


def append_n(session: Session, n: int, **overrides: Any) -> list[LedgerEntry]:
    """Append n entries one minute apart, alternating two event types."""
    out = []
    for i in range(n):
        kwargs: dict[str, Any] = {
            "actor": "system:test",
            "environment": "uat",
            "event_type": "drift_detected" if i % 2 == 0 else "approval_requested",
            "subject": f"model_{i % 3}/1",
            "payload": {"i": i, "score": i / 10, "note": "naïve €"},
            "now": T0 + timedelta(minutes=i),
        }
        kwargs.update(overrides)
        out.append(ledger.append(session, **kwargs))
    return out


def seeded(warehouse: Warehouse, n: int = 5) -> list[LedgerEntry]:
    """Commit n entries and return them."""
    with warehouse.session() as session:
        return append_n(session, n)


def raw(warehouse: Warehouse, statement: str, params: list[Any] | None = None) -> list[Any]:
    """Run raw SQL against the workspace file (the test plays an attacker with DB access)."""
    assert isinstance(warehouse, DuckDBWarehouse)
    con = duckdb.connect(str(warehouse.path))
    try:
        cur = con.execute(statement, params or [])
        return cur.fetchall() if cur.description else []
    finally:
        con.close()


def verify(warehouse: Warehouse) -> Verification:
    with warehouse.session() as session:
        return ledger.verify(session)


def count(warehouse: Warehouse) -> int:
    with warehouse.session() as session:
        return int(session.fetch_scalar("ledger/count"))


# --- canonical JSON and the hash -------------------------------------------------------------


def test_canonical_json_ignores_key_order_at_every_level() -> None:
    """Key order (top-level and nested) does not change the canonical text."""
    a = {"b": 1, "a": {"y": [1, {"d": 2, "c": 3}], "x": None}}
    b = {"a": {"x": None, "y": [1, {"c": 3, "d": 2}]}, "b": 1}

    assert '{"a":{"x":null,"y":[1,{"c":3,"d":2}]},"b":1}' == canonical_json(a)
    assert canonical_json(a) == canonical_json(b)


def test_canonical_json_keeps_non_ascii_as_utf8() -> None:
    """Non-ASCII text is kept literally (not \\u-escaped), so hashes are over UTF-8 bytes."""
    value = {"note": "€ 東京", "city": "Zürich"}

    assert '{"city":"Zürich","note":"€ 東京"}' == canonical_json(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_canonical_json_refuses_non_finite_floats(value: float) -> None:
    """NaN and infinities have no JSON form and are refused."""
    with pytest.raises(ValueError, match="not JSON compliant"):
        canonical_json({"x": value})


def test_entry_hash_golden_vector() -> None:
    """The hash format is pinned: sha256(prev_hash + canonical_json(body)) as lowercase hex."""
    entry = LedgerEntry(1, datetime(2024, 1, 2, 3, 4, 5, 6), "system:test", "uat",
                        "drift_detected", "demand_forecast/3",
                        {"psi": 0.25, "feature": "prix", "note": "été"}, "")
    body_text = (
        '{"actor":"system:test","environment":"uat","payload":{"feature":"prix","note":"été",'
        '"psi":0.25},"seq":1,"subject":"demand_forecast/3","time":"2024-01-02T03:04:05.000006Z",'
        '"type":"drift_detected"}'
    )

    assert body_text == canonical_json(entry.body())
    assert hashlib.sha256((GENESIS + body_text).encode()).hexdigest() == entry_hash(
        GENESIS, entry.body()
    )
    assert "ede4586d9e648c7bdcfca401cef3f1601db31fb05ffc39a45e2490dfbbbe2173" == entry_hash(
        GENESIS, entry.body()
    )


def test_entry_hash_depends_on_prev_hash() -> None:
    """The same body chained to a different predecessor has a different hash."""
    body = {"seq": 2, "x": 1}

    assert entry_hash(GENESIS, body) != entry_hash("f" * 64, body)


# --- append ----------------------------------------------------------------------------------


def test_append_chains_from_genesis(warehouse: Warehouse) -> None:
    """Entries get seq 1, 2, ... and each hash chains to its predecessor (the first to GENESIS)."""
    with warehouse.session() as session:
        first, second = append_n(session, 2)

    assert (1, 2) == (first.seq, second.seq)
    assert entry_hash(GENESIS, first.body()) == first.hash
    assert entry_hash(first.hash, second.body()) == second.hash


def test_append_returns_what_is_stored(warehouse: Warehouse) -> None:
    """The returned entries equal the entries read back from the store."""
    appended = seeded(warehouse, 4)

    with warehouse.session() as session:
        stored = list(ledger.entries(session))

    assert appended == stored


def test_append_stores_canonical_payload_text(warehouse: Warehouse) -> None:
    """The payload column holds the canonical JSON text, byte for byte."""
    payload = {"z": 1, "a": "été", "m": [3, 2, 1]}
    with warehouse.session() as session:
        ledger.append(session, actor="user:ana@example.com", environment="global",
                      event_type="note", subject="s", payload=payload, now=T0)

    assert [(canonical_json(payload),)] == raw(warehouse, "SELECT payload FROM governance.ledger")


def test_append_normalises_payload_through_json(warehouse: Warehouse) -> None:
    """The entry's payload is the JSON round trip of the input (tuples become lists)."""
    with warehouse.session() as session:
        entry = ledger.append(session, actor="system:t", environment="uat", event_type="x",
                              subject="s", payload={"t": (1, 2)}, now=T0)

    assert {"t": [1, 2]} == entry.payload


def test_append_without_payload_stores_empty_object(warehouse: Warehouse) -> None:
    """A missing payload is stored as {}."""
    with warehouse.session() as session:
        entry = ledger.append(session, actor="system:t", environment="prod", event_type="x",
                              subject="s", now=T0)

    assert {} == entry.payload
    assert [("{}",)] == raw(warehouse, "SELECT payload FROM governance.ledger")


def test_append_default_time_is_naive_utc_now(warehouse: Warehouse) -> None:
    """Without `now`, the entry time is the current UTC time, naive."""
    before = datetime.now(UTC).replace(tzinfo=None)
    with warehouse.session() as session:
        entry = ledger.append(session, actor="system:t", environment="uat", event_type="x",
                              subject="s")
    after = datetime.now(UTC).replace(tzinfo=None)

    assert entry.time.tzinfo is None
    assert before <= entry.time <= after


def test_append_converts_aware_time_to_utc(warehouse: Warehouse) -> None:
    """An aware `now` of 12:00+02:00 is stored as 10:00 (naive UTC)."""
    now = datetime(2024, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    with warehouse.session() as session:
        entry = ledger.append(session, actor="system:t", environment="uat", event_type="x",
                              subject="s", now=now)

    assert datetime(2024, 6, 1, 10, 0) == entry.time


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"actor": ""}, "non-empty actor and subject"),
        ({"subject": ""}, "non-empty actor and subject"),
        ({"environment": "staging"}, "environment 'staging' is not one of"),
        ({"environment": "PROD"}, "environment 'PROD' is not one of"),
        ({"event_type": "DriftDetected"}, "must be lower_snake_case"),
        ({"event_type": "drift-detected"}, "must be lower_snake_case"),
        ({"event_type": "1drift"}, "must be lower_snake_case"),
        ({"event_type": ""}, "must be lower_snake_case"),
        pytest.param(
            {"event_type": "drift\n"}, "must be lower_snake_case",
            id="type-trailing-newline",
        ),
        ({"payload": {"x": float("nan")}}, "not JSON-serialisable"),
        ({"payload": {"x": float("inf")}}, "not JSON-serialisable"),
        ({"payload": {"x": {1, 2}}}, "not JSON-serialisable"),
        ({"payload": {"x": object()}}, "not JSON-serialisable"),
        ({"payload": {1: "a", "b": 2}}, "not JSON-serialisable"),
    ],
    ids=lambda v: repr(v)[:40],
)
def test_invalid_append_raises_and_writes_nothing(
    warehouse: Warehouse, kwargs: dict[str, Any], match: str
) -> None:
    """Invalid arguments raise LedgerError and write nothing, even if the caller then commits."""
    good = {"actor": "system:t", "environment": "uat", "event_type": "drift_detected",
            "subject": "m/1", "payload": {"ok": True}, "now": T0}
    seeded(warehouse, 2)

    with warehouse.session() as session:
        with pytest.raises(LedgerError, match=match):
            ledger.append(session, **{**good, **kwargs})
        assert 2 == session.fetch_scalar("ledger/count")

    assert 2 == count(warehouse)
    assert verify(warehouse).intact


@pytest.mark.parametrize(
    "kwargs", [{"payload": {"path": "caf\udce9"}}, {"subject": "m\udce9"}], ids=["payload", "subj"]
)
def test_unencodable_text_is_a_ledger_error(warehouse: Warehouse, kwargs: dict[str, Any]) -> None:
    """A lone surrogate (e.g. from os.fsdecode) is refused with LedgerError."""
    args = {"actor": "system:t", "environment": "uat", "event_type": "x", "subject": "s", **kwargs}
    with warehouse.session() as session, pytest.raises(LedgerError, match=r"UTF-8|encode"):
        ledger.append(session, **args)


def test_append_rolls_back_with_the_callers_unit_of_work(warehouse: Warehouse) -> None:
    """An entry appended in a unit of work that fails is not stored."""
    seeded(warehouse, 1)

    def failing_action() -> None:
        with warehouse.session() as session:
            ledger.append(session, actor="system:t", environment="uat", event_type="x",
                          subject="s")
            raise RuntimeError("state change failed")

    with pytest.raises(RuntimeError, match="state change failed"):
        failing_action()

    assert 1 == count(warehouse)


# --- verify ----------------------------------------------------------------------------------


def test_verify_empty_ledger(warehouse: Warehouse) -> None:
    """An empty ledger is intact with 0 entries and the GENESIS head."""
    assert Verification(True, 0, None, "", GENESIS) == verify(warehouse)


def test_verify_intact_chain(warehouse: Warehouse) -> None:
    """An untouched chain is intact; head_hash is the last entry's hash."""
    entries = seeded(warehouse, 5)

    result = verify(warehouse)

    assert Verification(True, 5, None, "", entries[-1].hash) == result
    assert f"intact: 5 entries (head {entries[-1].hash[:12]})" == result.summary()


def test_verify_across_many_units_of_work(warehouse: Warehouse) -> None:
    """Appends committed by separate sessions extend one chain."""
    for _ in range(3):
        seeded(warehouse, 2)

    result = verify(warehouse)

    assert (True, 6) == (result.intact, result.entries)


# --- tampering with the stored rows ----------------------------------------------------------


def assert_broken_at(result: Verification, seq: int, entries: list[LedgerEntry]) -> None:
    """Broken at `seq`, having read `seq` rows, with the head of the last good entry."""
    assert (False, seq) == (result.intact, result.broken_seq)
    assert seq == result.entries
    assert (entries[seq - 2].hash if seq > 1 else GENESIS) == result.head_hash
    assert result.summary().startswith(f"BROKEN at entry {seq}: ")


@pytest.mark.parametrize(
    ("statement", "seq"),
    [
        ("UPDATE governance.ledger SET payload = '{\"i\":2,\"score\":0.9}' WHERE seq = 3", 3),
        ("UPDATE governance.ledger SET actor = 'user:mallory@example.com' WHERE seq = 2", 2),
        ("UPDATE governance.ledger SET environment = 'prod' WHERE seq = 4", 4),
        ("UPDATE governance.ledger SET event_type = 'promoted' WHERE seq = 1", 1),
        ("UPDATE governance.ledger SET subject = 'model_9/1' WHERE seq = 5", 5),
        ("UPDATE governance.ledger SET event_time = event_time + INTERVAL 1 MICROSECOND "
         "WHERE seq = 4", 4),
        ("UPDATE governance.ledger SET hash = upper(hash) WHERE seq = 2", 2),
        ("UPDATE governance.ledger SET payload = 'not json' WHERE seq = 3", 3),
    ],
    ids=["payload", "actor", "environment", "type", "subject", "time", "hash", "garbage"],
)
def test_edited_field_is_detected(warehouse: Warehouse, statement: str, seq: int) -> None:
    """Editing any hashed column (or the hash) of entry k breaks the chain at k."""
    entries = seeded(warehouse, 5)

    raw(warehouse, statement)

    assert_broken_at(verify(warehouse), seq, entries)


def test_deleted_entry_is_detected(warehouse: Warehouse) -> None:
    """Deleting entry 3 of 5 is reported as entry 3 missing."""
    entries = seeded(warehouse, 5)

    raw(warehouse, "DELETE FROM governance.ledger WHERE seq = 3")
    result = verify(warehouse)

    assert_broken_at(result, 3, entries)
    assert "entry 3 is missing (found 4)" == result.reason


def test_deleted_first_entry_is_detected(warehouse: Warehouse) -> None:
    """Deleting entry 1 is reported at entry 1."""
    entries = seeded(warehouse, 3)

    raw(warehouse, "DELETE FROM governance.ledger WHERE seq = 1")

    assert_broken_at(verify(warehouse), 1, entries)


def test_forged_entry_inserted_mid_chain_is_detected(warehouse: Warehouse) -> None:
    """A forged entry 3 with a correct hash, with later entries renumbered, breaks at 4."""
    entries = seeded(warehouse, 5)
    forged = LedgerEntry(3, entries[2].time, "user:boss@example.com", "prod", "approved",
                         "model_0/1", {"comment": "lgtm"}, "")
    digest = entry_hash(entries[1].hash, forged.body())

    raw(warehouse, "UPDATE governance.ledger SET seq = seq + 1 WHERE seq >= 3")
    raw(warehouse, "INSERT INTO governance.ledger VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [3, forged.time, forged.actor, forged.environment, forged.type, forged.subject,
         canonical_json(dict(forged.payload)), digest])
    result = verify(warehouse)

    assert (False, 4, 4) == (result.intact, result.broken_seq, result.entries)
    assert digest == result.head_hash


def test_forged_entry_before_genesis_is_detected(warehouse: Warehouse) -> None:
    """An extra entry with seq 0 is out of order at entry 1."""
    entries = seeded(warehouse, 3)
    raw(warehouse, "INSERT INTO governance.ledger SELECT 0, event_time, actor, environment, "
                   "event_type, subject, payload, hash FROM governance.ledger WHERE seq = 1")

    result = verify(warehouse)

    assert_broken_at(result, 1, entries)
    assert "entry 1 is duplicate or out of order (found 0)" == result.reason


def test_swapped_seq_values_are_detected(warehouse: Warehouse) -> None:
    """Swapping the seq of entries 2 and 4 (reordering history) breaks at 2."""
    entries = seeded(warehouse, 5)

    raw(warehouse, "UPDATE governance.ledger SET seq = CASE seq WHEN 2 THEN 4 ELSE 2 END "
                   "WHERE seq IN (2, 4)")

    assert_broken_at(verify(warehouse), 2, entries)


def test_recomputed_tail_after_edit_is_still_detected(warehouse: Warehouse) -> None:
    """Editing entry 2 and re-hashing only entry 2 still breaks at 3 (3 chains to the old hash)."""
    entries = seeded(warehouse, 4)
    edited = LedgerEntry(**{**entries[1].__dict__, "actor": "user:mallory@example.com"})
    new_hash = entry_hash(entries[0].hash, edited.body())

    raw(warehouse, "UPDATE governance.ledger SET actor = ?, hash = ? WHERE seq = 2",
        [edited.actor, new_hash])
    result = verify(warehouse)

    assert (False, 3, new_hash) == (result.intact, result.broken_seq, result.head_hash)


def test_tail_truncation_is_only_caught_by_a_published_head(warehouse: Warehouse) -> None:
    """Deleting the newest entries leaves a valid chain: only a published head_hash reveals it.

    This is the documented limit of a hash chain: it proves integrity, not completeness of the
    tail. Comparing the current head with one published earlier detects the truncation.
    """
    seeded(warehouse, 5)
    published = verify(warehouse).head_hash

    raw(warehouse, "DELETE FROM governance.ledger WHERE seq >= 4")
    result = verify(warehouse)

    assert (True, 3) == (result.intact, result.entries)
    assert published != result.head_hash


def test_forged_tail_append_is_only_caught_by_a_published_head(warehouse: Warehouse) -> None:
    """A self-consistent forged entry appended at the tail verifies; only the head changes."""
    entries = seeded(warehouse, 3)
    published = verify(warehouse).head_hash
    forged = LedgerEntry(4, T0 + timedelta(hours=1), "user:boss@example.com", "prod",
                         "approved", "model_0/1", {}, "")
    digest = entry_hash(entries[-1].hash, forged.body())
    raw(warehouse, "INSERT INTO governance.ledger VALUES (4, ?, ?, 'prod', 'approved', "
                   "'model_0/1', '{}', ?)", [forged.time, forged.actor, digest])

    result = verify(warehouse)

    assert (True, 4, digest) == (result.intact, result.entries, result.head_hash)
    assert published != result.head_hash


def test_non_canonical_payload_text_is_detected(warehouse: Warehouse) -> None:
    """A payload rewritten as '{"i":999,"i":2,...}' (reads as 999 in SQL) breaks the chain."""
    entries = seeded(warehouse, 3)
    original = raw(warehouse, "SELECT payload FROM governance.ledger WHERE seq = 2")[0][0]
    forged = '{"i":999,' + original[1:]
    raw(warehouse, "UPDATE governance.ledger SET payload = ? WHERE seq = 2", [forged])
    assert [("999",)] == raw(
        warehouse, "SELECT payload->>'i' FROM governance.ledger WHERE seq = 2"
    )

    assert_broken_at(verify(warehouse), 2, entries)


@pytest.mark.parametrize("payload", ["[1,2]", '"text"', "null", "3"])
def test_non_object_payload_is_reported_not_raised(warehouse: Warehouse, payload: str) -> None:
    """A stored payload that is JSON but not an object is reported as a broken entry."""
    entries = seeded(warehouse, 3)
    raw(warehouse, "UPDATE governance.ledger SET payload = ? WHERE seq = 2", [payload])

    assert_broken_at(verify(warehouse), 2, entries)


def test_payload_rewritten_as_pairs_is_detected(warehouse: Warehouse) -> None:
    """Rewriting payload {"a":..} as [["a",..]] is detected."""
    entries = seeded(warehouse, 3)
    pairs = json.dumps(sorted(entries[1].payload.items()), ensure_ascii=False)
    raw(warehouse, "UPDATE governance.ledger SET payload = ? WHERE seq = 2", [pairs])

    assert_broken_at(verify(warehouse), 2, entries)


# --- reading ---------------------------------------------------------------------------------


def test_entries_filters_by_type(warehouse: Warehouse) -> None:
    """entries(event_type=...) yields only that type, oldest first."""
    all_entries = seeded(warehouse, 6)

    with warehouse.session() as session:
        drift = list(ledger.entries(session, event_type="drift_detected"))
        none = list(ledger.entries(session, event_type="no_such_type"))

    assert [e for e in all_entries if e.type == "drift_detected"] == drift
    assert [1, 3, 5] == [e.seq for e in drift]
    assert [] == none


def test_entries_filters_by_since_inclusive(warehouse: Warehouse) -> None:
    """entries(since=t) yields entries at or after t."""
    all_entries = seeded(warehouse, 5)

    with warehouse.session() as session:
        recent = list(ledger.entries(session, since=all_entries[2].time))
        combined = list(ledger.entries(session, since=all_entries[2].time,
                                       event_type="approval_requested"))

    assert [3, 4, 5] == [e.seq for e in recent]
    assert [4] == [e.seq for e in combined]


def test_entries_limit(warehouse: Warehouse) -> None:
    """entries(limit=n) yields the n oldest matching entries."""
    seeded(warehouse, 5)

    with warehouse.session() as session:
        first_two = list(ledger.entries(session, limit=2))

    assert [1, 2] == [e.seq for e in first_two]


def test_latest_by_type_returns_newest_per_subject(warehouse: Warehouse) -> None:
    """latest_by_type maps each subject to its newest entry of that type."""
    all_entries = seeded(warehouse, 7)

    with warehouse.session() as session:
        latest = ledger.latest_by_type(session, "drift_detected")

    drift = [e for e in all_entries if e.type == "drift_detected"]
    expected: dict[str, LedgerEntry] = {}
    for e in drift:
        expected[e.subject] = e
    assert expected == latest
    assert {"model_0/1": 7, "model_1/1": 5, "model_2/1": 3} == {
        k: v.seq for k, v in latest.items()
    }


def test_latest_by_type_unknown_type_is_empty(warehouse: Warehouse) -> None:
    """A type nobody wrote gives an empty mapping."""
    seeded(warehouse, 2)

    with warehouse.session() as session:
        assert {} == ledger.latest_by_type(session, "never_written")


def test_to_json_is_body_plus_hash() -> None:
    """to_json is the hashed body plus the hash, with the time as ISO-8601 Z text."""
    entry = LedgerEntry(7, datetime(2024, 1, 2, 3, 4, 5), "system:t", "uat", "x", "s", {"a": 1},
                        "ab" * 32)

    assert {"seq": 7, "time": "2024-01-02T03:04:05.000000Z", "actor": "system:t",
            "environment": "uat", "type": "x", "subject": "s", "payload": {"a": 1},
            "hash": "ab" * 32} == entry.to_json()
