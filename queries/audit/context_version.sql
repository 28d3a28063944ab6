-- What the audit page's reused reads depend on besides the verified ledger rows: the newest
-- ledger entry (a broken ledger keeps its remembered fingerprint while entries are appended),
-- and the MLflow runs and lineage tables, which change without a ledger entry (the mirror is
-- refreshed after an action's last entry; on Databricks both are the platform's system tables).
-- returns: head_seq, runs, runs_updated, lineage_rows, lineage_updated
SELECT (SELECT MAX(seq) FROM governance.ledger) AS head_seq,
       (SELECT COUNT(*) FROM system.mlflow.runs_latest) AS runs,
       (SELECT MAX(update_time) FROM system.mlflow.runs_latest) AS runs_updated,
       (SELECT COUNT(*) FROM system.access.table_lineage) AS lineage_rows,
       (SELECT MAX(event_time) FROM system.access.table_lineage) AS lineage_updated
