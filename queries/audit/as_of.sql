-- Which version was live in each environment at :as_of: prod's champion (the newest promotion
-- at or before then) and uat's newest trained version (bootstrap or candidate).
-- params: as_of TIMESTAMP
-- returns: model_name, environment, version, since, approval_id, seq
WITH prod AS (
  SELECT subject AS model_name, 'prod' AS environment,
         get_json_object(payload, '$.prod_version') AS version, event_time AS since,
         get_json_object(payload, '$.approval_id') AS approval_id, seq
  FROM governance.ledger
  WHERE event_type = 'model_promoted' AND event_time <= :as_of
  QUALIFY ROW_NUMBER() OVER (PARTITION BY subject ORDER BY seq DESC) = 1
),
uat AS (
  SELECT CASE WHEN event_type = 'model_trained' THEN split_part(subject, '/', 1)
              ELSE get_json_object(payload, '$.model') END AS model_name,
         'uat' AS environment,
         CASE WHEN event_type = 'model_trained' THEN split_part(subject, '/', 2)
              ELSE get_json_object(payload, '$.uat_version') END AS version,
         event_time AS since, CAST(NULL AS STRING) AS approval_id, seq
  FROM governance.ledger
  WHERE event_type IN ('model_trained', 'candidate_trained') AND event_time <= :as_of
  QUALIFY ROW_NUMBER() OVER (
    PARTITION BY CASE WHEN event_type = 'model_trained' THEN split_part(subject, '/', 1)
                      ELSE get_json_object(payload, '$.model') END
    ORDER BY seq DESC) = 1
)
SELECT model_name, environment, version, since, approval_id, seq FROM prod
UNION ALL
SELECT model_name, environment, version, since, approval_id, seq FROM uat
ORDER BY model_name, environment
