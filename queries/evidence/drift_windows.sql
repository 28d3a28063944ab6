-- The checked windows of one model version inside an incident's span, oldest first.
-- params: model_name STRING, model_version STRING, first_window DATE, last_window DATE
-- returns: model_version, window_start, window_end, verdict, score, share, drifted_features,
--          schema_problems, policy, computed_at
SELECT model_version, window_start, window_end, verdict, score, share, drifted_features,
       schema_problems, policy, computed_at
FROM governance.drift_windows
WHERE model_name = :model_name AND model_version = :model_version
  AND window_start >= :first_window AND window_end <= :last_window
ORDER BY window_start
