-- One chunk of the chain after :after_seq, for a walk in short units of work.
-- params: after_seq BIGINT, max_rows INT
-- returns: seq, event_time, actor, environment, event_type, subject, payload, hash
SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
FROM governance.ledger
WHERE seq > :after_seq
ORDER BY seq
LIMIT :max_rows
