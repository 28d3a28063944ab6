-- The harness evaluations of one incident (champion first).
-- params: incident_id
-- returns: incident_id, model_name, role, environment, model_version, harness, harness_version,
--         holdout_table, holdout_digest, n_rows, metrics, mlflow_run_id, evaluated_at
SELECT incident_id, model_name, role, environment, model_version, harness, harness_version,
       holdout_table, holdout_digest, n_rows, metrics, mlflow_run_id, evaluated_at
FROM governance.evaluations
WHERE incident_id = :incident_id
ORDER BY role, evaluated_at
