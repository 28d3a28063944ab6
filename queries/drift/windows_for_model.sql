-- Every checked window of one model with its stored verdict, oldest first.
-- params: model_name
-- returns: model_version, window_start, window_end, verdict, score, share, drifted_features,
--          schema_problems, policy, computed_at
SELECT model_version, window_start, window_end, verdict, score, share, drifted_features,
       schema_problems, policy, computed_at
FROM governance.drift_windows
WHERE model_name = :model_name
ORDER BY window_start, model_version
