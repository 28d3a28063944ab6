-- Every table-level lineage edge (latest record per source/target pair).
-- returns: source, target, entity_type, entity_id, created_by, event_time
SELECT source_table_full_name AS source, target_table_full_name AS target,
       entity_type, entity_id, created_by, event_time
FROM system.access.table_lineage
WHERE source_table_full_name IS NOT NULL AND target_table_full_name IS NOT NULL
QUALIFY ROW_NUMBER() OVER (
  PARTITION BY source_table_full_name, target_table_full_name ORDER BY event_time DESC) = 1
ORDER BY source, target
