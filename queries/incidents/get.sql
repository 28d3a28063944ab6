-- One incident.
-- params: incident_id
-- returns: incident_id, model_name, model_version, status, opened_at, updated_at, first_window,
--          last_window, score, drifted_features, detail
SELECT incident_id, model_name, model_version, status, opened_at, updated_at, first_window,
       last_window, score, drifted_features, detail
FROM governance.drift_incidents
WHERE incident_id = :incident_id
