-- Mark a pending request as changed (a partial signature), so concurrent signers conflict.
-- params: approval_id, updated_at
UPDATE governance.approvals SET updated_at = :updated_at
WHERE approval_id = :approval_id AND state = 'pending'
