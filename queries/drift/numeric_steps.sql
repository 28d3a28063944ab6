-- ECDF steps of one numeric column over a whole table: each distinct finite value and its count.
-- The warehouse path (Databricks): only the step table leaves the engine.
-- params: tbl (IDENTIFIER), col (IDENTIFIER column)
-- returns: v, n
SELECT CAST(IDENTIFIER(:col) AS DOUBLE) AS v, COUNT(*) AS n
FROM IDENTIFIER(:tbl)
WHERE IDENTIFIER(:col) IS NOT NULL
  AND NOT ISNAN(CAST(IDENTIFIER(:col) AS DOUBLE))
  AND ABS(CAST(IDENTIFIER(:col) AS DOUBLE)) < CAST('Infinity' AS DOUBLE)
GROUP BY 1
