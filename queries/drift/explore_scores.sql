-- Every stored feature verdict of one model with its headline test values, oldest window first;
-- the chart payload stays in the warehouse (the heatmap, window list and histories need none).
-- params: model_name
-- returns: model_version, feature, feature_type, window_start, window_end, status, score,
--          null_rate_baseline, null_rate_current, psi, js, wasserstein_norm, unseen_share,
--          computed_at
SELECT model_version, feature, feature_type, window_start, window_end, status, score,
       null_rate_baseline, null_rate_current,
       CAST(get_json_object(tests, '$.psi') AS DOUBLE) AS psi,
       CAST(get_json_object(tests, '$.js') AS DOUBLE) AS js,
       CAST(get_json_object(tests, '$.wasserstein_norm') AS DOUBLE) AS wasserstein_norm,
       CAST(get_json_object(tests, '$.unseen_share') AS DOUBLE) AS unseen_share,
       computed_at
FROM governance.drift_results
WHERE model_name = :model_name
ORDER BY window_start, feature, computed_at
