-- Every ledger entry in the story of one incident or one promoted version: the incident's own
-- steps, the drift windows that fed it, its approval requests' decisions and promotion jobs,
-- the promotions they made, and (for a bootstrap version) its training entry.
-- Empty text parameters are unused. :trained_subject is "<model>/<uat version>"; :model_name
-- narrows the drift entries to the model's own subjects before their payloads are parsed.
-- One selective branch per kind of entry, unioned: on a million-entry ledger this is several
-- times faster than one scan testing every condition on every row.
-- params: incident_id STRING, approval_id STRING, trained_subject STRING, model_name STRING
-- returns: seq, event_time, actor, environment, event_type, subject, payload, hash
WITH requests AS (
  SELECT approval_id FROM governance.approvals
  WHERE (:incident_id <> '' AND incident_id = :incident_id)
     OR (:approval_id <> '' AND approval_id = :approval_id)
),
found AS (
  SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
  FROM governance.ledger
  WHERE :incident_id <> '' AND subject = :incident_id
  UNION ALL
  SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
  FROM governance.ledger
  WHERE subject IN (SELECT approval_id FROM requests)
     OR (:approval_id <> '' AND subject = :approval_id)
  UNION ALL
  SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
  FROM governance.ledger
  WHERE :incident_id <> '' AND event_type = 'drift_detected'
    AND startswith(subject, concat(:model_name, '/'))
    AND get_json_object(payload, '$.incident_id') = :incident_id
  UNION ALL
  SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
  FROM governance.ledger
  WHERE event_type = 'model_promoted'
    AND (get_json_object(payload, '$.approval_id') IN (SELECT approval_id FROM requests)
         OR (:approval_id <> '' AND get_json_object(payload, '$.approval_id') = :approval_id))
  UNION ALL
  SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
  FROM governance.ledger
  WHERE :trained_subject <> '' AND event_type = 'model_trained' AND subject = :trained_subject
)
SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
FROM found
QUALIFY ROW_NUMBER() OVER (PARTITION BY seq ORDER BY seq) = 1
ORDER BY seq
