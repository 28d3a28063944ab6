-- Close a pending request with its decision (the WHERE keeps a decided request decided).
-- params: approval_id, state, decided_by, decided_at, comment
UPDATE governance.approvals
SET state = :state, decided_by = :decided_by, decided_at = :decided_at, comment = :comment,
    updated_at = :decided_at
WHERE approval_id = :approval_id AND state = 'pending'
