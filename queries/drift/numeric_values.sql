-- The finite values of one numeric column over a whole table, unordered. The embedded engine
-- sorts them column by column in numpy (faster than an SQL sort here); see numeric_steps.
-- params: tbl (IDENTIFIER), col (IDENTIFIER column)
-- returns: v
SELECT CAST(IDENTIFIER(:col) AS DOUBLE) AS v
FROM IDENTIFIER(:tbl)
WHERE IDENTIFIER(:col) IS NOT NULL
  AND NOT ISNAN(CAST(IDENTIFIER(:col) AS DOUBLE))
  AND ABS(CAST(IDENTIFIER(:col) AS DOUBLE)) < CAST('Infinity' AS DOUBLE)
