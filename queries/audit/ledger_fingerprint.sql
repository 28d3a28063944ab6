-- A cheap fingerprint of every stored ledger row (count, last seq, XOR of row hashes): when it
-- is unchanged, so is every row, and a cached chain verification still holds.
-- returns: n, max_seq, checksum
SELECT COUNT(*) AS n, MAX(seq) AS max_seq,
       CAST(bit_xor(xxhash64(seq, event_time, actor, environment, event_type, subject, payload,
                             hash)) AS STRING) AS checksum
FROM governance.ledger
