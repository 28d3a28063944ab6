-- The newest incident of a model, open or not.
-- params: model_name
-- returns: incident_id, model_name, model_version, status, opened_at, updated_at, first_window,
--          last_window, score, drifted_features, detail
SELECT incident_id, model_name, model_version, status, opened_at, updated_at, first_window,
       last_window, score, drifted_features, detail
FROM governance.drift_incidents
WHERE model_name = :model_name
ORDER BY opened_at DESC, incident_id DESC
LIMIT 1
