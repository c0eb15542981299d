-- Every exception row of a recorded run (run_id, as-of date), once.
-- check_exceptions has no recording time, so a run_id recorded k times holds each of its rows k
-- times; `recordings` is k and each distinct row is repeated count / k times, which restores the
-- rows of one recording exactly (identical rows inside one run stay repeated).
WITH recordings AS (
    SELECT count(DISTINCT checked_at) AS k
    FROM check_results
    WHERE as_of_date = $as_of AND run_id = $run_id
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
    FROM grouped AS g CROSS JOIN recordings AS r
)
ORDER BY check_id, entity_id, instrument_id NULLS LAST, asset NULLS LAST, metric, message, status,
         value, threshold;
