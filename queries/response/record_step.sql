-- Record a completed step (failed_step NULL) or a failed one; artefacts given stay, NULL keeps
-- what an earlier step recorded.
-- params: incident_id, step, failed_step, problems, cutoff, dataset_table, dataset_digest,
--         dataset_rows, holdout_table, holdout_digest, candidate_version, candidate_run_id,
--         approval_id, now
UPDATE governance.responses
SET step = :step,
    failed_step = :failed_step,
    problems = :problems,
    cutoff = COALESCE(:cutoff, cutoff),
    dataset_table = COALESCE(:dataset_table, dataset_table),
    dataset_digest = COALESCE(:dataset_digest, dataset_digest),
    dataset_rows = COALESCE(:dataset_rows, dataset_rows),
    holdout_table = COALESCE(:holdout_table, holdout_table),
    holdout_digest = COALESCE(:holdout_digest, holdout_digest),
    candidate_version = COALESCE(:candidate_version, candidate_version),
    candidate_run_id = COALESCE(:candidate_run_id, candidate_run_id),
    approval_id = COALESCE(:approval_id, approval_id),
    updated_at = :now
WHERE incident_id = :incident_id
