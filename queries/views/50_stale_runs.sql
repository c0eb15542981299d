-- load_file_sets: each load with its files (name and SHA-256), one row per load.
CREATE OR REPLACE VIEW load_file_sets AS
SELECT
    as_of_date,
    load_id,
    max(loaded_at) AS loaded_at,
    string_agg(file || ' ' || sha256, ',' ORDER BY file, sha256) AS files
FROM loads
GROUP BY as_of_date, load_id;

-- run_is_stale(day, checked_at): whether a check run of `day` recorded at `checked_at` no longer
-- belongs to the stored data: for some date up to `day`, the files of its latest load now differ
-- from those of its latest load at `checked_at` (a reload with other files, or a date filled in
-- since). The run's figures read those days (previous close, IFR windows, K-CON, VaR history),
-- and its run id hashes exactly these files (reports.checks.engine.compute_run_id), so a reload
-- of identical files, or A -> B -> A, leaves the run current. The investigations' `stale`
-- column, and what `mir load` warns of. Only dates loaded again after the run are compared (a
-- range join first): a run with no load after it costs no file list.
-- The arguments are bound once, in `p`, before any table of the macro is in scope: a macro
-- substitutes its argument expressions where its parameters appear, so an unqualified column
-- passed in (`run_is_stale(as_of_date, checked_at)`) would otherwise bind to `loads.as_of_date`
-- inside the subquery (analyst review of 2026-12-05: 780 of 820 current runs read as stale,
-- and `mir load` warned of them after reloading identical files).
CREATE OR REPLACE MACRO run_is_stale(day, checked_at) AS EXISTS (
    SELECT 1
    FROM (SELECT day AS run_day, checked_at AS run_checked_at) AS p,
    LATERAL (
        SELECT DISTINCT l.as_of_date
        FROM loads AS l
        WHERE l.as_of_date <= p.run_day AND l.loaded_at > p.run_checked_at
    ) AS d
    WHERE (
        SELECT arg_max(f.files, (f.loaded_at, f.load_id))
        FROM load_file_sets AS f
        WHERE f.as_of_date = d.as_of_date
    ) IS DISTINCT FROM (
        SELECT arg_max(f.files, (f.loaded_at, f.load_id))
        FROM load_file_sets AS f
        WHERE f.as_of_date = d.as_of_date AND f.loaded_at <= p.run_checked_at
    )
);

-- shown_check_run(check_id, as_of): the recording of a check that the investigations show for a
-- day: of `as_of` (NULL: the latest day with a recording of the check), the latest one still
-- current if there is one, else the latest (stale). At most one row. check_exceptions lists its
-- exception rows; when those are none, `mir query` says what the run shown was
-- (queries/investigations/when_empty/). `config`: only runs of that configuration's SHA-256
-- (check_results.config_sha256; NULL: any). The arguments are bound first, as in run_is_stale.
CREATE OR REPLACE MACRO shown_check_run(check_id, as_of, config) AS TABLE
WITH p AS (SELECT check_id::VARCHAR AS c, as_of::DATE AS a, lower(config::VARCHAR) AS k),
day AS (
    SELECT coalesce(any_value(p.a), max(r.as_of_date)) AS as_of_date
    FROM p LEFT JOIN check_results AS r
        ON r.check_id = p.c AND (p.k IS NULL OR r.config_sha256 = p.k)
)
SELECT r.run_id, r.as_of_date, r.checked_at, r.status, r.exceptions, r.message,
       run_is_stale(r.as_of_date, r.checked_at) AS stale
FROM check_results AS r, p, day
WHERE r.check_id = p.c AND r.as_of_date = day.as_of_date
  AND (p.k IS NULL OR r.config_sha256 = p.k)
ORDER BY run_is_stale(r.as_of_date, r.checked_at), r.checked_at DESC, r.run_id DESC
LIMIT 1;
