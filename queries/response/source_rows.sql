-- Rows of a feature table or inference log dated in [:start, :cutoff] (all columns: the
-- refresh checks and projects them itself, so a missing column is named, not a binder error).
-- params: tbl (IDENTIFIER), start DATE, cutoff DATE
SELECT * FROM IDENTIFIER(:tbl)
WHERE event_date >= :start AND event_date <= :cutoff
ORDER BY event_date
