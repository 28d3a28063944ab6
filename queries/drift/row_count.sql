-- Rows of a whole table.
-- params: tbl (IDENTIFIER)
-- returns: n
SELECT COUNT(*) AS n FROM IDENTIFIER(:tbl)
