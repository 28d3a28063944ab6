-- Every approval request, newest first.
-- returns: approval_id, model_name, candidate_version, champion_version, incident_id, state,
--         requested_by, requested_at, decided_by, decided_at, comment, detail, updated_at
SELECT approval_id, model_name, candidate_version, champion_version, incident_id, state,
       requested_by, requested_at, decided_by, decided_at, comment, detail, updated_at
FROM governance.approvals
ORDER BY requested_at DESC, approval_id DESC
