-- Row, null (NULL or NaN) and infinite counts of one numeric column over a whole table.
-- params: tbl (IDENTIFIER), col (IDENTIFIER column)
-- returns: n_rows, n_null, n_inf
SELECT COUNT(*) AS n_rows,
       COUNT_IF(IDENTIFIER(:col) IS NULL OR ISNAN(CAST(IDENTIFIER(:col) AS DOUBLE))) AS n_null,
       COUNT_IF(ABS(CAST(IDENTIFIER(:col) AS DOUBLE)) = CAST('Infinity' AS DOUBLE)) AS n_inf
FROM IDENTIFIER(:tbl)
