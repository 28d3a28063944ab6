-- Mirrored runs per environment.
-- returns: workspace_id, n
SELECT workspace_id, COUNT(*) AS n FROM system.mlflow.runs_latest GROUP BY workspace_id
ORDER BY workspace_id
