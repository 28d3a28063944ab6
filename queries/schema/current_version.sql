-- The schema version the store is at (NULL when no version was recorded yet).
-- returns: version
SELECT MAX(version) AS version FROM governance.schema_version
