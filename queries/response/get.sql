-- The drift response of one incident (no row: not started).
-- params: incident_id
-- returns: incident_id, model_name, champion_version, step, failed_step, problems, requested_by, cutoff,
--         dataset_table, dataset_digest, dataset_rows, holdout_table, holdout_digest,
--         candidate_version, candidate_run_id, approval_id, lease_owner, lease_until, started_at,
--         updated_at
SELECT incident_id, model_name, champion_version, step, failed_step, problems, requested_by, cutoff,
       dataset_table, dataset_digest, dataset_rows, holdout_table, holdout_digest,
       candidate_version, candidate_run_id, approval_id, lease_owner, lease_until, started_at,
       updated_at
FROM governance.responses
WHERE incident_id = :incident_id
