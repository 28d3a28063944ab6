-- Take (or renew) the lease on a response.
-- params: incident_id, lease_owner, lease_until, now
UPDATE governance.responses
SET lease_owner = :lease_owner, lease_until = :lease_until, updated_at = :now
WHERE incident_id = :incident_id
