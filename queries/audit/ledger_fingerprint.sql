-- A cheap fingerprint of the stored ledger rows with :after < seq <= :upto (count, last seq,
-- XOR of row hashes): while it is unchanged, so is every one of those rows, and a cached chain
-- verification of them still holds. Fingerprints of adjacent ranges compose (count adds, XOR).
-- params: after BIGINT, upto BIGINT
-- returns: n, max_seq, checksum
SELECT COUNT(*) AS n, MAX(seq) AS max_seq,
       CAST(bit_xor(xxhash64(seq, event_time, actor, environment, event_type, subject, payload,
                             hash)) AS STRING) AS checksum
FROM governance.ledger
WHERE seq > :after AND seq <= :upto
