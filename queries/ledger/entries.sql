-- Entries filtered by type and time, oldest first. Empty :event_type means every type.
-- params: event_type STRING, since TIMESTAMP, max_rows INT
-- returns: seq, event_time, actor, environment, event_type, subject, payload, hash
SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
FROM governance.ledger
WHERE (:event_type = '' OR event_type = :event_type)
  AND event_time >= :since
ORDER BY seq
LIMIT :max_rows
