-- Count of each category (as text; NULL is its own group) of one column in a date window.
-- params: tbl (IDENTIFIER), col (IDENTIFIER column), start DATE, end DATE (inclusive)
-- returns: category, n
SELECT CAST(IDENTIFIER(:col) AS STRING) AS category, COUNT(*) AS n
FROM IDENTIFIER(:tbl)
WHERE event_date BETWEEN :start AND :end
GROUP BY 1
