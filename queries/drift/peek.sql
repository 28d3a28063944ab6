-- No rows, only the columns and types of a table (to spot missing or retyped features).
-- params: tbl (IDENTIFIER)
SELECT * FROM IDENTIFIER(:tbl) LIMIT 0
