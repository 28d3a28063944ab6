-- Row, null (NULL or NaN) and infinite counts of one numeric column over a whole table.
-- params: tbl (IDENTIFIER), col (IDENTIFIER column)
-- returns: n_rows, n_null, n_inf
SELECT COUNT(*) AS n_rows,
       COALESCE(COUNT_IF(IDENTIFIER(:col) IS NULL
                         OR ISNAN(CAST(IDENTIFIER(:col) AS DOUBLE))), 0) AS n_null,
       COALESCE(COUNT_IF(ABS(CAST(IDENTIFIER(:col) AS DOUBLE)) = CAST('Infinity' AS DOUBLE)),
                0) AS n_inf
FROM IDENTIFIER(:tbl)
