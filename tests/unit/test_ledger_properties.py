"""Property tests of the hash chain: any single tampering of a stored chain is detected.

Rows are built in memory (no database) in the column order of ``ledger/all_entries`` and chained
with :func:`governance.ledger.entry_hash`. For a mutation whose first touched row is at 1-based
position ``p`` (an edited, deleted, inserted or swapped row), we assert precisely:

* ``verify_rows`` reports ``intact=False`` and ``p <= broken_seq <= p + 1``;
* it read exactly ``broken_seq`` rows (it stops at the first broken one);
* ``head_hash`` is the stored hash of the row before the broken one (or GENESIS).

Exact values per mutation: an edit, delete or swap breaks at ``p``; an inserted forged row breaks
at ``p`` when its seq does not fit, else at ``p + 1`` (the displaced row no longer chains).
Two mutations cannot be caught by the chain alone, by design: deleting the LAST row (tail
truncation) and appending a self-consistent forged row at the END. Both verify as intact with a
different ``head_hash``, which is why the head hash is published elsewhere.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from governance.ledger import (
    ENVIRONMENTS,
    GENESIS,
    LedgerEntry,
    Verification,
    canonical_json,
    entry_hash,
    verify_rows,
)

Row = tuple[Any, ...]
FIELDS = ("seq", "time", "actor", "environment", "type", "subject", "payload", "hash")

# The autouse env-cleaning fixture is function scoped but harmless to share between examples.
PROPERTY = hsettings(
    derandomize=True,
    database=None,
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)

texts = st.text(st.characters(codec="utf-8"), max_size=12)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | texts
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(texts, inner, max_size=3),
    max_leaves=6,
)
payloads = st.dictionaries(texts, json_values, max_size=4)
times = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1))
bodies = st.tuples(
    times,
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
    st.sampled_from(sorted(ENVIRONMENTS)),
    st.from_regex(r"\A[a-z][a-z0-9_]{0,10}\Z"),
    st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
    payloads,
)
chains = st.lists(bodies, min_size=1, max_size=30)


def make_row(seq: int, prev_hash: str, body: tuple[Any, ...]) -> Row:
    """A stored row for `body` at `seq`, with its hash chained to `prev_hash`."""
    time, actor, environment, event_type, subject, payload = body
    entry = LedgerEntry(seq, time, actor, environment, event_type, subject, payload, "")
    return (seq, time, actor, environment, event_type, subject, canonical_json(payload),
            entry_hash(prev_hash, entry.body()))


def build(chain_bodies: list[tuple[Any, ...]]) -> list[Row]:
    """Chain the bodies from GENESIS into stored rows."""
    rows: list[Row] = []
    for seq, body in enumerate(chain_bodies, start=1):
        rows.append(make_row(seq, rows[-1][7] if rows else GENESIS, body))
    return rows


def head_before(rows: list[Row], position: int) -> str:
    """Stored hash of the row before 1-based `position`, or GENESIS."""
    return rows[position - 2][7] if position > 1 else GENESIS


def assert_broken_near(result: Verification, mutated: list[Row], position: int) -> None:
    """Broken at `position` or the next row; stopped there; head is the row before."""
    assert result.intact is False
    assert result.broken_seq is not None
    assert position <= result.broken_seq <= position + 1
    assert result.broken_seq == result.entries
    assert head_before(mutated, result.broken_seq) == result.head_hash
    assert "" != result.reason


@PROPERTY
@given(chains)
def test_unmutated_chain_is_intact(chain_bodies: list[tuple[Any, ...]]) -> None:
    """A freshly built chain is intact, counts every row, and its head is the last row's hash."""
    rows = build(chain_bodies)

    result = verify_rows(iter(rows))

    assert Verification(True, len(rows), None, "", rows[-1][7]) == result


def new_value(data: st.DataObject, field: str, old: Any) -> Any:
    """Draw a replacement for `field` that differs from `old` in its hashed form."""
    if field == "seq":
        return data.draw(st.integers(min_value=-3, max_value=40).filter(lambda v: v != old))
    if field == "time":
        return data.draw(times.filter(lambda v: v != old))
    if field == "payload":
        return canonical_json(data.draw(payloads.filter(lambda p: canonical_json(p) != old)))
    if field == "hash":
        hexes = st.text("0123456789abcdef", min_size=64, max_size=64)
        return data.draw((hexes | texts).filter(lambda v: v != old))
    return data.draw(texts.filter(lambda v: v != old))


@PROPERTY
@given(chains, st.data())
def test_editing_any_field_of_any_row_is_detected(
    chain_bodies: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    """Changing one field (seq, time, actor, environment, type, subject, payload, hash) of row k
    breaks the chain exactly at k."""
    rows = build(chain_bodies)
    k = data.draw(st.integers(min_value=0, max_value=len(rows) - 1), label="row")
    field = data.draw(st.sampled_from(FIELDS), label="field")
    column = FIELDS.index(field)
    mutated = list(rows)
    mutated[k] = (*rows[k][:column], new_value(data, field, rows[k][column]),
                  *rows[k][column + 1:])

    result = verify_rows(mutated)

    assert_broken_near(result, mutated, k + 1)
    assert k + 1 == result.broken_seq


@PROPERTY
@given(chains, st.data())
def test_deleting_any_row_is_detected_except_the_tail(
    chain_bodies: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    """Deleting row k < last breaks at k as 'missing'; deleting the last row (tail truncation)
    stays intact but moves head_hash back to the previous row."""
    rows = build(chain_bodies)
    k = data.draw(st.integers(min_value=0, max_value=len(rows) - 1), label="row")
    mutated = rows[:k] + rows[k + 1:]

    result = verify_rows(mutated)

    if k == len(rows) - 1:
        assert Verification(True, len(rows) - 1, None, "", head_before(rows, len(rows))) == result
        assert rows[-1][7] != result.head_hash
    else:
        assert_broken_near(result, mutated, k + 1)
        assert k + 1 == result.broken_seq
        assert f"entry {k + 1} is missing (found {k + 2})" == result.reason


@PROPERTY
@given(chains, bodies, st.data())
def test_inserting_a_forged_row_is_detected_except_a_tail_append(
    chain_bodies: list[tuple[Any, ...]], forged_body: tuple[Any, ...], data: st.DataObject
) -> None:
    """A forged row with a self-consistent hash inserted at index i breaks at i+1 (its seq does
    not fit) or i+2 (it fits, so the displaced row breaks), whether or not later rows are
    renumbered; appended at the end with the next seq it verifies, with a new head_hash."""
    rows = build(chain_bodies)
    n = len(rows)
    i = data.draw(st.integers(min_value=0, max_value=n), label="insert at")
    forged_seq = data.draw(st.just(i + 1) | st.integers(min_value=-2, max_value=n + 3),
                           label="forged seq")
    renumber = data.draw(st.booleans(), label="renumber later rows")
    forged = make_row(forged_seq, head_before(rows, i + 1), forged_body)
    later = [(r[0] + 1, *r[1:]) for r in rows[i:]] if renumber else rows[i:]
    mutated = [*rows[:i], forged, *later]

    result = verify_rows(mutated)

    if i == n and forged_seq == n + 1:
        assert Verification(True, n + 1, None, "", forged[7]) == result
        assert rows[-1][7] != result.head_hash
    else:
        assert_broken_near(result, mutated, i + 1)
        assert (i + 1 if forged_seq != i + 1 else i + 2) == result.broken_seq


@PROPERTY
@given(st.lists(bodies, min_size=2, max_size=30), st.data())
def test_swapping_two_rows_is_detected(
    chain_bodies: list[tuple[Any, ...]], data: st.DataObject
) -> None:
    """Swapping two distinct rows i < j, either whole (reordering) or keeping the seq column in
    place (swapped seq values), breaks exactly at i+1."""
    rows = build(chain_bodies)
    i, j = sorted(data.draw(
        st.lists(st.integers(min_value=0, max_value=len(rows) - 1), min_size=2, max_size=2,
                 unique=True),
        label="rows",
    ))
    keep_seq = data.draw(st.booleans(), label="keep seq column in place")
    mutated = list(rows)
    if keep_seq:
        mutated[i] = (rows[i][0], *rows[j][1:])
        mutated[j] = (rows[j][0], *rows[i][1:])
    else:
        mutated[i], mutated[j] = rows[j], rows[i]

    result = verify_rows(mutated)

    assert_broken_near(result, mutated, i + 1)
    assert i + 1 == result.broken_seq


@PROPERTY
@given(st.integers(min_value=1, max_value=2**40), bodies)
def test_fast_body_text_is_the_canonical_body(seq: int, body: tuple[Any, ...]) -> None:
    """The walk's hand-written body equals canonical_json(entry.body()) byte for byte."""
    from governance.ledger import _body_text

    row = make_row(seq, GENESIS, body)
    entry = LedgerEntry(seq, *body, "")
    assert _body_text(row) == canonical_json(entry.body())
