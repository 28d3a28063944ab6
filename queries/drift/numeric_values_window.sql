-- The non-null values of one numeric column in a date window, unordered, NaN and infinities
-- included (see numeric_values).
-- params: tbl (IDENTIFIER), col (IDENTIFIER column), start DATE, end DATE (inclusive)
-- returns: v
SELECT CAST(IDENTIFIER(:col) AS DOUBLE) AS v
FROM IDENTIFIER(:tbl)
WHERE event_date BETWEEN :start AND :end
  AND IDENTIFIER(:col) IS NOT NULL
