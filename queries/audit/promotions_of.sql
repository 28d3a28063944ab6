-- Every promotion of one model, oldest first.
-- params: model_name STRING
-- returns: seq, event_time, actor, environment, event_type, subject, payload, hash
SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
FROM governance.ledger
WHERE event_type = 'model_promoted' AND subject = :model_name
ORDER BY seq
