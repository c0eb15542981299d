-- Is $as_of a stored day? A stored day is a date with a recorded load or with capital figures
-- (the capital file is required every day; `loads` is the audit of every load).
SELECT
    EXISTS (SELECT 1 FROM loads WHERE as_of_date = $as_of)
    OR EXISTS (SELECT 1 FROM capital WHERE as_of_date = $as_of) AS is_stored;
