-- The newest ledger entry (empty when the ledger is empty).
-- returns: seq, hash
SELECT seq, hash FROM governance.ledger ORDER BY seq DESC LIMIT 1
