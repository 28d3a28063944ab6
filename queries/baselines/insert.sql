-- Freeze one feature's baseline profile for a model version (written once, at training time).
-- params: model_name, model_version, run_id, feature, feature_type, importance, n_rows,
--         null_rate, profile, created_at
INSERT INTO governance.model_baselines (model_name, model_version, run_id, feature,
  feature_type, importance, n_rows, null_rate, profile, created_at)
VALUES (:model_name, :model_version, :run_id, :feature, :feature_type, :importance, :n_rows,
  :null_rate, :profile, :created_at)
