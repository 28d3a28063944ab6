-- How many refreshed training sets a model already has (names are versioned from it).
-- params: model_name
-- returns: n
SELECT COUNT(*) AS n FROM governance.responses
WHERE model_name = :model_name AND dataset_table IS NOT NULL
