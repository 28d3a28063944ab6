-- Local stand-in for Databricks' system.mlflow.runs_latest (same columns), so the audit query
-- joins MLflow runs in SQL here exactly as it does against the system table on Databricks.
-- Driftgate fills it from the two local MLflow stores (governance.mlflow_mirror.sync);
-- workspace_id holds the environment (uat / prod). On Databricks the platform fills the real one.
CREATE SCHEMA IF NOT EXISTS mlflow;
CREATE TABLE IF NOT EXISTS mlflow.runs_latest (
  account_id STRING,
  update_time TIMESTAMP_NTZ NOT NULL,
  delete_time TIMESTAMP_NTZ,
  workspace_id STRING NOT NULL,
  experiment_id STRING NOT NULL,
  run_id STRING NOT NULL,
  run_name STRING,
  created_by STRING,
  start_time TIMESTAMP_NTZ,
  end_time TIMESTAMP_NTZ,
  status STRING,
  params MAP<STRING, STRING>,
  tags MAP<STRING, STRING>,
  aggregated_metrics ARRAY<STRUCT<metric_name: STRING, latest_time: TIMESTAMP_NTZ, latest_step: BIGINT, latest_value: DOUBLE, min_value: DOUBLE, max_value: DOUBLE>>
);
