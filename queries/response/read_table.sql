-- A staged dataset (candidate training set or harness holdout), whole: these are small and
-- the trainer needs every row.
-- params: tbl (IDENTIFIER)
SELECT * FROM IDENTIFIER(:tbl)
ORDER BY event_date, row_id
