-- How many incidents already use an id or its numbered variants (id-2, id-3, ...).
-- params: incident_id, pattern
-- returns: n
SELECT COUNT(*) AS n FROM governance.drift_incidents
WHERE incident_id = :incident_id OR incident_id LIKE :pattern
