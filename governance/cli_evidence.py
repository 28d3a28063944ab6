"""``python -m governance evidence export|verify``: evidence packs on the command line.

``verify`` needs no workspace at all: it is what an auditor runs on a pack received by mail,
so it reads only the file (exit 0 verified, 1 failed with every problem listed, 2 unreadable).
"""

from __future__ import annotations

import argparse
import getpass
import os
import tempfile
from pathlib import Path
from typing import Any

from governance.errors import DataError

EXIT_OK, EXIT_FAILED = 0, 1


def add_parsers(sub: Any) -> None:
    """Add ``evidence`` with its ``export`` and ``verify`` commands to the top-level parser."""
    ev = sub.add_parser("evidence", help="export or verify evidence packs (ZIP)")
    ev_sub = ev.add_subparsers(dest="evidence_command", required=True)
    exp = ev_sub.add_parser(
        "export", help="write the evidence pack of a production version or an incident",
        description="Write the evidence pack of a production model version (--model and "
        "--version) or of a drift incident (--incident). The manifest records the exporter as "
        "`system:cli (<OS user>)`: the command line has no signed-in identity.")
    what = exp.add_mutually_exclusive_group(required=True)
    what.add_argument("--model", help="model name (with --version)")
    what.add_argument("--incident", help="incident id, e.g. INC-demand_forecast-20261005")
    exp.add_argument("--version", help="production version of --model, e.g. 2")
    exp.add_argument("--out", type=Path,
                     help="ZIP file to write (default: the pack's name in this folder)")
    ver = ev_sub.add_parser(
        "verify", help="check a pack offline; exit 1 naming each problem",
        description="Check every file hash, recompute the ledger chain from the pack's anchor "
        "to its head, and check the story's entries are the chain's. Exit 0 verified, 1 "
        "failed, 2 unreadable. Integrity is relative to the head hash: pass --head with a "
        "head hash published elsewhere to pin it.")
    ver.add_argument("pack", type=Path, help="the evidence pack (.zip)")
    ver.add_argument("--head", help="require this head hash (published elsewhere)")


def exporter() -> str:
    """``system:cli (<OS user>)``: who exported a pack from the command line."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        user = "unknown user"
    return f"system:cli ({user})"


def run(args: argparse.Namespace) -> int:
    """Run ``evidence export`` or ``evidence verify``; returns the exit code."""
    if args.evidence_command == "verify":
        return _verify(args.pack, args.head)
    return _export(args)


def _verify(path: Path, head: str | None) -> int:
    from governance.evidence.verify import require_head, verify_pack

    result = verify_pack(path)
    if head:
        result = require_head(result, head)
    print(f"{path}: {result.summary()}")
    for problem in result.problems:
        print(f"  - {problem}")
    return EXIT_OK if result.ok else EXIT_FAILED


def _export(args: argparse.Namespace) -> int:
    from governance.evidence.pack import export_incident, export_version
    from governance.settings import load_settings
    from governance.warehouse import open_warehouse

    if args.model and not args.version:
        raise DataError("--model needs --version", hint="e.g. --model basket_propensity "
                        "--version 2, or --incident INC-... for an incident")
    if args.incident and args.version:
        raise DataError("--version goes with --model, not --incident",
                        hint="drop --version: an incident's pack covers its whole story")
    warehouse = open_warehouse(load_settings())
    if args.incident:
        pack = export_incident(warehouse, args.incident, exported_by=exporter())
    else:
        pack = export_version(warehouse, args.model, args.version, exported_by=exporter())
    out = args.out or Path(pack.filename)
    _write(out, pack.data)
    print(f"wrote {out}: {pack.entries} ledger entries, {len(pack.data):,} bytes")
    print(f"head: entry {pack.head_seq} {pack.head_hash}")
    print("publish the head hash elsewhere (a ticket, a signed e-mail) to pin this pack; "
          f"check it with `python -m governance evidence verify {out} --head {pack.head_hash}`")
    return EXIT_OK


def _write(out: Path, data: bytes) -> None:
    """Write ``data`` to ``out`` whole or not at all (a half-written pack never verifies)."""
    folder = out.resolve().parent
    if not folder.is_dir():
        raise DataError(f"cannot write {out}: folder {folder} does not exist",
                        hint="create the folder or pass another --out")
    temp = ""
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=f".{out.name}.", suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temp, out)
    except OSError as exc:
        if temp:
            Path(temp).unlink(missing_ok=True)
        raise DataError(f"cannot write {out}: {exc.strerror or exc}",
                        hint="pass an --out path you can write to") from exc
