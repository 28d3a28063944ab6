-- The latest entry of one type per subject, e.g. the promotion that made each champion.
-- params: event_type STRING
-- returns: seq, event_time, actor, environment, event_type, subject, payload, hash
SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
FROM governance.ledger
WHERE event_type = :event_type
QUALIFY ROW_NUMBER() OVER (PARTITION BY subject ORDER BY seq DESC) = 1
ORDER BY subject
