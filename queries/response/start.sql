-- Start the response to an incident, holding its lease.
-- params: incident_id, model_name, champion_version, requested_by, lease_owner, lease_until, now
INSERT INTO governance.responses (incident_id, model_name, champion_version, step, failed_step,
  problems, requested_by, lease_owner, lease_until, started_at, updated_at)
VALUES (:incident_id, :model_name, :champion_version, 'started', NULL, '[]', :requested_by,
  :lease_owner, :lease_until, :now, :now)
