-- Count of each category (as text; NULL is its own group) of one column over a whole table.
-- params: tbl (IDENTIFIER), col (IDENTIFIER column)
-- returns: category, n
SELECT CAST(IDENTIFIER(:col) AS STRING) AS category, COUNT(*) AS n
FROM IDENTIFIER(:tbl)
GROUP BY 1
