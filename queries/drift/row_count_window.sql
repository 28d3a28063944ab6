-- Rows of a table in a date window.
-- params: tbl (IDENTIFIER), start DATE, end DATE (inclusive)
-- returns: n
SELECT COUNT(*) AS n FROM IDENTIFIER(:tbl) WHERE event_date BETWEEN :start AND :end
