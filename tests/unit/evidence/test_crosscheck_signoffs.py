"""Cross-check of sign-off paths the seeded demo lacks: four eyes and a rollback request.

Two signatures write ``approval_signed`` then ``approval_decided``; a rollback request has no
incident and names its champion as ``from_prod_version``. Untouched, both packs verify; a
consistently forged fact is named against the entry it contradicts.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from governance import approvals, promotion_job
from governance.drift.policy import Policy
from governance.evidence import layout
from governance.evidence.pack import export_incident, export_version
from governance.evidence.verify import verify_pack
from governance.identity import Identity
from governance.registry import registries
from governance.settings import Settings, load_settings
from governance.warehouse import open_warehouse

from .conftest import EXPORTER, assert_named, entry, problems

DEMAND_APPROVAL = "APR-demand_forecast-20261005"


def _approval(doc: Any) -> dict[str, Any]:
    return doc["approvals"][0]  # type: ignore[no-any-return]


def _sig(doc: Any) -> dict[str, Any]:
    return _approval(doc)["signatures"][0]  # type: ignore[no-any-return]


def _person(email: str, group: str = "model-approvers") -> Identity:
    return Identity(email=email, name=email.split("@")[0].title(), subject=f"sub-{email}",
                    issuer="https://idp.retail.example", groups=(group,),
                    source="oidc", expires_at=datetime.now(UTC) + timedelta(hours=1))


def test_four_eyes_and_rollback_packs_verify_and_are_cross_checked(
        demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
        tmp_path: Path) -> None:
    home = copy_home(demo_settings.home, tmp_path / "home")
    settings = load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small",
                              "GOV_LOCK_TIMEOUT": "5"}, {})
    warehouse, regs = open_warehouse(settings), registries(settings)
    four_eyes = Policy(model_response={"demand_forecast": {"required_approvals": 2}})
    for email in ("bob@retail.example", "carol@retail.example"):
        approvals.decide(warehouse, regs["uat"], settings, four_eyes, DEMAND_APPROVAL,
                         _person(email), "approve", f"signed by {email}")
    promotion_job.promote_approved(warehouse, regs["uat"], regs["prod"], DEMAND_APPROVAL)
    rollback = approvals.request_rollback(
        warehouse, regs["uat"], settings, "demand_forecast",
        _person("dana@retail.example", "data-scientists"),
        "worse in the stores")
    approvals.decide(warehouse, regs["uat"], settings, Policy(), rollback.approval_id,
                     _person("bob@retail.example"), "approve", "roll it back")
    promotion_job.promote_approved(warehouse, regs["uat"], regs["prod"], rollback.approval_id)

    signed_pack = export_version(warehouse, "demand_forecast", "2", exported_by=EXPORTER).data
    rollback_pack = export_version(warehouse, "demand_forecast", "3", exported_by=EXPORTER).data
    assert verify_pack(signed_pack).ok, verify_pack(signed_pack).problems
    assert verify_pack(rollback_pack).ok, verify_pack(rollback_pack).problems

    signed = entry(signed_pack, "approval_signed")
    found = problems(signed_pack, layout.APPROVALS, lambda d: _sig(d).update(comment="forged"))
    assert_named(found, layout.APPROVALS, "comment", signed["seq"], "approval_signed")
    requested = entry(rollback_pack, "approval_requested")
    found = problems(rollback_pack, layout.APPROVALS,
                     lambda d: _approval(d).update(champion_version="1"))
    assert_named(found, layout.APPROVALS, "champion_version", requested["seq"],
                 "approval_requested")


def test_a_rejection_cannot_be_turned_into_an_approval(
        demo_settings: Settings, copy_home: Callable[[Path, Path], Path],
        tmp_path: Path) -> None:
    home = copy_home(demo_settings.home, tmp_path / "home")
    settings = load_settings({"GOV_HOME": str(home), "GOV_DEMO_SCALE": "small",
                              "GOV_LOCK_TIMEOUT": "5"}, {})
    warehouse = open_warehouse(settings)
    approvals.decide(warehouse, registries(settings)["uat"], settings, Policy(),
                     DEMAND_APPROVAL, _person("bob@retail.example"), "reject", "too noisy")
    pack = export_incident(warehouse, "INC-demand_forecast-20261005", exported_by=EXPORTER).data
    assert verify_pack(pack).ok, verify_pack(pack).problems
    decided = entry(pack, "approval_decided")
    found = problems(pack, layout.APPROVALS, lambda d: _approval(d).update(state="approved"))
    assert found == (f"approvals.json: {DEMAND_APPROVAL} state 'approved' but ledger entry "
                     f"{decided['seq']} (approval_decided) says 'rejected'",)
