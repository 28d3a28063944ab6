-- The single dashboard query: one row per production model version, joining the promotion
-- (ledger), its approval and signatures, the drift incident behind it, the training run and
-- dataset (ledger + MLflow runs), both harness evaluations, and upstream lineage.
-- Runs here and on Databricks SQL, where system.mlflow.runs_latest and system.access.table_lineage
-- are the platform's system tables (locally: stand-ins with the same columns).
-- Empty text parameters mean "no filter"; :actor matches the approver, the requester or the
-- candidate run's author, with or without the "user:" prefix. In :search, % and _ are
-- LIKE wildcards.
-- :sort is live_from | model | approver | incident; :descending flips it. Paging in SQL; total_rows is the filtered count before paging.
-- params: model_name STRING, actor STRING, search STRING, since TIMESTAMP, until TIMESTAMP,
--         sort STRING, descending BOOLEAN, max_rows INT, skip_rows INT
-- returns: model_name, prod_version, uat_version, live_from, live_until, is_champion, reason,
--          approval_id, approval_state, requested_by, requested_at, decided_by, decided_at,
--          decision_comment, signatures, incident_id, incident_status, incident_opened_at,
--          first_window, drift_score, drifted_features, training_table, dataset_digest,
--          code_version, feature_pipeline_version, candidate_run_id, candidate_experiment_id,
--          candidate_run_status, candidate_run_author, prod_run_id, prod_experiment_id,
--          prod_run_status, primary_metric, candidate_metric, champion_metric,
--          upstream_tables, model_digest, promoted_seq, total_rows
WITH promotions AS (
  SELECT seq, event_time, subject AS model_name,
         get_json_object(payload, '$.prod_version') AS prod_version,
         get_json_object(payload, '$.uat_version') AS uat_version,
         get_json_object(payload, '$.approval_id') AS approval_id,
         get_json_object(payload, '$.reason') AS reason,
         get_json_object(payload, '$.source_run_id') AS source_run_id,
         get_json_object(payload, '$.prod_run_id') AS prod_run_id,
         get_json_object(payload, '$.model_digest') AS model_digest
  FROM governance.ledger
  WHERE event_type = 'model_promoted'
),
lived AS (
  SELECT p.*,
         LEAD(event_time) OVER (PARTITION BY model_name ORDER BY seq) AS live_until
  FROM promotions p
),
trained AS (
  SELECT seq, split_part(subject, '/', 1) AS model_name, split_part(subject, '/', 2) AS uat_version,
         get_json_object(payload, '$.training_table') AS training_table,
         get_json_object(payload, '$.dataset_digest') AS dataset_digest,
         CAST(NULL AS STRING) AS code_version, CAST(NULL AS STRING) AS feature_pipeline_version
  FROM governance.ledger WHERE event_type = 'model_trained'
  UNION ALL
  SELECT seq, get_json_object(payload, '$.model'), get_json_object(payload, '$.uat_version'),
         get_json_object(payload, '$.training_table'),
         get_json_object(payload, '$.dataset_digest'),
         get_json_object(payload, '$.code_version'),
         get_json_object(payload, '$.feature_pipeline_version')
  FROM governance.ledger WHERE event_type = 'candidate_trained'
),
trained_once AS (  -- a retried step may log a version twice; the newest record wins
  SELECT * FROM trained
  QUALIFY ROW_NUMBER() OVER (PARTITION BY model_name, uat_version ORDER BY seq DESC) = 1
),
evaluated AS (
  SELECT incident_id, role, model_version, metrics FROM governance.evaluations
  QUALIFY ROW_NUMBER() OVER (PARTITION BY incident_id, role, model_version
                             ORDER BY evaluated_at DESC) = 1
),
signed AS (
  SELECT approval_id, COUNT(*) AS signatures
  FROM governance.approval_signatures GROUP BY approval_id
),
upstream AS (  -- only the training tables at hand: the system table spans the whole account
  SELECT target_table_full_name AS target, COUNT(DISTINCT source_table_full_name) AS n
  FROM system.access.table_lineage
  WHERE source_table_full_name IS NOT NULL
    AND target_table_full_name IN (SELECT training_table FROM trained_once)
  GROUP BY target_table_full_name
),
rows_ AS (
  SELECT l.model_name, l.prod_version, l.uat_version, l.event_time AS live_from, l.live_until,
         l.live_until IS NULL AS is_champion, l.reason, l.approval_id,
         a.state AS approval_state, a.requested_by, a.requested_at, a.decided_by, a.decided_at,
         a.comment AS decision_comment, COALESCE(s.signatures, 0) AS signatures,
         a.incident_id, i.status AS incident_status, i.opened_at AS incident_opened_at,
         i.first_window, i.score AS drift_score, i.drifted_features,
         t.training_table, t.dataset_digest, t.code_version, t.feature_pipeline_version,
         l.source_run_id AS candidate_run_id, ru.experiment_id AS candidate_experiment_id,
         ru.status AS candidate_run_status, ru.created_by AS candidate_run_author,
         l.prod_run_id, rp.experiment_id AS prod_experiment_id, rp.status AS prod_run_status,
         m.primary_metric,
         CAST(get_json_object(ec.metrics, concat('$.', m.primary_metric)) AS DOUBLE)
           AS candidate_metric,
         CAST(get_json_object(eh.metrics, concat('$.', m.primary_metric)) AS DOUBLE)
           AS champion_metric,
         COALESCE(u.n, 0) AS upstream_tables, l.model_digest, l.seq AS promoted_seq
  FROM lived l
  LEFT JOIN governance.approvals a ON a.approval_id = l.approval_id
  LEFT JOIN signed s ON s.approval_id = l.approval_id
  LEFT JOIN governance.drift_incidents i ON i.incident_id = a.incident_id
  LEFT JOIN governance.models m ON m.model_name = l.model_name
  LEFT JOIN trained_once t ON t.model_name = l.model_name AND t.uat_version = l.uat_version
  LEFT JOIN upstream u ON u.target = t.training_table
  -- a deleted run is a missing run for an auditor
  LEFT JOIN system.mlflow.runs_latest ru
    ON ru.run_id = l.source_run_id AND ru.delete_time IS NULL
  LEFT JOIN system.mlflow.runs_latest rp
    ON rp.run_id = l.prod_run_id AND rp.delete_time IS NULL
  LEFT JOIN evaluated ec
    ON ec.incident_id = a.incident_id AND ec.role = 'candidate'
   AND ec.model_version = l.uat_version
  LEFT JOIN evaluated eh
    ON eh.incident_id = a.incident_id AND eh.role = 'champion'
   AND eh.model_version = a.champion_version
),
filtered AS (
  SELECT r.*,
         CASE :sort
           WHEN 'model' THEN concat(r.model_name, '/', lpad(r.prod_version, 6, '0'))
           WHEN 'approver' THEN COALESCE(r.decided_by, '')
           WHEN 'incident' THEN COALESCE(r.incident_id, '')
           ELSE CAST(r.live_from AS STRING)
         END AS sort_key
  FROM rows_ r
  WHERE (:model_name = '' OR r.model_name = :model_name)
    AND r.live_from >= :since AND r.live_from < :until
    AND (:actor = ''
         OR lower(:actor) IN (lower(COALESCE(r.decided_by, '')),
                              lower(COALESCE(r.requested_by, '')),
                              lower(COALESCE(r.candidate_run_author, '')))
         OR lower(concat('user:', :actor)) IN (lower(COALESCE(r.decided_by, '')),
                                               lower(COALESCE(r.requested_by, '')),
                                               lower(COALESCE(r.candidate_run_author, ''))))
    AND (:search = '' OR lower(concat_ws(' ', r.model_name, r.approval_id, r.incident_id,
           r.decided_by, r.requested_by, r.decision_comment, r.training_table,
           r.candidate_run_id, r.prod_run_id, r.dataset_digest, r.model_digest))
         LIKE concat('%', lower(:search), '%'))
)
SELECT model_name, prod_version, uat_version, live_from, live_until, is_champion, reason,
       approval_id, approval_state, requested_by, requested_at, decided_by, decided_at,
       decision_comment, signatures, incident_id, incident_status, incident_opened_at,
       first_window, drift_score, drifted_features, training_table, dataset_digest, code_version,
       feature_pipeline_version, candidate_run_id, candidate_experiment_id, candidate_run_status,
       candidate_run_author, prod_run_id, prod_experiment_id, prod_run_status, primary_metric,
       candidate_metric, champion_metric, upstream_tables, model_digest, promoted_seq,
       COUNT(*) OVER () AS total_rows
FROM filtered
ORDER BY CASE WHEN :descending THEN sort_key END DESC,
         CASE WHEN NOT :descending THEN sort_key END ASC,
         promoted_seq DESC
LIMIT :max_rows OFFSET :skip_rows
