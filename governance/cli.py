"""The command line: ``python -m governance <command>``.

Every command prints its result on stdout and errors on stderr as ``error: ...`` plus a
``How to fix:`` line, never a traceback, and exits 0 (ok), 1 (the check failed, e.g. a broken
ledger) or 2 (bad input or configuration).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from governance import ledger
from governance.errors import GovernanceError
from governance.settings import describe, env_name, load_settings
from governance.warehouse import open_warehouse

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m governance",
                                     description="Driftgate governance commands.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="build the seeded retail demo workspace under GOV_HOME")
    demo.add_argument("--reset", action="store_true", help="throw away the existing workspace")
    demo.add_argument("--seed", type=int, help="override GOV_DEMO_SEED")
    demo.add_argument("--scale", choices=("small", "default"), help="override GOV_DEMO_SCALE")

    led = sub.add_parser("ledger", help="verify or list the audit ledger")
    led_sub = led.add_subparsers(dest="ledger_command", required=True)
    led_sub.add_parser("verify", help="walk the hash chain; exit 1 if it is broken")
    show = led_sub.add_parser("show", help="list entries, oldest first")
    show.add_argument("--type", dest="event_type", help="only entries of this type")
    show.add_argument("--since", type=_date, help="only entries at or after this date (UTC)")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.add_argument("--limit", type=int, default=100_000, help="at most this many entries")

    conf = sub.add_parser("settings", help="print every setting with its value and doc")
    conf.add_argument("--markdown", action="store_true",
                      help="print the settings reference (docs/settings.md) instead")
    return parser


def _date(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {raw!r} (e.g. 2026-11-01)") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command and return the exit code."""
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    # MLflow logs store migrations at INFO; only its warnings matter on a command line.
    logging.getLogger("mlflow").setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "ledger":
            return _ledger(args)
        return _settings(markdown=args.markdown)
    except GovernanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _demo(args: argparse.Namespace) -> int:
    from governance.demo.seed import seed

    settings = load_settings()
    overrides: dict[str, Any] = {}
    if args.seed is not None:
        overrides["demo_seed"] = args.seed
    if args.scale:
        overrides["demo_scale"] = args.scale
    settings = dataclasses.replace(settings, **overrides)
    report = seed(settings, reset=args.reset, progress=lambda line: print(line, file=sys.stderr))
    if not report.built:
        print(f"demo workspace already complete at {settings.home}; nothing changed "
              "(use --reset to rebuild)")
        return EXIT_OK
    rows = sum(report.tables.values())
    print(f"demo workspace built at {settings.home} in {report.seconds:.1f}s: "
          f"{len(report.tables)} tables, {rows:,} rows, {len(report.metrics)} models")
    for model, metrics in report.metrics.items():
        shown = ", ".join(f"{k}={v:.4g}" for k, v in sorted(metrics.items()))
        print(f"  {model}: {shown}")
    return EXIT_OK


def _ledger(args: argparse.Namespace) -> int:
    warehouse = open_warehouse(load_settings())
    with warehouse.session() as session:
        if args.ledger_command == "verify":
            result = ledger.verify(session)
            print(result.summary())
            return EXIT_OK if result.intact else EXIT_FAILED
        found = ledger.entries(session, event_type=args.event_type, since=args.since,
                               limit=args.limit)
        if args.format == "json":
            for entry in found:
                print(json.dumps(entry.to_json(), ensure_ascii=False))
            return EXIT_OK
        print(f"{'seq':>6}  {'time (UTC)':<19}  {'type':<22}  {'env':<6}  {'actor':<26}  subject")
        for entry in found:
            print(f"{entry.seq:>6}  {entry.time:%Y-%m-%d %H:%M:%S}  {entry.type:<22}  "
                  f"{entry.environment:<6}  {entry.actor:<26}  {entry.subject}")
    return EXIT_OK


def _settings(*, markdown: bool) -> int:
    if markdown:
        print(settings_markdown(), end="")
        return EXIT_OK
    current = load_settings()
    for f in dataclasses.fields(current):
        value = getattr(current, f.name)
        shown = "***" if f.metadata["secret"] and value else value
        choices = " | ".join(f.metadata["choices"])
        allowed = f" [{choices}]" if choices else ""
        print(f"{env_name(f.name)}={shown}{allowed}\n    {f.metadata['doc']} "
              f"(default: {f.default})")
    return EXIT_OK


def settings_markdown() -> str:
    """The settings reference, as committed in ``docs/settings.md``."""
    lines = [
        "# Settings",
        "",
        "Generated by `python -m governance settings --markdown`; a test keeps it current.",
        "Precedence: `GOV_*` environment variable, then `.streamlit/secrets.toml`",
        "`[governance]` (key = the name without `GOV_`, lower case), then the default.",
        "",
        "| variable | default | allowed | what it sets |",
        "|---|---|---|---|",
    ]
    for var, default, choices, doc in describe():
        allowed = choices.replace(" | ", ", ")
        lines.append(f"| `{var}` | `{default}` | {allowed} | {doc} |")
    return "\n".join(lines) + "\n"
