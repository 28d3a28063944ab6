-- Every feature result of one model version in one window, with the full tests and chart JSON.
-- params: model_name, model_version, window_start DATE
-- returns: feature, feature_type, window_start, window_end, status, score, n_baseline,
--          n_current, null_rate_baseline, null_rate_current, tests, computed_at
SELECT feature, feature_type, window_start, window_end, status, score, n_baseline,
       n_current, null_rate_baseline, null_rate_current, tests, computed_at
FROM governance.drift_results
WHERE model_name = :model_name AND model_version = :model_version
  AND window_start = :window_start
ORDER BY feature
