-- Store one feature's verdict for one window.
-- params: model_name, model_version, feature, window_start, window_end, feature_type, status,
--         score, n_baseline, n_current, null_rate_baseline, null_rate_current, tests, computed_at
INSERT INTO governance.drift_results (model_name, model_version, feature, window_start,
  window_end, feature_type, status, score, n_baseline, n_current, null_rate_baseline,
  null_rate_current, tests, computed_at)
VALUES (:model_name, :model_version, :feature, :window_start, :window_end, :feature_type,
  :status, :score, :n_baseline, :n_current, :null_rate_baseline, :null_rate_current, :tests,
  :computed_at)
