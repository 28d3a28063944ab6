-- The non-null values of one numeric column over a whole table, unordered, NaN and infinities
-- included. The embedded engine counts NaN/inf and sorts the finite values in numpy, one column
-- at a time (one scan instead of a separate count query); warehouses use numeric_steps.
-- params: tbl (IDENTIFIER), col (IDENTIFIER column)
-- returns: v
SELECT CAST(IDENTIFIER(:col) AS DOUBLE) AS v
FROM IDENTIFIER(:tbl)
WHERE IDENTIFIER(:col) IS NOT NULL
