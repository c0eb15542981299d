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
-- column, and what `mir load` warns of (both through the view check_runs_stale below: the same
-- for every recorded run, computed over all at once). Only dates loaded again after the run are
-- compared (a range join first): a run with no load after it costs no file list.
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

-- check_runs_stale: run_is_stale(as_of_date, checked_at) of every recorded check run, computed
-- over all of them at once: one row per distinct (as_of_date, checked_at) of check_results and of
-- capital_results (the same runs: a run's capital_results row shares its checked_at), with
-- `stale` exactly as the macro's. The investigations, the report's capital trend and `mir
-- load`'s warning join it on (as_of_date, checked_at): the macro, called once per run, compares
-- each run with every later load of the dates up to its day, which grows with the square of the
-- history (3,000 days, every day loaded and checked twice, then restated and checked again:
-- 113 s and 15 GB for its 9,000 runs, here 0.2 s; review of 2026-12-07).
-- How: a run is stale when some date D <= its day has a load after it and, at its checked_at,
-- D's in-force load (the latest with loaded_at <= checked_at, in the macro's (loaded_at,
-- load_id) order; none before D's first load) has other files than D's latest (`other`).
-- (a) Until D's first load with its latest files (`good_from`), D's in-force files are none or
-- other ones, and there is a later load: every run with checked_at < good_from is stale. Over
-- the dates up to a day that is one running max (`prefix`), found by an ASOF join: linear.
-- (b) After it, D is stale only while a later load with other files is in force: [loaded_at,
-- the next load's loaded_at) (A -> B -> A: B's window). A range join of the runs with these
-- windows only; a restatement (A -> B, even A -> B -> C) adds none: its windows are in (a).
-- What (b) pairs grows with the runs recorded while such a window was open (many days each
-- reloaded back to earlier files long after: still the square, at a small cost per pair).
-- tests/test_sql.py holds it to the macro run by run on the histories that tell them apart.
CREATE OR REPLACE VIEW check_runs_stale AS
WITH f AS (
    SELECT as_of_date, loaded_at, lead(loaded_at) OVER w AS until,
           files IS DISTINCT FROM last_value(files) OVER (
               w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS other
    FROM load_file_sets
    WINDOW w AS (PARTITION BY as_of_date ORDER BY loaded_at, load_id)
),
g AS (
    SELECT *, min(loaded_at) FILTER (WHERE NOT other) OVER (PARTITION BY as_of_date) AS good_from
    FROM f
),
prefix AS (
    SELECT as_of_date, max(any_value(good_from)) OVER (ORDER BY as_of_date) AS until
    FROM g
    GROUP BY as_of_date
),
windows AS (
    SELECT as_of_date, loaded_at, until FROM g WHERE other AND loaded_at >= good_from
),
runs AS (
    SELECT as_of_date, checked_at FROM check_results
    UNION
    SELECT as_of_date, checked_at FROM capital_results
),
reloaded AS (
    SELECT r.as_of_date, r.checked_at
    FROM runs AS r SEMI JOIN windows AS w
        ON w.as_of_date <= r.as_of_date AND w.loaded_at <= r.checked_at AND r.checked_at < w.until
)
SELECT r.as_of_date, r.checked_at,
       coalesce(p.until > r.checked_at, false) OR s.as_of_date IS NOT NULL AS stale
FROM runs AS r
ASOF LEFT JOIN prefix AS p ON r.as_of_date >= p.as_of_date
LEFT JOIN reloaded AS s ON s.as_of_date = r.as_of_date AND s.checked_at = r.checked_at;

-- shown_check_run(check_id, as_of): the recording of a check that the investigations show for a
-- day: of `as_of` (NULL: the latest day with a recording of the check), the latest one still
-- current if there is one, else the latest (stale). At most one row. check_exceptions lists its
-- exception rows; when those are none, `mir query` says what the run shown was
-- (queries/investigations/when_empty/). `config`: only runs of that configuration's SHA-256
-- (check_results.config_sha256; NULL: any). The arguments are bound first, as in run_is_stale;
-- `stale` is run_is_stale's, from check_runs_stale.
CREATE OR REPLACE MACRO shown_check_run(check_id, as_of, config) AS TABLE
WITH p AS (SELECT check_id::VARCHAR AS c, as_of::DATE AS a, lower(config::VARCHAR) AS k),
day AS (
    SELECT coalesce(any_value(p.a), max(r.as_of_date)) AS as_of_date
    FROM p LEFT JOIN check_results AS r
        ON r.check_id = p.c AND (p.k IS NULL OR r.config_sha256 = p.k)
)
SELECT r.run_id, r.as_of_date, r.checked_at, r.status, r.exceptions, r.message, s.stale
FROM check_results AS r, p, day, check_runs_stale AS s
WHERE r.check_id = p.c AND r.as_of_date = day.as_of_date
  AND (p.k IS NULL OR r.config_sha256 = p.k)
  AND s.as_of_date = r.as_of_date AND s.checked_at = r.checked_at
ORDER BY s.stale, r.checked_at DESC, r.run_id DESC
LIMIT 1;
