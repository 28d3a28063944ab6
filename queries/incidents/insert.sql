-- Open an incident.
-- params: incident_id, model_name, model_version, status, opened_at, first_window, last_window,
--         score, drifted_features, detail
INSERT INTO governance.drift_incidents (incident_id, model_name, model_version, status,
  opened_at, updated_at, first_window, last_window, score, drifted_features, detail)
VALUES (:incident_id, :model_name, :model_version, :status, :opened_at, :opened_at,
  :first_window, :last_window, :score, :drifted_features, :detail)
