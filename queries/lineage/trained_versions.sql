-- UAT model versions and the tables they were trained (and evaluated) on, from the ledger:
-- Unity Catalog lineage has no model node type. `model_trained` entries have subject
-- <model>/<version>; the drift response's `candidate_trained` entries have the incident as
-- subject and name the model and version in the payload (its staged dataset and holdout are
-- also on the incident's response row). The newest entry per version wins.
-- returns: model_name, uat_version, training_table, holdout_table, run_id, dataset_digest,
--          incident_id, actor, event_time, seq
WITH trained AS (
  SELECT seq, event_time, actor,
         regexp_extract(subject, '^(.*)/([^/]*)$', 1) AS model_name,
         regexp_extract(subject, '^(.*)/([^/]*)$', 2) AS uat_version,
         get_json_object(payload, '$.training_table') AS training_table,
         CAST(NULL AS STRING) AS holdout_table,
         get_json_object(payload, '$.run_id') AS run_id,
         get_json_object(payload, '$.dataset_digest') AS dataset_digest,
         CAST(NULL AS STRING) AS incident_id
  FROM governance.ledger
  WHERE event_type = 'model_trained'
  UNION ALL
  SELECT l.seq, l.event_time, l.actor,
         get_json_object(l.payload, '$.model'),
         get_json_object(l.payload, '$.uat_version'),
         COALESCE(get_json_object(l.payload, '$.training_table'), r.dataset_table),
         r.holdout_table,
         get_json_object(l.payload, '$.run_id'),
         COALESCE(get_json_object(l.payload, '$.dataset_digest'), r.dataset_digest),
         l.subject
  FROM governance.ledger AS l
  LEFT JOIN governance.responses AS r ON r.incident_id = l.subject
  WHERE l.event_type = 'candidate_trained'
)
SELECT model_name, uat_version, training_table, holdout_table, run_id, dataset_digest,
       incident_id, actor, event_time, seq
FROM trained
WHERE model_name IS NOT NULL AND model_name <> '' AND uat_version IS NOT NULL
  AND uat_version <> ''
QUALIFY ROW_NUMBER() OVER (PARTITION BY model_name, uat_version ORDER BY seq DESC) = 1
ORDER BY model_name, seq
