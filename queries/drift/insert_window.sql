-- Store one window's dataset verdict, in the same unit of work as its feature results.
-- params: model_name, model_version, window_start, window_end, verdict, score, share,
--         drifted_features, schema_problems, policy, computed_at
INSERT INTO governance.drift_windows (model_name, model_version, window_start, window_end,
  verdict, score, share, drifted_features, schema_problems, policy, computed_at)
VALUES (:model_name, :model_version, :window_start, :window_end, :verdict, :score, :share,
  :drifted_features, :schema_problems, :policy, :computed_at)
