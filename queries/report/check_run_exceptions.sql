-- Every exception row of a recorded run (run_id, as-of date), once.
-- Rows recorded before 2026-12-05 have no checked_at, and a check whose rows a run_id recorded k
-- times holds each of them k times (the same rows: same inputs and configuration); `recordings`
-- is k per check, counting only the recordings in which the check wrote rows (a recording where
-- it crashed, `error`, wrote none), and each distinct row is repeated count / k times, which
-- restores the rows of one recording exactly.
WITH recordings AS (
    SELECT check_id, count(DISTINCT checked_at) AS k
    FROM check_results
    WHERE as_of_date = $as_of AND run_id = $run_id AND exceptions > 0
    GROUP BY check_id
),
grouped AS (
    SELECT check_id, status, entity_type, entity_id, instrument_id, asset, metric, value,
           threshold, message, count(*) AS copies
    FROM check_exceptions
    WHERE as_of_date = $as_of AND run_id = $run_id
    GROUP BY ALL
)
SELECT check_id, status, entity_type, entity_id, instrument_id, asset, metric, value, threshold,
       message
FROM (
    SELECT g.*, unnest(range(CAST(g.copies // greatest(r.k, 1) AS BIGINT))) AS copy
    FROM grouped AS g JOIN recordings AS r USING (check_id)
)
ORDER BY check_id, entity_id, instrument_id NULLS LAST, asset NULLS LAST, metric, message, status,
         value, threshold;
