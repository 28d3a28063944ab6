-- Column lineage into one table: which source column each of its columns was derived from
-- (latest record per source column / target column pair, as in system.access.column_lineage).
-- params: target
-- returns: source, source_column, target_column, entity_type, entity_id, created_by,
--          event_time
SELECT source_table_full_name AS source, source_column_name AS source_column,
       target_column_name AS target_column, entity_type, entity_id, created_by, event_time
FROM system.access.column_lineage
WHERE target_table_full_name = :target
  AND source_table_full_name IS NOT NULL
  AND source_column_name IS NOT NULL
  AND target_column_name IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY source_table_full_name, source_column_name, target_column_name
  ORDER BY event_time DESC) = 1
ORDER BY target_column, source, source_column
