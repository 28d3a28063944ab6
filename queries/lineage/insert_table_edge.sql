-- Record that :target was written from :source (same columns as system.access.table_lineage).
-- params: entity_type, entity_id, entity_run_id, source, source_catalog, source_schema,
--         source_name, target, target_catalog, target_schema, target_name, created_by,
--         event_time, record_id
INSERT INTO lineage.table_lineage (
  entity_type, entity_id, entity_run_id,
  source_table_full_name, source_table_catalog, source_table_schema, source_table_name, source_type,
  target_table_full_name, target_table_catalog, target_table_schema, target_table_name, target_type,
  created_by, event_time, event_date, record_id, event_id
) VALUES (
  :entity_type, :entity_id, :entity_run_id,
  :source, :source_catalog, :source_schema, :source_name, 'TABLE',
  :target, :target_catalog, :target_schema, :target_name, 'TABLE',
  :created_by, :event_time, CAST(:event_time AS DATE), :record_id, :entity_run_id
)
