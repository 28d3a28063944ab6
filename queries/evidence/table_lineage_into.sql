-- The table lineage rows written into one table: the newest record per source table.
-- params: target STRING
-- returns: source, target, entity_type, entity_id, entity_run_id, created_by, event_time
SELECT source_table_full_name AS source, target_table_full_name AS target, entity_type,
       entity_id, entity_run_id, created_by, event_time
FROM system.access.table_lineage
WHERE target_table_full_name = :target AND source_table_full_name IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY source_table_full_name ORDER BY event_time DESC) = 1
ORDER BY source
