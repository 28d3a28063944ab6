"""One synthetic model's life, week by week: windows, incidents, responses, sign-offs.

Each step writes what the real code path writes (same ledger event types, actors,
environments, subjects and payload keys; the same table rows), in the order the real code
would: the monitor opens an incident, the drift response stages data, trains, evaluates and
requests approval, an approver signs (or two, for four-eyes models), the promotion job promotes.
"""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from governance.demo import large_rows as rows
from governance.demo.large_catalog import APPROVERS, SCIENTISTS, Person, SyntheticModel
from governance.demo.large_write import Events, Ref, micros
from governance.ledger import canonical_json

MONITOR, RESPONSE, PROMOTER = "system:drift-monitor", "system:drift-response", \
    "system:promotion-job"
POLICY = "built-in defaults"
COOLDOWN = timedelta(days=7)
_APPROVE = ("Beats the champion on the drifted holdout; approved.",
            "Metrics hold on the recent weeks and lineage is complete. Approved.",
            "Reviewed the evaluation and the refreshed dataset; fine to promote.")
_REJECT = ("Candidate regresses on the online segment; retrain with the promo calendar fixed.",
           "Training window includes the stock-count outage; please exclude it and retry.",
           "Improvement is within noise and the feature pipeline changed; not promoting.",
           "Holdout too small after the label delay; wait two more weeks.")


def _h(hours: float) -> timedelta:
    return timedelta(hours=hours)


class Simulation:
    """Accumulates the ledger entries and table rows of every model's history."""

    def __init__(self, rng: np.random.Generator, end: datetime) -> None:
        self.rng, self.end = rng, end
        self.events = Events()
        self.tables: dict[str, list[dict[str, Any]]] = {
            name: [] for name in (
                "governance.models", "governance.model_baselines", "governance.drift_windows",
                "governance.drift_results", "governance.drift_incidents",
                "governance.responses", "governance.evaluations", "governance.approvals",
                "governance.approval_signatures", "lineage.table_lineage",
                "lineage.column_lineage", "mlflow.runs_latest")}
        #: (time in µs, subject, payload text) of every drift_detected entry, for re-checks.
        self.drift_checks: list[tuple[int, str, str]] = []
        self.champion_table: dict[str, str] = {}

    # -- one model -------------------------------------------------------------------------
    def run_model(self, m: SyntheticModel, registered: datetime, first_monday: date) -> None:
        """Register, train and bootstrap-promote ``m``, then monitor it weekly to the end."""
        rng, t = self.rng, registered
        self.m, self.uat, self.prod = m, 1, 0
        self.quality = float(rng.uniform(0.4, 0.8))
        feature_table = f"prod.features.{m.name}_features"
        table = f"uat.training.{m.name}_v1"
        self.tables["governance.models"].append({
            "model_name": m.name, "task": m.task, "algorithm": m.algorithm,
            "description": f"{m.family.title()} model {m.name.replace('_', ' ')}.",
            "owner": m.owner, "features": canonical_json(list(m.features)),
            "categorical": canonical_json([*m.categorical, *m.booleans]), "target": m.target,
            "primary_metric": m.primary_metric, "training_table": table,
            "inference_table": f"prod.inference.{m.name}", "registered_at": t})
        if m.has_lineage:
            pipeline = f"{m.name}-features-1"
            for source in m.sources:
                self._lineage(f"prod.retail.{source}", feature_table,
                              f"{m.name}_feature_pipeline", pipeline,
                              "system:feature-pipeline", t - _h(24))
            self._lineage(f"prod.retail.{m.sources[0]}", feature_table,
                          f"{m.name}_feature_pipeline", pipeline, "system:feature-pipeline",
                          t - _h(24), m.features)
        scores = rows.metrics(rng, m, self.quality)
        run_id, digest = rows.hex_id(rng), rows.hex_id(rng, 32)
        self._run("uat", "1", run_id, f"{m.name}-v1", m.author.actor, t - _h(0.5),
                  {"algorithm": m.algorithm, "features": ",".join(m.features),
                   **rows.hyperparams(m), "seed": "42"},
                  {"driftgate.dataset_digest": digest, "driftgate.model": m.name,
                   "driftgate.training_table": table}, scores)
        if m.has_lineage:
            self._lineage(feature_table, table, "driftgate-training", run_id, m.author.actor,
                          t, (*m.features, m.target))
        self._baseline(1, run_id, t)
        self.events.add(t, m.author.actor, "uat", "model_trained", f"{m.name}/1", {
            "dataset_digest": digest, "metrics": scores, "run_id": run_id,
            "training_table": table})
        self.champion: dict[str, Any] = {"uat": "1", "run_id": run_id, "table": table}
        self._promote(t + _h(1), f"bootstrap-{m.name}-v1", "bootstrap", "1", run_id)
        self.incident: dict[str, Any] | None = None
        self._incidents: list[dict[str, Any]] = []
        self.closed_at: datetime | None = None
        offset = timedelta(hours=2, minutes=int(rng.integers(0, 240)))
        week = first_monday
        while (check := datetime.combine(week + timedelta(days=7), datetime.min.time())
               + offset) < self.end:
            self._window(week, check)
            week += timedelta(days=7)
        self.champion_table[m.name] = str(self.champion["table"])
        self.tables["governance.drift_incidents"].extend(map(self._incident_row,
                                                             self._incidents))

    # -- the monitor -----------------------------------------------------------------------
    def _window(self, start: date, at: datetime) -> None:
        m, rng = self.m, self.rng
        end = start + timedelta(days=6)
        open_ = self.incident is not None and self.incident["closes"] > at
        if self.incident is not None and not open_:
            self.closed_at, self.incident = self.incident["closes"], None
        draw = rng.random()
        verdict = ("drift" if draw < (0.5 if open_ else 0.09) else
                   "warn" if draw < (0.57 if open_ else 0.16) else
                   "insufficient_data" if draw > 0.985 else "ok")
        statuses = dict.fromkeys(m.features, "ok")
        if verdict == "insufficient_data":
            statuses = dict.fromkeys(m.features, "insufficient_data")
        elif verdict == "warn":
            statuses[m.features[int(rng.integers(len(m.features)))]] = "warn"
        elif verdict == "drift":
            k = max(1, math.ceil(0.35 * len(m.features)))
            for i in rng.choice(len(m.features), size=k, replace=False):
                statuses[m.features[int(i)]] = "drift"
        version, scores = str(self.prod), []
        for f, status in statuses.items():
            tests, score = rows.feature_tests(rng, m.kind(f), status,
                                              float(rng.uniform(0.3, 0.9)))
            if score is not None:
                scores.append(score)
            null_base = 0.0 if rng.random() < 0.7 else rows.rnd(rng.uniform(0, 0.02))
            self.tables["governance.drift_results"].append({
                "model_name": m.name, "model_version": version, "feature": f,
                "window_start": start, "window_end": end, "feature_type": m.kind(f),
                "status": status, "score": score, "n_baseline": 60_000,
                "n_current": 0 if status == "insufficient_data" else int(rng.integers(2_000,
                                                                                       15_000)),
                "null_rate_baseline": null_base, "null_rate_current": null_base,
                "tests": tests, "computed_at": at})
        drifted = [f for f, s in statuses.items() if s == "drift"]
        tested = [s for s in statuses.values() if s != "insufficient_data"]
        share = len(drifted) / len(tested) if tested else 0.0
        score = float(np.mean(scores)) if scores else 0.0
        self.tables["governance.drift_windows"].append({
            "model_name": m.name, "model_version": version, "window_start": start,
            "window_end": end, "verdict": verdict, "score": score, "share": share,
            "drifted_features": canonical_json(drifted), "schema_problems": "[]",
            "policy": POLICY, "computed_at": at})
        if verdict != "drift":
            return
        if open_:
            assert self.incident is not None
            incident_id, action = self.incident["id"], "updated"
            self.incident.update(last_window=end, score=score, drifted=drifted,
                                 updated=max(at, self.incident["updated"]))
        elif self.closed_at is not None and end < (quiet := self.closed_at.date() + COOLDOWN):
            incident_id, action = None, f"cool-down until {quiet.isoformat()}"
        else:
            incident_id, action = f"INC-{m.name}-{start:%Y%m%d}", "opened"
        payload = {"drifted_features": drifted, "incident_action": action,
                   "incident_id": incident_id, "policy": POLICY, "schema_problems": [],
                   "score": round(score, 6), "share": round(share, 6), "verdict": "drift",
                   "window": [start.isoformat(), end.isoformat()]}
        subject = f"{m.name}/{version}"
        self.events.add(at, MONITOR, "prod", "drift_detected", subject, payload)
        again = canonical_json({**payload, "incident_action": "updated"} if incident_id
                               else payload)
        self.drift_checks.append((micros(at), subject, again))
        if action == "opened":
            assert incident_id is not None
            self.incident = {"id": incident_id, "opened": at, "first_window": start,
                             "last_window": end, "score": score, "drifted": drifted,
                             "version": version, "updated": at}
            self._incidents.append(self.incident)
            self._respond(self.incident, at)

    # -- the drift response ---------------------------------------------------------------
    def _respond(self, inc: dict[str, Any], t0: datetime) -> None:
        m, rng = self.m, self.rng
        self.uat += 1
        version, tag = str(self.uat), inc["first_window"].strftime("%Y%m%d")
        requester: Person | None = None
        if rng.random() < 0.2:  # a data scientist pressed "Prepare candidate" first
            requester = SCIENTISTS[int(rng.integers(len(SCIENTISTS)))]
        requested_by = requester.actor if requester else RESPONSE
        dataset = f"uat.training.{m.name}_v{version}_inc{tag}"
        holdout = f"uat.evaluation.{m.name}_holdout_inc{tag}"
        cutoff = inc["last_window"]
        held = [cutoff + timedelta(days=1), cutoff + timedelta(days=7)]
        digest, hold_digest = rows.hex_id(rng, 32), rows.hex_id(rng, 32)
        pipeline = f"{m.name}-features-{1 + self.uat // 4}"
        n_rows, n_hold = int(rng.integers(40_000, 120_000)), int(rng.integers(5_000, 15_000))
        t1 = t0 + _h(rng.uniform(0.3, 1.5))
        sources = [f"prod.features.{m.name}_features", f"prod.inference.{m.name}"]
        staged = self.events.add(t1, RESPONSE, "uat", "refresh_staged", inc["id"], {
            "checks": {"feature_table_rows": n_rows - 21_000, "holdout_rows": n_hold,
                       "label_coverage": 1.0,
                       "null_rates": dict.fromkeys(sorted(m.features), 0.0),
                       "period": [inc["first_window"].isoformat(), cutoff.isoformat()],
                       "period_rows": 21_000, "recent_rows": 21_000, "rows": n_rows},
            "cutoff": cutoff.isoformat(), "dataset_digest": digest, "dataset_table": dataset,
            "feature_pipeline_version": pipeline, "holdout": [d.isoformat() for d in held],
            "holdout_digest": hold_digest, "holdout_table": holdout, "model": m.name,
            "sources": sources})
        if m.has_lineage:
            self._lineage(sources[0], dataset, "driftgate-drift-response", inc["id"], RESPONSE,
                          t1, ("row_id", *m.features, m.target))
            self._lineage(sources[1], dataset, "driftgate-drift-response", inc["id"], RESPONSE,
                          t1)
            self._lineage(sources[1], holdout, "driftgate-drift-response", inc["id"], RESPONSE,
                          t1)
        t2 = t1 + _h(rng.uniform(0.2, 1.0))
        run_id, code = rows.hex_id(rng), rows.hex_id(rng, 20)
        params = {**rows.hyperparams(m)}
        self.quality = float(np.clip(self.quality + rng.normal(0.01, 0.04), 0.2, 0.95))
        train_scores = rows.metrics(rng, m, self.quality)
        self.events.add(t2, RESPONSE, "uat", "candidate_trained", inc["id"], {
            "algorithm": m.algorithm, "code_version": code, "dataset_digest": digest,
            "feature_pipeline_version": pipeline, "metrics": train_scores, "model": m.name,
            "params": params, "requested_by": requested_by, "run_id": run_id, "seed": 42,
            "training_table": dataset, "uat_version": version})
        self._run("uat", "2", run_id, f"{m.name}-candidate-{inc['id']}", requested_by,
                  t2 - _h(0.2), {"algorithm": m.algorithm, "features": ",".join(m.features),
                                 **params, "seed": "42"},
                  {"driftgate.champion_version": str(self.prod), "driftgate.code_version": code,
                   "driftgate.dataset_digest": digest,
                   "driftgate.feature_pipeline_version": pipeline,
                   "driftgate.harness": f"{m.name}-harness", "driftgate.harness_version": "1",
                   "driftgate.incident_id": inc["id"], "driftgate.model": m.name,
                   "driftgate.role": "candidate", "driftgate.training_table": dataset},
                  train_scores)
        self._baseline(self.uat, run_id, t2)
        t3 = t2 + _h(rng.uniform(0.1, 0.3))
        primary = m.primary_metric
        champ = rows.metrics(rng, m, max(0.2, self.quality - rng.uniform(-0.03, 0.06)))
        cand = rows.metrics(rng, m, self.quality)
        verdict = rows.verdict(primary, champ[primary], cand[primary])
        model_digest = rows.hex_id(rng, 32)
        eval_run = rows.hex_id(rng)
        self._run("uat", "3", eval_run, f"{m.name}-champion-v{self.prod}-{inc['id']}",
                  RESPONSE, t3 - _h(0.05), {"holdout_digest": hold_digest,
                                            "holdout_table": holdout},
                  {"driftgate.harness": f"{m.name}-harness", "driftgate.harness_version": "1",
                   "driftgate.incident_id": inc["id"],
                   "driftgate.model_version": f"prod/{self.prod}",
                   "driftgate.role": "champion-evaluation"}, champ)
        for role, env, v, rid, sc in (("champion", "prod", str(self.prod), eval_run, champ),
                                      ("candidate", "uat", version, run_id, cand)):
            self.tables["governance.evaluations"].append({
                "incident_id": inc["id"], "model_name": m.name, "role": role,
                "environment": env, "model_version": v, "harness": f"{m.name}-harness",
                "harness_version": "1", "holdout_table": holdout, "holdout_digest": hold_digest,
                "n_rows": n_hold, "metrics": canonical_json(sc), "mlflow_run_id": rid,
                "evaluated_at": t3})
        evaluation = {
            "candidate": {"metrics": cand, "model_digest": model_digest, "uat_version": version},
            "champion": {"metrics": champ, "prod_version": str(self.prod)},
            "harness": f"{m.name}-harness", "harness_version": "1",
            "holdout_digest": hold_digest, "holdout_table": holdout, "model": m.name,
            "n_rows": n_hold, "primary_metric": primary, "rule": {"max_regression": 0.02},
            "verdict": verdict}
        evaluated = self.events.add(t3, RESPONSE, "uat", "candidate_evaluated", inc["id"],
                                    evaluation)
        response = {
            "incident_id": inc["id"], "model_name": m.name,
            "champion_version": str(self.prod), "failed_step": None,
            "requested_by": requested_by, "cutoff": cutoff, "dataset_table": dataset,
            "dataset_digest": digest, "dataset_rows": n_rows, "holdout_table": holdout,
            "holdout_digest": hold_digest, "candidate_version": version,
            "candidate_run_id": run_id, "lease_owner": None, "lease_until": None,
            "started_at": t0 + timedelta(minutes=2)}
        status, closes = "candidate_evaluated", t3
        if not verdict["qualifies"]:
            closes = t3 + _h(rng.uniform(20, 72))  # someone closes it after reading the report
            self.tables["governance.responses"].append({
                **response, "step": "not_qualified", "problems": canonical_json(
                    [verdict["reason"]]), "approval_id": None, "updated_at": t3})
            status = "closed"
        else:
            approval_id = f"APR-{inc['id'].removeprefix('INC-')}"
            t4 = t3 + timedelta(minutes=1)
            self.tables["governance.responses"].append({
                **response, "step": "approval_requested", "problems": "[]",
                "approval_id": approval_id, "updated_at": t4})
            self.events.add(t4, requested_by, "uat", "approval_requested", inc["id"], {
                "approval_id": approval_id, "candidate_run_id": run_id,
                "candidate_version": version, "champion_version": str(self.prod),
                "model": m.name, "requested_by": requested_by, "verdict": verdict})
            detail = {
                "candidate": {"model_digest": model_digest, "run_id": run_id,
                              "uat_version": version},
                "dataset": {"cutoff": cutoff.isoformat(), "dataset_digest": digest,
                            "dataset_table": dataset, "feature_pipeline_version": pipeline,
                            "holdout": [d.isoformat() for d in held],
                            "holdout_digest": hold_digest, "holdout_table": holdout,
                            "sources": sources},
                "evaluation": evaluation,
                "incident": {"drifted_features": inc["drifted"], "incident_id": inc["id"],
                             "score": inc["score"],
                             "windows": [inc["first_window"].isoformat(),
                                         cutoff.isoformat()]},
                "ledger": {"candidate_evaluated": Ref("seq", evaluated),
                           "refresh_staged": Ref("seq", staged)}}
            status, closes = self._sign_off(approval_id, requested_by, requester, version,
                                            run_id, model_digest, evaluated, detail, t4, inc)
        inc["closes"] = closes if status in ("promoted", "rejected", "closed") else self.end
        inc.update(status=status, updated=max(inc["updated"], min(closes, self.end)))

    def _incident_row(self, inc: dict[str, Any]) -> dict[str, Any]:
        return {
            "incident_id": inc["id"], "model_name": self.m.name,
            "model_version": inc["version"], "status": inc["status"],
            "opened_at": inc["opened"], "updated_at": inc["updated"],
            "first_window": inc["first_window"], "last_window": inc["last_window"],
            "score": inc["score"], "drifted_features": canonical_json(inc["drifted"]),
            "detail": canonical_json({"opened_by": MONITOR, "policy": POLICY})}

    # -- sign-off and promotion ------------------------------------------------------------
    def _sign_off(self, approval_id: str, requested_by: str, requester: Person | None,
                  version: str, run_id: str, model_digest: str, evaluated: int,
                  detail: dict[str, Any], requested: datetime, inc: dict[str, Any]
                  ) -> tuple[str, datetime]:
        m, rng = self.m, self.rng
        # Separation of duties: never the requester, never the candidate run's author.
        allowed = [p for p in APPROVERS if requester is None or p.email != requester.email]
        picks = rng.choice(len(allowed), size=2 if m.four_eyes else 1, replace=False)
        signers = [allowed[int(i)] for i in picks]
        reject = rng.random() < 0.16
        if self.end - requested < timedelta(days=10) and rng.random() < 0.7:
            signers = signers[:-1]  # still waiting for (the last) sign-off when the demo opens
        at, signed, state = requested, [], "pending"
        row = {"approval_id": approval_id, "model_name": m.name, "candidate_version": version,
               "champion_version": str(self.prod), "incident_id": inc["id"],
               "requested_by": requested_by, "requested_at": requested, "decided_by": None,
               "decided_at": None, "comment": None, "updated_at": requested}
        needed = 2 if m.four_eyes else 1
        for n, signer in enumerate(signers, 1):
            at = at + _h(rng.uniform(2, 60))
            if at >= self.end:
                break
            final = reject or n == needed
            decision = "reject" if reject else "approve"
            state = ("rejected" if reject else "approved") if final else "pending"
            comment = str(rng.choice(_REJECT if reject else _APPROVE))
            claims = {"email": signer.email, "exp": (at + _h(1)).isoformat(),
                      "groups": list(signer.groups), "iss": "https://sso.retail.example",
                      "name": signer.name, "source": "oidc", "sub": signer.short}
            signed.append(claims)
            entry = self.events.add(at, signer.actor, "prod",
                                    "approval_decided" if final else "approval_signed",
                                    approval_id, {
                "approval_id": approval_id, "candidate_model_digest": model_digest,
                "candidate_version": version, "champion_version": str(self.prod),
                "comment": comment, "decision": decision,
                "evaluation_entry_hash": Ref("hash", evaluated), "model": m.name,
                "required_approvals": needed, "signer": claims, "signers": list(signed),
                "state": state})
            self.tables["governance.approval_signatures"].append({
                "approval_id": approval_id, "signer": signer.actor, "decision": decision,
                "comment": comment, "claims": canonical_json(claims), "signed_at": at,
                "ledger_seq": Ref("seq", entry)})
            row.update(updated_at=at)
            if final:
                row.update(decided_by=signer.actor, decided_at=at, comment=comment)
                decision_entry = entry
                break
        status = {"pending": "awaiting_approval", "approved": "approved",
                  "rejected": "rejected"}[state]
        if state == "approved":
            state, at, promotion = self._promotion(approval_id, version, run_id, model_digest,
                                                   decision_entry, at)
            detail["promotion"] = promotion
            status = "promoted" if state == "promoted" else "approved"
            row.update(updated_at=at)
        self.tables["governance.approvals"].append({**row, "state": state, "detail": detail})
        return status, at

    def _promotion(self, approval_id: str, version: str, run_id: str, model_digest: str,
                   decision: int, at: datetime) -> tuple[str, datetime, dict[str, Any]]:
        m, rng = self.m, self.rng
        promotion: dict[str, Any] = {}
        at = at + timedelta(minutes=float(rng.uniform(1, 10)))
        base = {"approval_id": approval_id, "model": m.name}
        self.events.add(at, PROMOTER, "prod", "promotion_started", approval_id,
                        {**base, "decision_seq": Ref("seq", decision)})
        if rng.random() < 0.05:  # the registry copy failed; an operator retries later
            at += timedelta(minutes=float(rng.uniform(1, 4)))
            error = "PromotionFailed: prod registry unavailable (HTTP 503); champion unchanged"
            self.events.add(at, PROMOTER, "prod", "promotion_failed", approval_id,
                            {**base, "error": error})
            promotion = {"error": error, "state": "promotion_failed"}
            at += _h(rng.uniform(1, 30))
            if at >= self.end:
                return "promotion_failed", at - _h(30), promotion
            self.events.add(at, PROMOTER, "prod", "promotion_started", approval_id,
                            {**base, "decision_seq": Ref("seq", decision)})
        at += timedelta(seconds=float(rng.uniform(20, 90)))
        prod_version = self._promote(at, approval_id, "approved", version, run_id, model_digest)
        self.events.add(at + timedelta(seconds=1), PROMOTER, "prod", "promotion_completed",
                        approval_id, {**base, "prod_version": prod_version})
        assert self.incident is not None
        self.champion = {"uat": version, "run_id": run_id,
                         "table": f"uat.training.{m.name}_v{version}_inc"
                                  f"{self.incident['first_window']:%Y%m%d}"}
        return "promoted", at, {**promotion, "prod_version": prod_version, "state": "promoted"}

    def _promote(self, at: datetime, approval_id: str, reason: str, version: str,
                 run_id: str, digest: str | None = None) -> str:
        m = self.m
        self.prod += 1
        prod_run = rows.hex_id(self.rng)
        self._run("prod", "1", prod_run, f"promote-{m.name}-v{self.prod}", None,
                  at - timedelta(seconds=10), {},
                  {"driftgate.approval_id": approval_id, "driftgate.source_run_id": run_id},
                  {}, seconds=2.0)
        self.events.add(at, PROMOTER, "prod", "model_promoted", m.name, {
            "approval_id": approval_id, "model_digest": digest or rows.hex_id(self.rng, 32),
            "prod_run_id": prod_run, "prod_version": str(self.prod), "reason": reason,
            "source_model_uri": f"models:/{m.name}/{version}", "source_run_id": run_id,
            "uat_version": version})
        return str(self.prod)

    # -- rows shared by several steps -------------------------------------------------------
    def _run(self, env: str, experiment: str, run_id: str, name: str, author: str | None,
             start: datetime, params: dict[str, str], tags: dict[str, str],
             scores: dict[str, float], seconds: float = 0.0) -> None:
        self.tables["mlflow.runs_latest"].append(rows.run_row(
            env, experiment, run_id, name, author, start,
            seconds or float(self.rng.uniform(60, 1500)), params, tags, scores))

    def _baseline(self, version: int, run_id: str, at: datetime) -> None:
        m, rng = self.m, self.rng
        for f in m.features:
            kind = m.kind(f)
            importance = rows.rnd(rng.dirichlet(np.ones(3))[0] * 0.5)
            if kind == "numeric":
                edges = sorted(rows.rnd(v) for v in rng.normal(10, 4, 9))
                summary: dict[str, Any] = {"max": edges[-1] * 2, "mean": 10.0, "min": 0.0,
                                           "non_finite": 0, "std": 4.0}
            else:
                edges, names = [], ["true", "false"] if kind == "boolean" else ["A", "B", "C"]
                counts = rng.multinomial(60_000, np.ones(len(names)) / len(names))
                summary = {"categories": dict(zip(names, counts.tolist(), strict=True)),
                           "distinct": len(names)}
            profile = {"edges": edges, "feature": f, "importance": importance, "kind": kind,
                       "n_rows": 60_000, "null_rate": 0.0, "summary": summary}
            self.tables["governance.model_baselines"].append({
                "model_name": m.name, "model_version": str(version), "run_id": run_id,
                "feature": f, "feature_type": kind, "importance": importance,
                "n_rows": 60_000, "null_rate": 0.0, "profile": canonical_json(profile),
                "created_at": at})

    def _lineage(self, source: str, target: str, entity: str, run_id: str, by: str,
                 at: datetime, columns: tuple[str, ...] = ()) -> None:
        table, cols = rows.lineage_rows(self.rng, source, target, entity, run_id, by, at,
                                        columns)
        self.tables["lineage.table_lineage"].append(table)
        self.tables["lineage.column_lineage"].extend(cols)
