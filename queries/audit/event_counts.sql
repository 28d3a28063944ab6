-- Entries per event type and environment in a time range (the audit view's summary chart).
-- params: since TIMESTAMP, until TIMESTAMP
-- returns: event_type, environment, n, first_time, last_time
SELECT event_type, environment, COUNT(*) AS n, MIN(event_time) AS first_time,
       MAX(event_time) AS last_time
FROM governance.ledger
WHERE event_time >= :since AND event_time < :until
GROUP BY event_type, environment
ORDER BY n DESC, event_type, environment
