-- Values for the audit view's filter pickers: models, event types, actors, time range.
-- returns: kind, value
SELECT 'model' AS kind, model_name AS value FROM governance.models
UNION
SELECT 'model', subject FROM governance.ledger WHERE event_type = 'model_promoted'
UNION
SELECT 'event_type', event_type FROM governance.ledger
UNION
SELECT 'actor', actor FROM governance.ledger
ORDER BY kind, value
