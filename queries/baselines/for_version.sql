-- The frozen baseline profile of one model version, one row per feature.
-- params: model_name, model_version
-- returns: feature, feature_type, importance, n_rows, null_rate, profile, run_id, created_at
SELECT feature, feature_type, importance, n_rows, null_rate, profile, run_id, created_at
FROM governance.model_baselines
WHERE model_name = :model_name AND model_version = :model_version
ORDER BY feature
