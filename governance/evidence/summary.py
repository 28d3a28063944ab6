"""``summary.html``: the pack in words for a person, one self-contained page.

Everything shown comes from the pack's own JSON files and is HTML-escaped (actor names,
comments and claims are user input). No script, no external style or font, so the page opens
the same offline, from a mail attachment or an archive, years later.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from governance.evidence import layout

_STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;
max-width:70rem;color:#1d2430;line-height:1.4;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d0d7de}
table{border-collapse:collapse;width:100%;font-size:.9rem}
th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f3f5f8}code,.hash{font-family:ui-monospace,Menlo,Consolas,monospace;
font-size:.85rem;word-break:break-all}.bad{color:#b42318;font-weight:600}.muted{color:#59636e}
"""


def _cell(value: Any) -> str:
    if value is None or value == "":
        return '<span class="muted">—</span>'
    if isinstance(value, float):
        return escape(f"{value:.6g}")
    if isinstance(value, list | tuple):
        return escape(", ".join(str(v) for v in value))
    if isinstance(value, Mapping):
        return escape(layout.dumps(value).decode("utf-8"))
    return escape(str(value))


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in rows)
    if not body:
        return '<p class="muted">None recorded.</p>'
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facts(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{_cell(v)}</td></tr>" for k, v in pairs)
    return f"<table>{rows}</table>"


def _why(docs: Mapping[str, Any]) -> str:
    incident = docs[layout.DRIFT].get("incident")
    if not incident:
        return "bootstrap promotion: no drift incident; the first version of the model"
    features = ", ".join(incident.get("drifted_features") or []) or "none"
    return (f"drift incident {incident.get('incident_id')} on v{incident.get('model_version')}: "
            f"windows {incident.get('first_window')} to {incident.get('last_window')}, "
            f"score {incident.get('score')}, drifted features: {features}")


def _signers(docs: Mapping[str, Any]) -> list[list[Any]]:
    rows = []
    for approval in docs[layout.APPROVALS].get("approvals", []):
        for s in approval.get("signatures", []):
            claims = s.get("claims") if isinstance(s.get("claims"), Mapping) else {}
            rows.append([approval.get("approval_id"), s.get("decision"), claims.get("name"),
                         claims.get("email") or s.get("signer"), claims.get("iss"),
                         claims.get("sub"), claims.get("groups"), s.get("signed_at"),
                         s.get("ledger_seq"), s.get("comment")])
    return rows


def _metrics(docs: Mapping[str, Any]) -> str:
    rows = docs[layout.EVALUATIONS].get("evaluations", [])
    if not rows:
        return '<p class="muted">No evaluation (no incident, or none recorded).</p>'
    roles = [f"{r.get('role')} ({r.get('environment')} v{r.get('model_version')})" for r in rows]
    names = sorted({k for r in rows if isinstance(r.get("metrics"), Mapping)
                    for k in r["metrics"]})
    table = _table(["metric", *roles],
                   ([m, *((r.get("metrics") or {}).get(m) for r in rows)] for m in names))
    first = rows[0]
    return table + _facts([("harness", f"{first.get('harness')} v{first.get('harness_version')}"),
                           ("holdout", first.get("holdout_table")),
                           ("holdout digest", first.get("holdout_digest")),
                           ("rows", first.get("n_rows"))])


def _lineage(docs: Mapping[str, Any]) -> str:
    walk = docs[layout.LINEAGE]
    edges = "".join(f"<li><code>{escape(str(e.get('source')))}</code> → "
                    f"<code>{escape(str(e.get('target')))}</code> "
                    f"<span class=\"muted\">by {escape(str(e.get('entity_id')))} "
                    f"run {escape(str(e.get('entity_run_id')))}</span></li>"
                    for e in walk.get("tables", []))
    parts = [f"<ul>{edges}</ul>" if edges else '<p class="bad">No upstream lineage recorded.</p>',
             _facts([("raw tables", walk.get("raw_tables")),
                     ("column edges", len(walk.get("columns", [])))])]
    for cycle in walk.get("cycles", []):
        parts.append(f'<p class="bad">Lineage cycle: {escape(" ← ".join(cycle))}</p>')
    for root in walk.get("no_lineage", []):
        parts.append(f'<p class="bad">{escape(root)} has no upstream lineage.</p>')
    return "".join(parts)


def render(manifest: Mapping[str, Any], docs: Mapping[str, Any], filename: str) -> bytes:
    """The summary page of pack ``filename``, from its manifest fields and JSON documents."""
    proof, sets, runs = docs[layout.PROOF], docs[layout.DATASETS], docs[layout.MLFLOW]
    promoted = [t for t in docs[layout.TIMELINE] if t["type"] == "model_promoted"]
    data_rows = [[role, (sets.get(role) or {}).get("table"), (sets.get(role) or {}).get("digest"),
                  (sets.get(role) or {}).get("recorded_by")] for role in ("training", "holdout")]
    sections = [
        f"<h1>Evidence pack: {escape(str(manifest['subject']))}</h1>",
        _facts([("model", manifest["model"]), ("production version", manifest["version"]),
                ("incident", manifest["incident_id"]), ("approval", manifest["approval_id"]),
                ("why", _why(docs)),
                ("live in prod since", promoted[-1]["time"] if promoted else None),
                ("exported at (UTC)", manifest["exported_at"]),
                ("exported by", manifest["exported_by"]), ("workspace", manifest["workspace"])]),
        "<h2>Timeline</h2>",
        _table(["seq", "time (UTC)", "step", "actor", "env", "summary"],
               ([t["seq"], t["time"], t["step"] + (" (failed)" if t["failed"] else ""),
                 t["actor"], t["environment"], t["summary"]] for t in docs[layout.TIMELINE])),
        "<h2>Evaluation: champion vs candidate</h2>", _metrics(docs),
        "<h2>Approvals and signers</h2>",
        _table(["approval", "state", "requested by", "decided by", "decided at", "comment"],
               ([a.get("approval_id"), a.get("state"), a.get("requested_by"),
                 a.get("decided_by"), a.get("decided_at"), a.get("comment")]
                for a in docs[layout.APPROVALS].get("approvals", []))),
        _table(["approval", "decision", "name", "email", "issuer", "subject", "groups",
                "signed at", "ledger seq", "comment"], _signers(docs)),
        "<h2>Datasets</h2>", _table(["role", "table", "digest (sha256)", "recorded by"],
                                    data_rows),
        *(f'<p class="bad">{escape(d)}</p>' for d in sets.get("disagreements", [])),
        "<h2>Lineage</h2>", _lineage(docs),
        "<h2>MLflow runs</h2>",
        _table(["env", "run", "name", "status", "created by"],
               ([r.get("workspace_id"), r.get("run_id"), r.get("run_name"), r.get("status"),
                 r.get("created_by")] for r in runs.get("runs", []))),
        *(f'<p class="bad">Run {escape(m["run_id"])} is referenced '
          f'({escape("; ".join(m["referenced_by"]))}) but missing from MLflow.</p>'
          for m in runs.get("missing_runs", [])),
        "<h2>Chain proof</h2>",
        _facts([("ledger entries in this story", proof["count"]),
                ("their sequence numbers", proof["involved_seqs"]),
                ("anchor (entry before the first)", f"{proof['anchor_seq']}: "
                 f"{proof['anchor_hash']}"),
                ("head", f"{proof['head_seq']}: {proof['head_hash']}"),
                ("chain segment", f"{proof['chain_entries']} entries in {layout.CHAIN}")]),
        "<h2>How to verify</h2>",
        "<p>Run <code>python -m governance evidence verify "
        f"{escape(filename)} --head {escape(proof['head_hash'])}</code>. It checks "
        "the sha256 of every file against <code>manifest.json</code>, recomputes every hash of "
        "the chain segment from the anchor, and checks that the story's entries are the same "
        "bytes as in the chain and that the chain ends at the head, and that every fact the "
        "context files share with those entries (approvals and signatures, metrics, dataset "
        "digests, drift verdicts, run ids, timeline steps) equals the entry; the rest is "
        "covered by the manifest only (see docs/evidence.md). The pack proves integrity "
        "relative to the head hash only: compare the head with one published elsewhere (a "
        "ticket, a signed e-mail, a later pack) to pin it.</p>",
    ]
    page = ("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Evidence: {escape(str(manifest['subject']))}</title>"
            f"<style>{_STYLE}</style></head><body>{''.join(sections)}</body></html>\n")
    return page.encode("utf-8")

