-- Open an approval request.
-- params: approval_id, model_name, candidate_version, champion_version, incident_id, state,
--         requested_by, requested_at, detail
INSERT INTO governance.approvals (approval_id, model_name, candidate_version, champion_version,
  incident_id, state, requested_by, requested_at, decided_by, decided_at, comment, detail,
  updated_at)
VALUES (:approval_id, :model_name, :candidate_version, :champion_version, :incident_id, :state,
  :requested_by, :requested_at, NULL, NULL, NULL, :detail, :requested_at)
