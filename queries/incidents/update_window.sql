-- Record a further drifted window on an open incident.
-- params: incident_id, updated_at, last_window, score, drifted_features
UPDATE governance.drift_incidents
SET updated_at = :updated_at, last_window = :last_window, score = :score,
    drifted_features = :drifted_features
WHERE incident_id = :incident_id
