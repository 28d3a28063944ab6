-- One MLflow run as system.mlflow.runs_latest holds it (both environments), if present.
-- params: run_id STRING
-- returns: workspace_id, experiment_id, run_id, run_name, created_by, start_time, end_time,
--          status, params, tags, aggregated_metrics, update_time, delete_time
SELECT workspace_id, experiment_id, run_id, run_name, created_by, start_time, end_time,
       status, params, tags, aggregated_metrics, update_time, delete_time
FROM system.mlflow.runs_latest
WHERE run_id = :run_id
ORDER BY workspace_id
