-- Put a model under governance (no-op when it already is).
-- params: model_name, task, algorithm, description, owner, features, categorical, target,
--         primary_metric, training_table, inference_table, registered_at
INSERT INTO governance.models
SELECT :model_name, :task, :algorithm, :description, :owner, :features, :categorical, :target,
       :primary_metric, :training_table, :inference_table, :registered_at
WHERE NOT EXISTS (SELECT 1 FROM governance.models WHERE model_name = :model_name)
