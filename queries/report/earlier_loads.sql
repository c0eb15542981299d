-- The earlier stored days the run id also covers (reports.checks.engine.compute_run_id hashes
-- the latest load of each): how many, the first and the last.
SELECT count(DISTINCT as_of_date) AS days, min(as_of_date) AS first, max(as_of_date) AS last
FROM loads
WHERE as_of_date < $as_of;
