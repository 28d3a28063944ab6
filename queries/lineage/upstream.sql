-- The tables a table was written from, with the newest job run that wrote it from each.
-- params: target
-- returns: source, entity_id, entity_run_id, event_time
SELECT source_table_full_name AS source, entity_id, entity_run_id, event_time
FROM system.access.table_lineage
WHERE target_table_full_name = :target AND source_table_full_name IS NOT NULL
QUALIFY ROW_NUMBER() OVER (PARTITION BY source_table_full_name ORDER BY event_time DESC) = 1
ORDER BY source
