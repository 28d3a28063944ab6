-- Number of stored results for one model version and window (0 means not yet checked).
-- params: model_name, model_version, window_start DATE
-- returns: n
SELECT COUNT(*) AS n FROM governance.drift_results
WHERE model_name = :model_name AND model_version = :model_version
  AND window_start = :window_start
