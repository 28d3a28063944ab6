-- Production model versions, one per `model_promoted` ledger entry (subject = model), with the
-- UAT version each was copied from. is_champion marks the version of each model's latest
-- promotion (rollbacks are promotions too, so the latest one holds the alias).
-- returns: model_name, prod_version, uat_version, approval_id, prod_run_id, source_run_id,
--          model_digest, reason, actor, event_time, seq, is_champion
WITH promoted AS (
  SELECT subject AS model_name,
         get_json_object(payload, '$.prod_version') AS prod_version,
         get_json_object(payload, '$.uat_version') AS uat_version,
         get_json_object(payload, '$.approval_id') AS approval_id,
         get_json_object(payload, '$.prod_run_id') AS prod_run_id,
         get_json_object(payload, '$.source_run_id') AS source_run_id,
         get_json_object(payload, '$.model_digest') AS model_digest,
         get_json_object(payload, '$.reason') AS reason,
         actor, event_time, seq,
         ROW_NUMBER() OVER (PARTITION BY subject ORDER BY seq DESC) = 1 AS is_champion
  FROM governance.ledger
  WHERE event_type = 'model_promoted'
)
SELECT model_name, prod_version, uat_version, approval_id, prod_run_id, source_run_id,
       model_digest, reason, actor, event_time, seq, is_champion
FROM promoted
WHERE prod_version IS NOT NULL AND prod_version <> ''
QUALIFY ROW_NUMBER() OVER (PARTITION BY model_name, prod_version ORDER BY seq DESC) = 1
ORDER BY model_name, seq
