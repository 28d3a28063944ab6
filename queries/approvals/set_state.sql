-- Move a request through the promotion states (approved -> promoting -> promoted | failed).
-- params: approval_id, state, detail, updated_at
UPDATE governance.approvals
SET state = :state, detail = :detail, updated_at = :updated_at
WHERE approval_id = :approval_id
