"""The drift response: refresh, validate, retrain, evaluate and request approval, all in UAT.

``pipeline`` runs the steps and keeps their state; ``dataset`` builds and validates the
candidate training set and the harness holdout; ``training`` retrains with the champion's
logged algorithm and hyperparameters and logs the candidate to UAT MLflow; ``harness`` scores
champion and candidate on the same rows with the same versioned metrics.
"""
