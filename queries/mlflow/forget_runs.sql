-- Drop the mirrored rows of one environment before it is mirrored again (local stand-in only;
-- on Databricks the platform maintains system.mlflow.runs_latest).
-- Rows with an account_id were not mirrored from a local store (the large demo's synthetic
-- history has no MLflow runs behind it) and stay.
-- params: workspace_id
DELETE FROM system.mlflow.runs_latest WHERE workspace_id = :workspace_id AND account_id IS NULL
