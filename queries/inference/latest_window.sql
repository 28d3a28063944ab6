-- Row count, labelled share and mean prediction of the newest daily window of one inference log.
-- params: log_table (IDENTIFIER: the model's inference table)
-- returns: window_date, n_rows, labelled_rows, mean_prediction
SELECT event_date AS window_date,
       COUNT(*) AS n_rows,
       COUNT(label) AS labelled_rows,
       AVG(prediction) AS mean_prediction
FROM IDENTIFIER(:log_table)
WHERE event_date = (SELECT MAX(event_date) FROM IDENTIFIER(:log_table))
GROUP BY event_date
