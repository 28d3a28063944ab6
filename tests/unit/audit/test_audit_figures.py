"""The audit timeline figure: condensed runs, one marker each, failures apart."""

from __future__ import annotations

from app import audit_figures
from governance.audit import trail
from governance.warehouse import Session


def test_timeline_marks_each_run_once_and_labels_its_count(demo: Session) -> None:
    events = trail.version_trail(demo, "basket_propensity", "2").timeline
    fig = audit_figures.timeline(events, "Story")
    assert fig is not None
    markers = [t for t in fig.data if t.mode == "markers+text"]
    assert sum(len(t.x) for t in markers) == len(trail.condense(events))
    labels = [text for t in markers for text in t.text if text]
    drift = sum(1 for e in events if e.step == "drift detected")
    assert labels == [f"×{drift}"]
    assert fig.layout.yaxis.categoryarray[0] == "drift detected"


def test_no_events_no_figure() -> None:
    assert audit_figures.timeline((), "Story") is None
