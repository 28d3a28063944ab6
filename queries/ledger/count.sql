-- Number of ledger entries.
-- returns: n
SELECT COUNT(*) AS n FROM governance.ledger
