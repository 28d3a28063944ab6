-- Every entry in chain order, for verification (streamed, never loaded whole).
-- returns: seq, event_time, actor, environment, event_type, subject, payload, hash
SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
FROM governance.ledger
ORDER BY seq
