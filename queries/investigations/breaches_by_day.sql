-- description: Check outcomes by day (latest recorded outcome of each check on each day, of a run still current if there is one): status and exception count; only warn/breach/error rows unless all=true.
-- param: from date (optional): first as-of date
-- param: to date (optional): last as-of date
-- param: check_id check_id (optional): one check, e.g. SEG-06
-- param: all boolean (optional): true to include passes and not_evaluated
-- param: config text (optional): only runs of this configuration (its SHA-256, the manifest's config_sha256, e.g. the daily job's; a what-if `mir check --config` run is otherwise the day's latest)
-- The latest outcome per (day, check) by checked_at, of the runs still current if there is one:
-- a run_id recorded twice (the same inputs checked again) counts once, and a partial run (`mir
-- check --only`) does not hide the others.
-- stale: true when a load after the run changed the files of that day or an earlier one (a
-- reload with other data, or a gap filled; run_is_stale, from the view check_runs_stale): its
-- figures may not match the stored data; run `mir check --as-of D` again. A stale run is shown
-- only when no run of that check on that day is current: after a reload back to the files an
-- older run checked (A -> B -> A), that run holds again, and the later run of B's data is stale
-- (a gap of earlier notes: the later, stale run was shown).
WITH runs AS (
    SELECT r.as_of_date, r.check_id, r.title, r.status, r.exceptions, r.message, r.run_id,
           r.checked_at, s.stale, r.config_sha256
    FROM check_results AS r
    JOIN check_runs_stale AS s ON s.as_of_date = r.as_of_date AND s.checked_at = r.checked_at
    WHERE ($config::VARCHAR IS NULL OR r.config_sha256 = lower($config::VARCHAR))
      AND ($from::DATE IS NULL OR r.as_of_date >= $from::DATE)
      AND ($to::DATE IS NULL OR r.as_of_date <= $to::DATE)
      AND ($check_id::VARCHAR IS NULL OR r.check_id = $check_id::VARCHAR)
)
SELECT *
FROM runs
QUALIFY row_number() OVER (
        PARTITION BY as_of_date, check_id ORDER BY stale, checked_at DESC, run_id DESC) = 1
    AND (coalesce($all::BOOLEAN, false) OR status IN ('warn', 'breach', 'error'))
ORDER BY as_of_date, check_id;
