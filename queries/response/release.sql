-- Give the lease back (only the holder can).
-- params: incident_id, lease_owner
UPDATE governance.responses
SET lease_owner = NULL, lease_until = NULL
WHERE incident_id = :incident_id AND lease_owner = :lease_owner
