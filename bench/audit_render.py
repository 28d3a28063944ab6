"""Audit page benchmark: render time on the small demo vs the large workspace.

    .venv/bin/python bench/audit_render.py --small HOME --large HOME [--repeat 5]

Each workspace is measured in a fresh process: the first render of ``pages/audit.py`` under
Streamlit's AppTest (cold: empty caches, the ledger not yet verified in this process; on a big
ledger the page starts the chain walk in a background thread and shows its progress), then,
once that walk has finished, ``--repeat`` re-renders (warm: what an auditor paging and filtering
sees: reads are reused while the ledger is unchanged), and renders of views not seen before
(new view: another sort key or direction each time, so every query runs).
The full walk is timed on its own. Also
timed: the audit queries the page runs (a page of the dashboard query, events, counts, facets,
as-of, fingerprint).

Prints a table and the ratio the audit issue targets (large render within 2x of small).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = str(ROOT / "pages" / "audit.py")


def measure(home: str, repeat: int) -> dict[str, object]:
    """Run inside the child process: every number for one workspace."""
    os.environ["GOV_HOME"] = home
    sys.path.insert(0, str(ROOT))
    from streamlit.testing.v1 import AppTest

    from governance.audit import integrity, view
    from governance.audit.view import AuditFilter
    from governance.settings import load_settings
    from governance.warehouse import open_warehouse

    warehouse = open_warehouse(load_settings())
    queries: dict[str, float] = {}
    with warehouse.session() as s:
        entries = int(s.fetch_scalar("ledger/count"))
        for name, call in {
            "dashboard page": lambda: view.model_versions(s, AuditFilter(), limit=50),
            "dashboard filtered": lambda: view.model_versions(
                s, AuditFilter(search="inc2026"), limit=50),
            "events page": lambda: view.events(s, AuditFilter(), limit=50),
            "events search": lambda: view.events(s, AuditFilter(search="rollback"), limit=50),
            "event counts": lambda: view.event_counts(s, AuditFilter()),
            "facets": lambda: view.facets(s),
            "as-of": lambda: view.as_of(s, datetime(2100, 1, 1)),
            "fingerprint": lambda: integrity.fingerprint(s),
        }.items():
            started = time.perf_counter()
            result = call()
            queries[name] = time.perf_counter() - started
            if name == "dashboard page":
                versions = result.total  # type: ignore[attr-defined]

    at = AppTest.from_file(PAGE, default_timeout=600)
    started = time.perf_counter()
    at.run()
    cold = time.perf_counter() - started
    if at.exception:
        raise SystemExit(f"the page raised: {at.exception[0].message}")
    started = time.perf_counter()
    while not isinstance(integrity.check(warehouse), integrity.LedgerStatus):
        time.sleep(0.1)
    walk = time.perf_counter() - started
    renders = []
    for _ in range(repeat):
        started = time.perf_counter()
        at.run()
        renders.append(time.perf_counter() - started)
    # Each render a view not seen before (another sort key or direction, so another first
    # row and its timeline): the queries run, nothing is reused. Same interaction on both.
    paging = []
    combos = [(k, o) for o in ("ascending", "descending")
              for k in ("model", "approver", "incident", "live_from")]
    for n in range(repeat):
        key, order = combos[n % len(combos)]
        at.selectbox(key="audit_sort").set_value(key)
        at.radio(key="audit_order").set_value(order)
        started = time.perf_counter()
        at.run()
        paging.append(time.perf_counter() - started)
        if at.exception:
            raise SystemExit(f"the page raised: {at.exception[0].message}")
    integrity.forget()
    with warehouse.session() as s:
        started = time.perf_counter()
        full = integrity.status(s, warehouse.describe())
        full_walk = time.perf_counter() - started
    return {"entries": entries, "versions": versions, "cold": cold,
            "warm": statistics.median(renders), "paging": statistics.median(paging),
            "walk_after_render": walk,
            "full_walk": full_walk, "intact": full.intact, "queries": queries}


def child(home: str, repeat: int) -> dict[str, object]:
    out = subprocess.run([sys.executable, __file__, "--child", home, "--repeat", str(repeat)],
                         check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", help="GOV_HOME of the small demo")
    parser.add_argument("--large", help="GOV_HOME of `demo --scale large`")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(measure(args.child, args.repeat)))
        return
    results = {label: child(home, args.repeat)
               for label, home in (("small", args.small), ("large", args.large)) if home}
    print(f"{'workspace':<10}{'ledger':>10}{'versions':>10}{'cold render':>13}"
          f"{'warm render':>13}{'new view':>10}{'ledger walk':>13}")
    for label, r in results.items():
        print(f"{label:<10}{r['entries']:>10,}{r['versions']:>10,}{r['cold']:>12.2f}s"
              f"{r['warm']:>12.2f}s{r['paging']:>9.2f}s{r['full_walk']:>12.2f}s")
    names = list(next(iter(results.values()))["queries"])  # type: ignore[call-overload]
    print(f"\n{'query (seconds)':<22}" + "".join(f"{k:>10}" for k in results))
    for name in names:
        print(f"{name:<22}" + "".join(f"{r['queries'][name]:>10.3f}"  # type: ignore[index]
                                      for r in results.values()))
    if {"small", "large"} <= set(results):
        small, large = results["small"], results["large"]
        for kind in ("cold", "warm", "paging"):
            ratio = float(large[kind]) / float(small[kind])  # type: ignore[arg-type]
            verdict = "met" if ratio <= 2 else "NOT met"
            print(f"\n{kind} render large/small: {ratio:.2f}x (target <= 2x: {verdict})")


if __name__ == "__main__":
    main()
