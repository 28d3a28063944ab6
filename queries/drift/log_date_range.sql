-- First and last event day of an inference log.
-- params: tbl (IDENTIFIER)
-- returns: first_day, last_day
SELECT MIN(event_date) AS first_day, MAX(event_date) AS last_day FROM IDENTIFIER(:tbl)
