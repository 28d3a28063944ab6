-- The approval requests behind one evidence pack: one request by id, or every request of an
-- incident. Empty text parameters are unused.
-- params: approval_id STRING, incident_id STRING
-- returns: approval_id, model_name, candidate_version, champion_version, incident_id, state,
--         requested_by, requested_at, decided_by, decided_at, comment, detail, updated_at
SELECT approval_id, model_name, candidate_version, champion_version, incident_id, state,
       requested_by, requested_at, decided_by, decided_at, comment, detail, updated_at
FROM governance.approvals
WHERE (:approval_id <> '' AND approval_id = :approval_id)
   OR (:incident_id <> '' AND incident_id = :incident_id)
ORDER BY requested_at, approval_id
