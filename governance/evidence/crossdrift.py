"""Cross-check ``drift.json`` against the pack's ``drift_detected`` entries.

The monitor writes a window's row and, when it drifted, its ledger entry in one unit of work, so
every drifted window the ledger records inside the incident's span must be in ``drift.json``
with the same verdict, score and features, and the incident row must say what its entries say.
Windows the ledger has no entry for (verdict ``ok``) and the per-feature results are covered by
the manifest only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from governance.evidence import layout
from governance.evidence.crossrefs import Ledger, Problems, records


def check_drift(doc: Any, ledger: Ledger, out: Problems) -> None:
    """Add to ``out`` every disagreement between ``drift.json`` (``doc``) and ``ledger``."""
    detected = ledger.of_type("drift_detected")
    if not detected or not isinstance(doc, dict):
        return
    incident = doc.get("incident")
    opened = next((e for e in detected if e["payload"].get("incident_action") == "opened"),
                  None)
    # The store keeps the newest window's score and features; re-checking an older window
    # never moves it back (queries/incidents/update_window.sql).
    newest = max(detected, key=lambda e: (str(_window(e)[1]), e["seq"]))
    if not isinstance(incident, dict):
        out.add(f"{layout.DRIFT}: has no incident row, but {Ledger.name(newest)} records "
                f"drift for {newest['payload'].get('incident_id')}")
        return
    model, _, version = newest["subject"].rpartition("/")
    cmp = out.against(layout.DRIFT, f"incident {incident.get('incident_id')}")
    cmp("incident_id", incident.get("incident_id"), newest, newest["payload"].get("incident_id"))
    cmp("model_name", incident.get("model_name"), newest, model)
    cmp("model_version", incident.get("model_version"), newest, version)
    if opened is not None:
        cmp("first_window", incident.get("first_window"), opened, _window(opened)[0])
    cmp("last_window", incident.get("last_window"), newest, _window(newest)[1])
    cmp("score", _score(incident.get("score")), newest, newest["payload"].get("score"))
    cmp("drifted_features", _sorted(incident.get("drifted_features")), newest,
        _sorted(newest["payload"].get("drifted_features")))
    windows = records(doc, "windows")
    span = (str(incident.get("first_window")), str(incident.get("last_window")))
    for entry in detected:
        start, end = _window(entry)
        if not (span[0] <= start and end <= span[1]):
            continue  # a backfilled window before the incident's span is not in drift.json
        same = [w for w in windows if (w.get("window_start"), w.get("window_end")) == (start, end)]
        label = f"window {start}–{end}"
        if not same:
            out.add(f"{layout.DRIFT}: has no {label}, which {Ledger.name(entry)} records")
            continue
        attempts = [_window_diffs(w, entry, label) for w in same]
        if all(attempts):  # a re-checked window has several rows: one must be this entry's
            for problem in attempts[0]:
                out.add(problem)


def _window_diffs(row: Mapping[str, Any], entry: Mapping[str, Any], label: str) -> list[str]:
    p, found = entry["payload"], Problems()
    cmp = found.against(layout.DRIFT, label)
    cmp("model_version", row.get("model_version"), entry, entry["subject"].rpartition("/")[2])
    cmp("verdict", row.get("verdict"), entry, p.get("verdict"))
    cmp("score", _score(row.get("score")), entry, p.get("score"))
    cmp("drifted_features", _sorted(row.get("drifted_features")), entry,
        _sorted(p.get("drifted_features")))
    return found.found


def _window(entry: Mapping[str, Any]) -> tuple[str, str]:
    window = entry["payload"].get("window")
    if isinstance(window, list) and len(window) == 2:
        return str(window[0]), str(window[1])
    return "", ""


def _score(value: Any) -> Any:
    # The monitor records round(score, 6) in the entry and the full float in the store.
    return round(value, 6) if isinstance(value, float) else value


def _sorted(value: Any) -> Any:
    return sorted(map(str, value)) if isinstance(value, list) else value
