"""What the audit view offers a trail for: incidents (promoted or not) and version rows."""

from __future__ import annotations

from governance.audit import selection
from governance.warehouse import Session


def test_incident_choices_and_version_row(demo: Session) -> None:
    """The page's incident picker and the row behind an incident's promoted version."""
    found = selection.incidents(demo)
    assert {"INC-basket_propensity-20261005", "INC-demand_forecast-20261005"} <= {
        i.incident_id for i in found}
    assert ("basket_propensity",) == tuple(
        {i.model_name for i in selection.incidents(demo, "basket_propensity")})
    row = selection.version_row(demo, "basket_propensity", "2")
    assert row is not None
    assert "APR-basket_propensity-20261005" == row.approval_id
    assert selection.version_row(demo, "basket_propensity", "99") is None
