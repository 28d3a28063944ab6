-- Move an incident to a new status (the drift response's progress).
-- params: incident_id, status, updated_at
UPDATE governance.drift_incidents
SET status = :status, updated_at = :updated_at
WHERE incident_id = :incident_id
