-- The signatures on one request, oldest first.
-- params: approval_id
-- returns: approval_id, signer, decision, comment, claims, signed_at, ledger_seq
SELECT approval_id, signer, decision, comment, claims, signed_at, ledger_seq
FROM governance.approval_signatures
WHERE approval_id = :approval_id
ORDER BY signed_at, ledger_seq
