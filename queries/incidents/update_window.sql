-- Record a further drifted window on an open incident. Re-checking an older window never
-- moves last_window backwards, and the score follows the newest window.
-- params: incident_id, updated_at, last_window, score, drifted_features
UPDATE governance.drift_incidents
SET updated_at = :updated_at,
    score = CASE WHEN :last_window >= last_window THEN :score ELSE score END,
    drifted_features = CASE WHEN :last_window >= last_window THEN :drifted_features
                            ELSE drifted_features END,
    last_window = GREATEST(last_window, :last_window)
WHERE incident_id = :incident_id
