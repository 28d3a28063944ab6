-- Record one approver's signature.
-- params: approval_id, signer, decision, comment, claims, signed_at, ledger_seq
INSERT INTO governance.approval_signatures (approval_id, signer, decision, comment, claims,
  signed_at, ledger_seq)
VALUES (:approval_id, :signer, :decision, :comment, :claims, :signed_at, :ledger_seq)
