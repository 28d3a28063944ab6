-- Entries per event type and environment under the audit view's filters (the same as
-- audit/events, without paging), aggregated in SQL for the summary chart.
-- params: model_name STRING, environment STRING, event_type STRING, actor STRING,
--         search STRING, since TIMESTAMP, until TIMESTAMP
-- returns: event_type, environment, n, first_time, last_time
SELECT event_type, environment, COUNT(*) AS n, MIN(event_time) AS first_time,
       MAX(event_time) AS last_time
FROM governance.ledger
WHERE (:model_name = ''
       OR subject = :model_name
       OR startswith(subject, concat(:model_name, '/'))
       OR startswith(subject, concat('INC-', :model_name, '-'))
       OR startswith(subject, concat('APR-', :model_name, '-'))
       -- payloads are canonical JSON (no spaces): a substring test first spares parsing
       -- a million payloads to find the few about this model
       OR (payload LIKE concat('%"model":"', :model_name, '"%')
           AND get_json_object(payload, '$.model') = :model_name))
  AND (:environment = '' OR environment = :environment)
  AND (:event_type = '' OR event_type = :event_type)
  AND (:actor = '' OR lower(actor) = lower(:actor) OR lower(actor) = lower(concat('user:', :actor)))
  AND event_time >= :since AND event_time < :until
  AND (:search = '' OR subject ILIKE concat('%', :search, '%')
       OR actor ILIKE concat('%', :search, '%')
       OR event_type ILIKE concat('%', :search, '%')
       OR payload ILIKE concat('%', :search, '%'))
GROUP BY event_type, environment
ORDER BY n DESC, event_type, environment
