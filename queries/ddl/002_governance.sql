-- Driftgate's own tables. Times are UTC, stored without zone (TIMESTAMP_NTZ).
-- JSON documents are stored as canonical JSON text so hashes can be recomputed byte for byte.
CREATE TABLE IF NOT EXISTS governance.schema_version (
  version INT NOT NULL,
  applied_at TIMESTAMP_NTZ NOT NULL,
  description STRING NOT NULL
);

-- Append-only, hash-chained audit log: hash = sha256(prev_hash || canonical_json(entry)).
CREATE TABLE IF NOT EXISTS governance.ledger (
  seq BIGINT NOT NULL,
  event_time TIMESTAMP_NTZ NOT NULL,
  actor STRING NOT NULL,
  environment STRING NOT NULL,
  event_type STRING NOT NULL,
  subject STRING NOT NULL,
  payload STRING NOT NULL,
  hash STRING NOT NULL,
  CONSTRAINT ledger_pk PRIMARY KEY (seq)
);

-- Models under governance: where their data lives and how they are judged.
CREATE TABLE IF NOT EXISTS governance.models (
  model_name STRING NOT NULL,
  task STRING NOT NULL,
  algorithm STRING NOT NULL,
  description STRING NOT NULL,
  owner STRING NOT NULL,
  features STRING NOT NULL,
  categorical STRING NOT NULL,
  target STRING NOT NULL,
  primary_metric STRING NOT NULL,
  training_table STRING NOT NULL,
  inference_table STRING NOT NULL,
  registered_at TIMESTAMP_NTZ NOT NULL
);

-- Frozen training-time profile per model version and feature; bins never move afterwards.
CREATE TABLE IF NOT EXISTS governance.model_baselines (
  model_name STRING NOT NULL,
  model_version STRING NOT NULL,
  run_id STRING NOT NULL,
  feature STRING NOT NULL,
  feature_type STRING NOT NULL,
  importance DOUBLE,
  n_rows BIGINT NOT NULL,
  null_rate DOUBLE NOT NULL,
  profile STRING NOT NULL,
  created_at TIMESTAMP_NTZ NOT NULL
);

-- One row per (model, version, feature, window): the tests and the verdict.
CREATE TABLE IF NOT EXISTS governance.drift_results (
  model_name STRING NOT NULL,
  model_version STRING NOT NULL,
  feature STRING NOT NULL,
  window_start DATE NOT NULL,
  window_end DATE NOT NULL,
  feature_type STRING NOT NULL,
  status STRING NOT NULL,
  score DOUBLE,
  n_baseline BIGINT,
  n_current BIGINT,
  null_rate_baseline DOUBLE,
  null_rate_current DOUBLE,
  tests STRING NOT NULL,
  computed_at TIMESTAMP_NTZ NOT NULL
);

-- At most one open incident per model; the drift response hangs off it.
CREATE TABLE IF NOT EXISTS governance.drift_incidents (
  incident_id STRING NOT NULL,
  model_name STRING NOT NULL,
  model_version STRING NOT NULL,
  status STRING NOT NULL,
  opened_at TIMESTAMP_NTZ NOT NULL,
  updated_at TIMESTAMP_NTZ NOT NULL,
  first_window DATE NOT NULL,
  last_window DATE NOT NULL,
  score DOUBLE,
  drifted_features STRING NOT NULL,
  detail STRING NOT NULL
);

-- Approval requests: pending -> approved | rejected; approved -> promoting -> promoted | promotion_failed.
CREATE TABLE IF NOT EXISTS governance.approvals (
  approval_id STRING NOT NULL,
  model_name STRING NOT NULL,
  candidate_version STRING NOT NULL,
  champion_version STRING,
  incident_id STRING,
  state STRING NOT NULL,
  requested_by STRING NOT NULL,
  requested_at TIMESTAMP_NTZ NOT NULL,
  decided_by STRING,
  decided_at TIMESTAMP_NTZ,
  comment STRING,
  detail STRING NOT NULL,
  updated_at TIMESTAMP_NTZ NOT NULL
);

-- Events for other tools, written in the same unit of work as their ledger entry.
CREATE TABLE IF NOT EXISTS governance.outbox (
  event_id STRING NOT NULL,
  ledger_seq BIGINT NOT NULL,
  event_type STRING NOT NULL,
  subject STRING NOT NULL,
  payload STRING NOT NULL,
  created_at TIMESTAMP_NTZ NOT NULL,
  delivered_at TIMESTAMP_NTZ,
  attempts INT NOT NULL
);

-- One row per checked window: the dataset verdict and the policy that produced it.
CREATE TABLE IF NOT EXISTS governance.drift_windows (
  model_name STRING NOT NULL,
  model_version STRING NOT NULL,
  window_start DATE NOT NULL,
  window_end DATE NOT NULL,
  verdict STRING NOT NULL,
  score DOUBLE,
  share DOUBLE,
  drifted_features STRING NOT NULL,
  schema_problems STRING NOT NULL,
  policy STRING NOT NULL,
  computed_at TIMESTAMP_NTZ NOT NULL
);

-- The drift response per incident (uat only): the last completed step, the artefacts each step
-- produced, the last failure, and a lease so two runners never work on one incident at once.
-- step: started -> refresh_staged -> candidate_trained -> candidate_evaluated
--       -> approval_requested | not_qualified
CREATE TABLE IF NOT EXISTS governance.responses (
  incident_id STRING NOT NULL,
  model_name STRING NOT NULL,
  champion_version STRING NOT NULL,
  step STRING NOT NULL,
  failed_step STRING,
  problems STRING NOT NULL,
  requested_by STRING NOT NULL,
  cutoff DATE,
  dataset_table STRING,
  dataset_digest STRING,
  dataset_rows BIGINT,
  holdout_table STRING,
  holdout_digest STRING,
  candidate_version STRING,
  candidate_run_id STRING,
  approval_id STRING,
  lease_owner STRING,
  lease_until TIMESTAMP_NTZ,
  started_at TIMESTAMP_NTZ NOT NULL,
  updated_at TIMESTAMP_NTZ NOT NULL
);

-- One row per model evaluated by a harness for an incident: champion and candidate, same rows.
CREATE TABLE IF NOT EXISTS governance.evaluations (
  incident_id STRING NOT NULL,
  model_name STRING NOT NULL,
  role STRING NOT NULL,
  environment STRING NOT NULL,
  model_version STRING NOT NULL,
  harness STRING NOT NULL,
  harness_version STRING NOT NULL,
  holdout_table STRING NOT NULL,
  holdout_digest STRING NOT NULL,
  n_rows BIGINT NOT NULL,
  metrics STRING NOT NULL,
  mlflow_run_id STRING NOT NULL,
  evaluated_at TIMESTAMP_NTZ NOT NULL
);

-- Each approver's signature on a request (two rows when a model needs four eyes).
CREATE TABLE IF NOT EXISTS governance.approval_signatures (
  approval_id STRING NOT NULL,
  signer STRING NOT NULL,
  decision STRING NOT NULL,
  comment STRING,
  claims STRING NOT NULL,
  signed_at TIMESTAMP_NTZ NOT NULL,
  ledger_seq BIGINT NOT NULL
);
