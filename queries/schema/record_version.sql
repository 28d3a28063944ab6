-- Record that the store now has schema :version.
-- params: version INT, applied_at TIMESTAMP, description STRING
INSERT INTO governance.schema_version (version, applied_at, description)
VALUES (:version, :applied_at, :description)
