-- description: Check outcomes by day (latest run of each day): status and exception count per check; only warn/breach/error rows unless all=true.
-- param: from date (optional): first as-of date
-- param: to date (optional): last as-of date
-- param: check_id text (optional): one check, e.g. SEG-06
-- param: all text (optional): "true" to include passes and not_evaluated
WITH latest AS (
    SELECT as_of_date, arg_max(run_id, checked_at) AS run_id
    FROM check_results
    GROUP BY as_of_date
)
SELECT r.as_of_date, r.check_id, r.title, r.status, r.exceptions, r.run_id
FROM check_results AS r
JOIN latest AS l USING (as_of_date, run_id)
WHERE ($from::DATE IS NULL OR r.as_of_date >= $from::DATE)
  AND ($to::DATE IS NULL OR r.as_of_date <= $to::DATE)
  AND ($check_id::VARCHAR IS NULL OR r.check_id = $check_id::VARCHAR)
  AND (coalesce($all::VARCHAR, 'false') = 'true' OR r.status IN ('warn', 'breach', 'error'))
ORDER BY r.as_of_date, r.check_id;
