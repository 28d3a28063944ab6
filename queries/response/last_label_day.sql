-- The newest day of an inference log with a label, on or before :until.
-- params: tbl (IDENTIFIER), until DATE
-- returns: last_day
SELECT MAX(event_date) AS last_day FROM IDENTIFIER(:tbl)
WHERE label IS NOT NULL AND event_date <= :until
