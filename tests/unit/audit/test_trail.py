"""Timelines of a promoted version, a bootstrap version and a pending incident (seeded demo)."""

from __future__ import annotations

import pytest

from governance.audit import trail
from governance.errors import DataError
from governance.warehouse import Session


def test_promoted_version_tells_the_whole_story_in_order(demo: Session) -> None:
    found = trail.version_trail(demo, "basket_propensity", "2")
    assert found.incident_id == "INC-basket_propensity-20261005"
    assert found.approval_id == "APR-basket_propensity-20261005"
    steps = [e.step for e in found.timeline]
    drift = [s for s in steps if s == "drift detected"]
    assert drift
    assert steps[:len(drift)] == drift
    assert steps[len(drift):] == [
        "refresh staged", "candidate trained", "evaluated", "approval requested", "decided",
        "promotion job run", "live in prod", "promotion completed"]
    assert list(found.seqs) == sorted(found.seqs)
    decided = next(e for e in found.timeline if e.step == "decided")
    assert decided.actor == "user:alice@retail.example"
    assert "approve by alice@retail.example" in decided.summary
    live = next(e for e in found.timeline if e.step == "live in prod")
    assert "prod v2 from uat v2" in live.summary
    assert not any(e.failed for e in found.timeline)


def test_version_trail_holds_only_its_own_promotion(demo: Session) -> None:
    found = trail.version_trail(demo, "basket_propensity", "2")
    promoted = [e for e in found.entries if e.type == "model_promoted"]
    assert [e.payload["prod_version"] for e in promoted] == ["2"]
    assert all(e.subject != "basket_propensity/2" for e in found.entries
               if e.type == "drift_detected")  # v2's own monitoring is not its cause


def test_bootstrap_version_is_its_training_and_promotion(demo: Session) -> None:
    found = trail.version_trail(demo, "demand_forecast", "1")
    assert [e.step for e in found.timeline] == ["trained", "live in prod"]
    assert found.incident_id is None
    assert "uat.training.demand_forecast_v1" in found.timeline[0].summary


def test_pending_incident_has_no_prod_version_yet(demo: Session) -> None:
    found = trail.incident_trail(demo, "INC-demand_forecast-20261005")
    assert found.model_name == "demand_forecast"
    assert found.prod_version is None
    assert found.approval_id == "APR-demand_forecast-20261005"
    assert [e.step for e in found.timeline][-1] == "approval requested"


def test_promoted_incident_trail_names_the_version(demo: Session) -> None:
    found = trail.incident_trail(demo, "INC-basket_propensity-20261005")
    assert found.prod_version == "2"
    assert found.model_name == "basket_propensity"


@pytest.mark.parametrize("call", [
    lambda s: trail.version_trail(s, "basket_propensity", "9"),
    lambda s: trail.version_trail(s, "no_such_model", "1"),
    lambda s: trail.incident_trail(s, "INC-nothing"),
])
def test_unknown_subject_is_a_clear_error(demo: Session, call: object) -> None:
    with pytest.raises(DataError, match="ledger"):
        call(demo)  # type: ignore[operator]


def test_condensed_timeline_merges_runs_of_one_step(demo: Session) -> None:
    events = trail.version_trail(demo, "basket_propensity", "2").timeline
    condensed = trail.condense(events)
    drift = [e for e in events if e.step == "drift detected"]
    assert condensed[0].step == "drift detected"
    assert condensed[0].count == len(drift)
    assert condensed[0].last_seq == drift[-1].seq
    assert condensed[0].summary.startswith(f"first: {drift[0].summary}")
    assert condensed[0].summary.endswith(f"last: {drift[-1].summary}")
    assert [e.step for e in condensed[1:]] == [e.step for e in events[len(drift):]]
    assert sum(e.count for e in condensed) == len(events)
    assert trail.condense(()) == ()
