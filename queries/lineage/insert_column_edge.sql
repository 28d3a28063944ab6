-- Record that :target.:target_column was derived from :source.:source_column.
-- params: entity_type, entity_id, entity_run_id, source, source_catalog, source_schema,
--         source_name, source_column, target, target_catalog, target_schema, target_name,
--         target_column, created_by, event_time, record_id
INSERT INTO lineage.column_lineage (
  entity_type, entity_id, entity_run_id,
  source_table_full_name, source_table_catalog, source_table_schema, source_table_name, source_type,
  source_column_name,
  target_table_full_name, target_table_catalog, target_table_schema, target_table_name, target_type,
  target_column_name,
  created_by, event_time, event_date, record_id, event_id
) VALUES (
  :entity_type, :entity_id, :entity_run_id,
  :source, :source_catalog, :source_schema, :source_name, 'TABLE', :source_column,
  :target, :target_catalog, :target_schema, :target_name, 'TABLE', :target_column,
  :created_by, :event_time, CAST(:event_time AS DATE), :record_id, :entity_run_id
)
