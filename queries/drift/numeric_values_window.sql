-- The finite values of one numeric column in a date window, unordered.
-- params: tbl (IDENTIFIER), col (IDENTIFIER column), start DATE, end DATE (inclusive)
-- returns: v
SELECT CAST(IDENTIFIER(:col) AS DOUBLE) AS v
FROM IDENTIFIER(:tbl)
WHERE event_date BETWEEN :start AND :end
  AND IDENTIFIER(:col) IS NOT NULL
  AND NOT ISNAN(CAST(IDENTIFIER(:col) AS DOUBLE))
  AND ABS(CAST(IDENTIFIER(:col) AS DOUBLE)) < CAST('Infinity' AS DOUBLE)
