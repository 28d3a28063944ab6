-- DuckDB spelling of audit/ledger_fingerprint (xxhash64 is Databricks'; DuckDB has hash()).
SELECT COUNT(*) AS n, MAX(seq) AS max_seq,
       CAST(bit_xor(hash(seq, event_time, actor, environment, event_type, subject, payload,
                         hash)) AS VARCHAR) AS checksum
FROM governance.ledger
WHERE seq > $after AND seq <= $upto
