-- The per-feature results of one model version inside an incident's span, oldest window first.
-- params: model_name STRING, model_version STRING, first_window DATE, last_window DATE
-- returns: model_version, feature, window_start, window_end, feature_type, status, score,
--          n_baseline, n_current, null_rate_baseline, null_rate_current, tests, computed_at
SELECT model_version, feature, window_start, window_end, feature_type, status, score,
       n_baseline, n_current, null_rate_baseline, null_rate_current, tests, computed_at
FROM governance.drift_results
WHERE model_name = :model_name AND model_version = :model_version
  AND window_start >= :first_window AND window_end <= :last_window
ORDER BY window_start, feature
