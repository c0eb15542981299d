-- run_is_stale(day, checked_at): whether a check run of `day` recorded at `checked_at` no longer
-- belongs to the stored data: for some date up to `day`, the files of its latest load now differ
-- from those of its latest load at `checked_at` (a reload with other files, or a date filled in
-- since). The run's figures read those days (previous close, IFR windows, K-CON, VaR history),
-- and its run id hashes exactly these files (reports.checks.engine.compute_run_id), so a reload
-- of identical files leaves the run current. The investigations' `stale` column.
CREATE OR REPLACE MACRO run_is_stale(day, checked_at) AS EXISTS (
    WITH load_files AS (
        SELECT
            as_of_date,
            load_id,
            max(loaded_at) AS loaded_at,
            string_agg(file || ' ' || sha256, ',' ORDER BY file, sha256) AS files
        FROM loads
        WHERE as_of_date <= day
        GROUP BY as_of_date, load_id
    ),
    now_latest AS (
        SELECT as_of_date, arg_max(files, (loaded_at, load_id)) AS files
        FROM load_files
        GROUP BY as_of_date
    ),
    then_latest AS (
        SELECT as_of_date, arg_max(files, (loaded_at, load_id)) AS files
        FROM load_files
        WHERE loaded_at <= checked_at
        GROUP BY as_of_date
    )
    SELECT 1
    FROM now_latest AS n
    LEFT JOIN then_latest AS t ON t.as_of_date = n.as_of_date
    WHERE t.files IS DISTINCT FROM n.files
);
