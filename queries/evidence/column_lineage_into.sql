-- The column lineage rows written into one table: the newest record per column pair.
-- params: target STRING
-- returns: source, source_column, target, target_column, entity_id, entity_run_id, event_time
SELECT source_table_full_name AS source, source_column_name AS source_column,
       target_table_full_name AS target, target_column_name AS target_column, entity_id,
       entity_run_id, event_time
FROM system.access.column_lineage
WHERE target_table_full_name = :target AND source_table_full_name IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY source_table_full_name, source_column_name, target_column_name
  ORDER BY event_time DESC) = 1
ORDER BY target_column, source, source_column
