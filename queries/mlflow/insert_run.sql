-- Mirror one MLflow run into the local stand-in of system.mlflow.runs_latest.
-- :params and :tags are JSON objects of strings; :metrics a JSON array of
-- {metric_name, latest_time, latest_step, latest_value, min_value, max_value}.
-- params: update_time, workspace_id, experiment_id, run_id, run_name, created_by, start_time,
--         end_time, status, params, tags, metrics
INSERT INTO system.mlflow.runs_latest (
  update_time, workspace_id, experiment_id, run_id, run_name, created_by, start_time, end_time,
  status, params, tags, aggregated_metrics
) VALUES (
  :update_time, :workspace_id, :experiment_id, :run_id, :run_name, :created_by, :start_time,
  :end_time, :status,
  from_json(:params, 'MAP<STRING, STRING>'),
  from_json(:tags, 'MAP<STRING, STRING>'),
  from_json(:metrics, 'ARRAY<STRUCT<metric_name: STRING, latest_time: TIMESTAMP, latest_step: BIGINT, latest_value: DOUBLE, min_value: DOUBLE, max_value: DOUBLE>>')
)
