"""``python -m governance response ...``: run and inspect the drift response.

Kept apart from :mod:`governance.cli` so each command module stays small; ``cli`` wires it in.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from governance.settings import load_settings
from governance.warehouse import Warehouse, open_warehouse

EXIT_OK, EXIT_FAILED = 0, 1


def add_parser(sub: Any) -> None:
    """Add the ``response`` command to the top-level subparsers."""
    resp = sub.add_parser("response", help="refresh, retrain and evaluate candidates (uat only)")
    resp_sub = resp.add_subparsers(dest="response_command", required=True)
    run = resp_sub.add_parser("run", help="answer one incident, or every unfinished one")
    run.add_argument("--incident", help="the incident id (default: every unfinished incident)")
    run.add_argument("--policy", type=Path, help="TOML policy ([response] gates)")
    show = resp_sub.add_parser("list", help="where each incident's response stands")
    show.add_argument("--format", choices=("table", "json"), default="table")


def respond(warehouse: Warehouse, incident_ids: list[str], policy: Any) -> int:
    """Answer ``incident_ids`` with progress on stdout; exit 1 if any step failed."""
    from governance.registry import quiet_mlflow, registries
    from governance.response import pipeline

    quiet_mlflow()
    regs = registries(load_settings())
    failed = 0
    for incident_id in incident_ids:
        outcome = pipeline.respond(warehouse, regs["uat"], regs["prod"], incident_id,
                                   policy=policy, progress=_say)
        failed += not outcome.ok
    return EXIT_FAILED if failed else EXIT_OK


def _say(line: str) -> None:
    print(line, flush=True)


def main(args: argparse.Namespace) -> int:
    """Run ``response run`` or ``response list``."""
    from governance.drift.policy import configured_policy
    from governance.response import pipeline, state

    settings = load_settings()
    warehouse = open_warehouse(settings)
    if args.response_command == "run":
        policy = configured_policy(settings.policy_file, args.policy)
        ids = [args.incident] if args.incident else pipeline.unfinished(warehouse)
        if not ids:
            print("no unfinished incidents: nothing to do")
            return EXIT_OK
        return respond(warehouse, ids, policy)
    with warehouse.session() as session:
        rows = state.all_responses(session)
    if args.format == "json":
        for r in rows:
            doc = {k: getattr(r, k) for k in (
                "incident_id", "model_name", "champion_version", "step", "failed_step",
                "requested_by", "dataset_table", "dataset_digest", "dataset_rows",
                "holdout_table", "candidate_version", "candidate_run_id", "approval_id")}
            doc.update(problems=list(r.problems), updated_at=r.updated_at.isoformat() + "Z",
                       cutoff=r.cutoff.isoformat() if r.cutoff else None)
            print(json.dumps(doc, ensure_ascii=False))
        return EXIT_OK
    print(f"{'incident':<34} {'step':<20} {'failed':<9} {'candidate':<9} {'approval':<30}")
    for r in rows:
        print(f"{r.incident_id:<34} {r.step:<20} {r.failed_step or '':<9} "
              f"{r.candidate_version or '':<9} {r.approval_id or '':<30}")
        for problem in r.problems:
            print(f"    {problem}")
    return EXIT_OK


def after_monitor(warehouse: Warehouse, checked_new_window: bool, policy: Any, *,
                  enabled: bool) -> int:
    """The monitor's automatic hand-off, after it stored at least one new window: answer new
    incidents, and retry refreshes that were waiting for labels (see ``unfinished``)."""
    from governance.response import pipeline

    if not enabled or not checked_new_window:
        return EXIT_OK
    waiting = pipeline.unfinished(warehouse, automatic=True)
    if not waiting:
        return EXIT_OK
    print(f"drift response for {len(waiting)} incident(s):", flush=True)
    return respond(warehouse, waiting, policy)
