-- Models under governance.
-- returns: model_name, task, algorithm, description, owner, features, categorical, target,
--          primary_metric, training_table, inference_table, registered_at
SELECT model_name, task, algorithm, description, owner, features, categorical, target,
       primary_metric, training_table, inference_table, registered_at
FROM governance.models
ORDER BY model_name
