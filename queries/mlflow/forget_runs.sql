-- Drop the mirrored rows of one environment before it is mirrored again (local stand-in only;
-- on Databricks the platform maintains system.mlflow.runs_latest).
-- params: workspace_id
DELETE FROM system.mlflow.runs_latest WHERE workspace_id = :workspace_id
