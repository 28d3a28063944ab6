-- Every ledger entry in the story of one incident or one promoted version: the incident's own
-- steps, the drift windows that fed it, its approval requests' decisions and promotion jobs,
-- the promotions they made, and (for a bootstrap version) its training entry.
-- Empty text parameters are unused. :trained_subject is "<model>/<uat version>".
-- params: incident_id STRING, approval_id STRING, trained_subject STRING
-- returns: seq, event_time, actor, environment, event_type, subject, payload, hash
WITH requests AS (
  SELECT approval_id FROM governance.approvals
  WHERE (:incident_id <> '' AND incident_id = :incident_id)
     OR (:approval_id <> '' AND approval_id = :approval_id)
)
SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
FROM governance.ledger
WHERE (:incident_id <> '' AND subject = :incident_id)
   OR subject IN (SELECT approval_id FROM requests)
   OR (:approval_id <> '' AND subject = :approval_id)
   OR (:incident_id <> '' AND event_type = 'drift_detected'
       AND get_json_object(payload, '$.incident_id') = :incident_id)
   OR (event_type = 'model_promoted'
       AND get_json_object(payload, '$.approval_id') IN (SELECT approval_id FROM requests))
   OR (:approval_id <> '' AND event_type = 'model_promoted'
       AND get_json_object(payload, '$.approval_id') = :approval_id)
   OR (:trained_subject <> '' AND event_type = 'model_trained' AND subject = :trained_subject)
ORDER BY seq
