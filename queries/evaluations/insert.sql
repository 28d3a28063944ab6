-- Store one harness evaluation.
-- params: incident_id, model_name, role, environment, model_version, harness, harness_version,
--         holdout_table, holdout_digest, n_rows, metrics, mlflow_run_id, evaluated_at
INSERT INTO governance.evaluations (incident_id, model_name, role, environment, model_version,
  harness, harness_version, holdout_table, holdout_digest, n_rows, metrics, mlflow_run_id,
  evaluated_at)
VALUES (:incident_id, :model_name, :role, :environment, :model_version, :harness,
  :harness_version, :holdout_table, :holdout_digest, :n_rows, :metrics, :mlflow_run_id,
  :evaluated_at)
