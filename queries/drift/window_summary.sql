-- Per model and window: features tested, drifted and the worst score (for overviews).
-- returns: model_name, model_version, window_start, window_end, n_features, n_drift, n_warn,
--          max_score
SELECT model_name, model_version, window_start, window_end,
       COUNT(*) AS n_features,
       COUNT_IF(status = 'drift') AS n_drift,
       COUNT_IF(status = 'warn') AS n_warn,
       MAX(score) AS max_score
FROM governance.drift_results
GROUP BY model_name, model_version, window_start, window_end
ORDER BY model_name, window_start
