-- Every stored feature result of one model, oldest window first (the heatmap and histories).
-- params: model_name
-- returns: model_version, feature, window_start, window_end, feature_type, status, score,
--          n_baseline, n_current, null_rate_baseline, null_rate_current, tests, computed_at
SELECT model_version, feature, window_start, window_end, feature_type, status, score,
       n_baseline, n_current, null_rate_baseline, null_rate_current, tests, computed_at
FROM governance.drift_results
WHERE model_name = :model_name
ORDER BY window_start, feature
