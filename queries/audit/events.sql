-- Ledger entries for the audit view's events table, filtered, sorted and paged in SQL.
-- Empty text parameters mean "no filter". :model_name matches entries about the model
-- (subject "<model>", "<model>/<version>", its incident and approval ids "INC-<model>-…" and
-- "APR-<model>-…", or payload.model). :search matches subject, actor, type or payload text,
-- with % and _ as LIKE wildcards: ILIKE per column without ESCAPE is a fast case-insensitive
-- substring scan (~30x cheaper than lowering one concatenation, ~40x cheaper than ESCAPE).
-- The filtered total comes from audit/event_counts: a window count here would materialise
-- every matching row.
-- params: model_name STRING, environment STRING, event_type STRING, actor STRING,
--         search STRING, since TIMESTAMP, until TIMESTAMP, descending BOOLEAN,
--         max_rows INT, skip_rows INT
-- returns: seq, event_time, actor, environment, event_type, subject, payload, hash
SELECT seq, event_time, actor, environment, event_type, subject, payload, hash
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
ORDER BY CASE WHEN :descending THEN seq END DESC, CASE WHEN NOT :descending THEN seq END ASC
LIMIT :max_rows OFFSET :skip_rows
