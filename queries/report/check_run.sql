-- The latest recorded check run with a given run_id for one as-of date (mir report reuses it).
-- A run_id is a hash of the inputs, the configuration and the tool version, so a recorded run
-- with the same id has exactly the outcomes a new run would have. The same run_id may have been
-- recorded more than once (`mir check` run twice): keep the latest recording.
SELECT check_id, title, status, exceptions, message, checked_at
FROM check_results
WHERE as_of_date = $as_of
  AND run_id = $run_id
  AND checked_at = (
      SELECT max(checked_at) FROM check_results WHERE as_of_date = $as_of AND run_id = $run_id)
ORDER BY check_id;
