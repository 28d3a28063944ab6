"""CSV exports of the audit view: every filtered row across SQL pages, readable by csv/Excel."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime

import pytest

from governance import ledger
from governance.audit import export, view
from governance.audit.view import AuditFilter
from governance.errors import DataError
from governance.warehouse import Session, Warehouse
from tests.unit.audit.conftest import promote


def rows(data: bytes) -> list[dict[str, str]]:
    """Parse an export as a spreadsheet would (BOM stripped)."""
    assert data.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM to read UTF-8
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


def test_versions_csv_has_every_filtered_row_and_the_query_columns(demo: Session) -> None:
    table = rows(export.versions_csv(demo, AuditFilter()))

    assert list(export.VERSION_COLUMNS) == list(table[0])
    assert {("basket_propensity", "1"), ("basket_propensity", "2"), ("demand_forecast", "1"),
            ("price_elasticity", "1")} == {(r["model_name"], r["prod_version"]) for r in table}
    v2 = next(r for r in table if (r["model_name"], r["prod_version"]) == ("basket_propensity",
                                                                          "2"))
    assert "user:alice@retail.example" == v2["decided_by"]
    assert "true" == v2["is_champion"]
    assert "" == v2["live_until"]  # still live: empty, not "None"
    assert "INC-basket_propensity-20261005" == v2["incident_id"]
    assert 64 == len(v2["dataset_digest"])
    assert ["days_since_last_visit", "device"] == sorted(json.loads(v2["drifted_features"]))
    assert 0.5 < float(v2["candidate_metric"]) < 1
    assert "" == v2["gaps"]


def test_versions_csv_follows_filter_and_sort_across_chunks(demo: Session) -> None:
    """A chunk of one row forces four SQL pages: still every row, once, in the page's order."""
    where = AuditFilter(model="basket_propensity")
    table = rows(export.versions_csv(demo, where, sort="model", descending=False, chunk=1))
    assert [("basket_propensity", "1"), ("basket_propensity", "2")] == [
        (r["model_name"], r["prod_version"]) for r in table]

    everything = rows(export.versions_csv(demo, AuditFilter(), sort="live_from", chunk=1))
    shown = view.model_versions(demo, AuditFilter(), sort="live_from", limit=50)
    assert [(r.model_name, r.prod_version) for r in shown.rows] == [
        (r["model_name"], r["prod_version"]) for r in everything]


def test_versions_csv_of_nothing_is_the_header_only(demo: Session) -> None:
    data = export.versions_csv(demo, AuditFilter(model="no_such_model"))
    assert [] == rows(data)
    assert data.decode("utf-8-sig").startswith("model_name,prod_version,")


def test_events_csv_matches_the_filtered_ledger_verbatim(demo: Session) -> None:
    where = AuditFilter(event_type="drift_detected", model="basket_propensity")
    table = rows(export.events_csv(demo, where, descending=False, chunk=3))

    assert list(export.EVENT_COLUMNS) == list(table[0])
    expected = view.events(demo, where, descending=False, limit=500)
    assert expected.total == len(table) > 3
    assert [e.seq for e in expected.rows] == [int(r["seq"]) for r in table]
    assert {"drift_detected"} == {r["event_type"] for r in table}
    for r, entry in zip(table, expected.rows, strict=True):
        # The payload and hash are the stored ones, so a reader can re-hash the entry.
        assert ledger.canonical_json(dict(entry.payload)) == r["payload"]
        assert entry.hash == r["hash"]
        assert r["summary"].startswith("window 2026-")


def test_events_csv_by_actor(demo: Session) -> None:
    table = rows(export.events_csv(demo, AuditFilter(actor="alice@retail.example")))
    assert {"user:alice@retail.example"} == {r["actor"] for r in table}
    assert "approval_decided" in {r["event_type"] for r in table}


def test_formula_looking_text_is_defused_but_numbers_are_not(warehouse: Warehouse) -> None:
    """A ledger subject a spreadsheet would run as a formula is exported as text."""
    promote(warehouse, "=HYPERLINK(\"http://x\")", "1", "1", datetime(2026, 1, 1),
            reason="bootstrap")
    with warehouse.session() as session:
        table = rows(export.events_csv(session, AuditFilter(event_type="model_promoted")))
    assert ["'=HYPERLINK(\"http://x\")"] == [r["subject"] for r in table]
    assert "-1.5" == export._cell(-1.5)
    assert "'-x" == export._cell("-x")


def test_bad_chunk_is_a_clear_error(demo: Session) -> None:
    with pytest.raises(DataError, match="page size 0"):
        export.versions_csv(demo, AuditFilter(), chunk=0)


def test_filename_names_the_scope_and_time() -> None:
    now = datetime(2026, 11, 27, 2, 30)
    assert "audit-versions-all-20261127T0230.csv" == export.filename("versions", AuditFilter(),
                                                                     now)
    assert "audit-events-a_b-20261127T0230.csv" == export.filename(
        "events", AuditFilter(model="a/b"), now)

