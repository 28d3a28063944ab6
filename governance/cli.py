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
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from governance import cli_approvals, cli_evidence, cli_response, ledger
from governance.errors import GovernanceError
from governance.settings import describe, env_name, load_settings
from governance.warehouse import open_warehouse

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_DRIFT = 0, 1, 2, 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m governance",
                                     description="Driftgate governance commands.")
    sub = parser.add_subparsers(dest="command", required=True)

    demo = sub.add_parser("demo", help="build the seeded retail demo workspace under GOV_HOME")
    demo.add_argument("--reset", action="store_true", help="throw away the existing workspace")
    demo.add_argument("--seed", type=int, help="override GOV_DEMO_SEED")
    demo.add_argument("--scale", choices=("small", "default", "large"),
                      help="override GOV_DEMO_SCALE")

    led = sub.add_parser("ledger", help="verify or list the audit ledger")
    led_sub = led.add_subparsers(dest="ledger_command", required=True)
    led_sub.add_parser("verify", help="walk the hash chain; exit 1 if it is broken")
    show = led_sub.add_parser("show", help="list entries, oldest first")
    show.add_argument("--type", dest="event_type", help="only entries of this type")
    show.add_argument("--since", type=_date, help="only entries at or after this date (UTC)")
    show.add_argument("--format", choices=("table", "json"), default="table")
    show.add_argument("--limit", type=int, default=100_000, help="at most this many entries")

    drift = sub.add_parser("drift", help="compare two datasets for drift")
    drift_sub = drift.add_subparsers(dest="drift_command", required=True)
    cmp_ = drift_sub.add_parser("compare", help="BASELINE vs CURRENT (Parquet or CSV, globs ok)")
    cmp_.add_argument("baseline")
    cmp_.add_argument("current")
    cmp_.add_argument("--categorical", default="",
                      help="comma-separated columns to treat as categorical")
    cmp_.add_argument("--policy", type=Path, help="TOML thresholds (see docs/drift.md)")
    cmp_.add_argument("--format", choices=("table", "json"), default="table")
    cmp_.add_argument("--fail-on-drift", action="store_true",
                      help=f"exit {EXIT_DRIFT} when the dataset verdict is drift")

    mon = sub.add_parser("monitor", help="check production models' inference windows for drift")
    mon_sub = mon.add_subparsers(dest="monitor_command", required=True)
    mrun = mon_sub.add_parser("run", help="check the latest complete window (or --window)")
    mrun.add_argument("--model", help="only this model")
    mrun.add_argument("--window", type=_day, help="a day inside the window to check")
    mrun.add_argument("--policy", type=Path, help="TOML thresholds")
    mrun.add_argument("--no-response", action="store_true",
                      help="do not start (or retry) drift responses after this run")
    mfill = mon_sub.add_parser("backfill", help="check every complete window since a date")
    mfill.add_argument("--since", type=_day, required=True)
    mfill.add_argument("--model", help="only this model")
    mfill.add_argument("--policy", type=Path, help="TOML thresholds")
    mwatch = mon_sub.add_parser("watch", help="run the monitor on a schedule")
    mwatch.add_argument("--every", type=_every, default="15m", help="e.g. 30s, 15m, 1h, 1d")
    mwatch.add_argument("--max-runs", type=int, help="stop after this many runs")
    mwatch.add_argument("--policy", type=Path, help="TOML thresholds")
    mwatch.add_argument("--no-response", action="store_true",
                        help="do not start (or retry) drift responses after each run")
    cli_response.add_parser(sub)
    cli_approvals.add_parsers(sub)
    cli_evidence.add_parsers(sub)

    conf = sub.add_parser("settings", help="print every setting with its value and doc")
    conf.add_argument("--markdown", action="store_true",
                      help="print the settings reference (docs/settings.md) instead")
    return parser


def _date(raw: str) -> datetime:
    try:
        return datetime.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {raw!r} (e.g. 2026-11-01)") from None


def _day(raw: str) -> date:
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO date: {raw!r} (e.g. 2026-10-05)") from None


def _every(raw: str) -> timedelta:
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400}
    try:
        value, unit = float(raw[:-1]), units[raw[-1]]
    except (ValueError, KeyError, IndexError):
        raise argparse.ArgumentTypeError(f"not a period: {raw!r} (e.g. 30s, 15m, 1h)") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"period must be positive: {raw!r}")
    return timedelta(seconds=value * unit)


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
        if args.command == "drift":
            return _drift_compare(args)
        if args.command == "monitor":
            return _monitor(args)
        if args.command == "response":
            return cli_response.main(args)
        if args.command in ("approvals", "promote"):
            return cli_approvals.main(args)
        if args.command == "evidence":
            return cli_evidence.run(args)
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


def _monitor(args: argparse.Namespace) -> int:
    from governance.drift import monitor
    from governance.drift.policy import configured_policy

    settings = load_settings()
    warehouse = open_warehouse(settings)
    policy = configured_policy(settings.policy_file, args.policy)

    def show(o: monitor.WindowOutcome) -> None:
        span = f"{o.window[0]}..{o.window[1]}"
        if o.skipped:
            print(f"{o.model:<20} {o.window[0]}  skipped: {o.skipped}")
            return
        if not o.checked:
            print(f"{o.model:<20} {span}  already checked (nothing stored)")
            return
        extra = f"  drifted: {', '.join(o.drifted)}" if o.drifted else ""
        incident = ""
        if o.incident_id:
            incident = f"  incident {o.incident_id} {o.incident_action}"
        elif o.incident_action:
            incident = f"  no new incident ({o.incident_action})"
        print(f"{o.model:<20} {span}  {o.verdict}{extra}{incident}")

    def checked(outcomes: list[monitor.WindowOutcome]) -> bool:
        return any(o.checked for o in outcomes)

    if args.monitor_command == "watch":
        code = EXIT_OK
        for outcomes in monitor.watch(warehouse, policy, args.every, max_runs=args.max_runs):
            for outcome in outcomes:
                show(outcome)
            sys.stdout.flush()
            code = max(code, cli_response.after_monitor(
                warehouse, checked(outcomes), policy, enabled=not args.no_response))
        return code
    if args.monitor_command == "run":
        outcomes = monitor.run(warehouse, policy, model=args.model, window=args.window,
                               progress=show)
        return cli_response.after_monitor(warehouse, checked(outcomes), policy,
                                          enabled=not args.no_response)
    # A backfill replays history: its incidents are answered by `response run` on purpose.
    monitor.run(warehouse, policy, model=args.model, since=args.since, progress=show)
    return EXIT_OK


def _drift_compare(args: argparse.Namespace) -> int:
    from governance.drift.special import preload

    preload()  # scipy.special loads while DuckDB opens and reads (drift/special.py)
    from governance.drift import engine, files
    from governance.drift.memory import keep_freed_memory
    from governance.drift.policy import load_policy

    keep_freed_memory()  # a one-shot process: reuse freed column buffers (drift/memory.py)

    policy = load_policy(args.policy)
    categorical = [c for c in (x.strip() for x in args.categorical.split(",")) if c]
    with files.open_files(args.baseline, args.current) as (session, con):
        plan = files.plan(con, categorical)
        result = engine.compare(
            session, engine.Source(files.BASELINE), engine.Source(files.CURRENT), plan.specs,
            policy, schema_issues=plan.schema_issues,
        )
    doc = result.to_json()
    doc["dataset"]["skipped_columns"] = plan.skipped
    doc["dataset"]["extra_columns"] = list(plan.extra)
    if args.format == "json":
        print(json.dumps(doc, ensure_ascii=False, allow_nan=False))
    else:
        _print_drift_table(result, plan.skipped, plan.extra)
    return EXIT_DRIFT if args.fail_on_drift and result.verdict == "drift" else EXIT_OK


def _print_drift_table(result: Any, skipped: dict[str, str], extra: Sequence[str]) -> None:
    print(f"{'feature':<28} {'type':<11} {'status':<20} {'score':>6}  {'psi':>7} "
          f"{'w/std':>7} {'js':>6} {'ks p':>9}  {'null b→c':<13} reason")
    ranked = sorted(result.features, key=lambda f: -(f.score or 0.0))
    for f in ranked:
        t = f.tests

        def num(v: Any, fmt: str) -> str:
            width = int(fmt.split(".")[0]) if fmt[0].isdigit() else 0
            return format(v, fmt) if isinstance(v, int | float) else "—".rjust(width)

        nulls = "—" if f.null_rate_baseline is None or f.null_rate_current is None else \
            f"{f.null_rate_baseline:.1%}→{f.null_rate_current:.1%}"
        print(f"{f.feature[:28]:<28} {f.type:<11} {f.status:<20} {num(f.score, '6.2f')}  "
              f"{num(t.get('psi'), '7.3f')} {num(t.get('wasserstein_norm'), '7.3f')} "
              f"{num(t.get('js'), '6.3f')} {num(t.get('ks', {}).get('p_value'), '9.2g')}  "
              f"{nulls:<13} {f.reason}")
    print(f"\ndataset: {result.verdict} — {len(result.drifted_features)} of "
          f"{sum(f.status in ('drift', 'warn', 'ok', 'constant') for f in result.features)} "
          f"tested features drifted ({result.share:.0%})"
          + (f"; schema problems: {', '.join(result.schema_problems)}"
             if result.schema_problems else ""))
    for name, why in skipped.items():
        print(f"skipped {name}: {why}")
    if extra:
        print(f"ignored columns only in current: {', '.join(extra)}")


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
