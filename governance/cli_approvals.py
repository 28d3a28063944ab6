"""``python -m governance approvals list`` and ``python -m governance promote``.

Listing is read-only: deciding needs a signed-in approver, so the CLI never decides. ``promote``
is the promotion job's entry point (what a Databricks job runs): it re-reads the signed decision
from the ledger and refuses anything the ledger does not show as approved.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from governance import approvals
from governance.settings import load_settings
from governance.warehouse import open_warehouse

EXIT_OK, EXIT_FAILED = 0, 1


def add_parsers(sub: Any) -> None:
    """Add ``approvals`` and ``promote`` to the top-level subparsers."""
    appr = sub.add_parser("approvals", help="list approval requests (read-only)")
    appr_sub = appr.add_subparsers(dest="approvals_command", required=True)
    show = appr_sub.add_parser("list", help="requests, newest first")
    show.add_argument("--state", choices=approvals.STATES)
    show.add_argument("--format", choices=("table", "json"), default="table")
    prom = sub.add_parser("promote", help="the promotion job: promote an approved request")
    prom.add_argument("--approval", required=True, help="the approval id")


def main(args: argparse.Namespace) -> int:
    """Run ``approvals list`` or ``promote``."""
    settings = load_settings()
    warehouse = open_warehouse(settings)
    if args.command == "promote":
        from governance import promotion_job
        from governance.registry import quiet_mlflow, registries

        quiet_mlflow()
        regs = registries(settings)
        done = promotion_job.promote_approved(warehouse, regs["uat"], regs["prod"],
                                              args.approval)
        print(f"{done.approval_id}: {done.state}, {done.model_name} prod "
              f"v{done.detail.get('promotion', {}).get('prod_version')} is champion")
        return EXIT_OK
    with warehouse.session() as session:
        rows = approvals.list_approvals(session, args.state)
    if args.format == "json":
        for a in rows:
            print(json.dumps({
                "approval_id": a.approval_id, "model": a.model_name, "state": a.state,
                "kind": a.detail.get("kind", "drift"), "incident_id": a.incident_id,
                "candidate_version": a.candidate_version,
                "champion_version": a.champion_version, "requested_by": a.requested_by,
                "requested_at": a.requested_at.isoformat() + "Z", "decided_by": a.decided_by,
                "decided_at": a.decided_at.isoformat() + "Z" if a.decided_at else None,
                "comment": a.comment, "signers": [s.signer for s in a.signatures],
                "promotion": a.detail.get("promotion"),
            }, ensure_ascii=False))
        return EXIT_OK
    print(f"{'approval':<34} {'model':<18} {'state':<17} {'cand':<5} {'requested by':<24} "
          "decided by")
    for a in rows:
        print(f"{a.approval_id:<34} {a.model_name:<18} {a.state:<17} "
              f"{'v' + a.candidate_version:<5} {a.requested_by:<24} {a.decided_by or ''}")
    return EXIT_OK
