-- Every ledger entry from one sequence number to the head, in chain order (the evidence pack's
-- chain segment; streamed, never loaded whole).
-- params: first_seq BIGINT
-- returns: seq, event_time, actor, environment, event_type, subject, payload, hash
SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
FROM governance.ledger
WHERE seq >= :first_seq
ORDER BY seq
