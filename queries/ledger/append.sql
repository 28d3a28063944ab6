-- Append one entry. Callers compute seq and hash from the head inside the same unit of work.
-- params: seq, event_time, actor, environment, event_type, subject, payload, hash
INSERT INTO governance.ledger (seq, event_time, actor, environment, event_type, subject, payload, hash)
VALUES (:seq, :event_time, :actor, :environment, :event_type, :subject, :payload, :hash)
