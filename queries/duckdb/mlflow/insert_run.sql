-- DuckDB spelling of mlflow/insert_run: from_json with a Spark schema string has no sqlglot
-- translation, so the JSON is cast with json_transform instead.
INSERT INTO mlflow.runs_latest (
  update_time, workspace_id, experiment_id, run_id, run_name, created_by, start_time, end_time,
  status, params, tags, aggregated_metrics
) VALUES (
  $update_time, $workspace_id, $experiment_id, $run_id, $run_name, $created_by, $start_time,
  $end_time, $status,
  json_transform($params, '"MAP(VARCHAR, VARCHAR)"'),
  json_transform($tags, '"MAP(VARCHAR, VARCHAR)"'),
  json_transform($metrics, '[{"metric_name": "VARCHAR", "latest_time": "TIMESTAMP", "latest_step": "BIGINT", "latest_value": "DOUBLE", "min_value": "DOUBLE", "max_value": "DOUBLE"}]')
)
