-- description: Own funds, capital requirement and their ratio per stored day (capital_results of the latest check run of each day in which CAP-01 ran, of the current ones if there is one), with the early-warning level and CAP-01's status.
-- param: from date (optional): first as-of date [default: the first checked day]
-- param: to date (optional): last as-of date [default: the last checked day]
-- param: config text (optional): only runs of this configuration (its SHA-256, the manifest's config_sha256, e.g. the daily job's; a what-if `mir check --config` run is otherwise the day's latest)
-- The figures are those of the capital statement CAP-01 computed (reporting currency); headroom =
-- own_funds - requirement (negative = shortfall). A day checked before capital_results existed,
-- or never checked, has no row: run `mir check --as-of D` to add it.
-- stale: true when a load after the run changed the files of that day or an earlier one (a
-- reload with other data, or a gap filled; run_is_stale, from the view check_runs_stale): its
-- figures may not match the stored data; run `mir check --as-of D` again.
WITH runs AS (
    SELECT c.*, s.stale
    FROM capital_results AS c
    JOIN check_runs_stale AS s ON s.as_of_date = c.as_of_date AND s.checked_at = c.checked_at
    WHERE ($from::DATE IS NULL OR c.as_of_date >= $from::DATE)
      AND ($to::DATE IS NULL OR c.as_of_date <= $to::DATE)
      -- the run's whole configuration, recorded with its check results (capital_results keep
      -- the capital part's own hash only)
      AND ($config::VARCHAR IS NULL OR EXISTS (
            SELECT 1 FROM check_results AS k
            WHERE k.run_id = c.run_id AND k.as_of_date = c.as_of_date
              AND k.checked_at = c.checked_at
              AND k.config_sha256 = lower($config::VARCHAR)))
),
latest AS (
    -- the latest run of the day, of the current ones if there is one (as breaches_by_day)
    SELECT *
    FROM runs
    QUALIFY row_number() OVER (PARTITION BY as_of_date ORDER BY stale, checked_at DESC, run_id DESC) = 1
)
SELECT
    c.as_of_date,
    c.regime,
    c.own_funds,
    c.requirement,
    c.ratio,
    c.early_warning_level,
    -- as CAP-01 graded it; a row recorded before 2026-12-07 has only the level
    coalesce(c.early_warning_amount, dmul(c.early_warning_level, c.requirement))
        AS early_warning_amount,
    c.own_funds - c.requirement AS headroom,
    r.status AS cap01_status,
    c.run_id,
    c.checked_at,
    c.stale
FROM latest AS c
LEFT JOIN check_results AS r
    ON r.run_id = c.run_id AND r.as_of_date = c.as_of_date AND r.checked_at = c.checked_at
   AND r.check_id = 'CAP-01'
ORDER BY c.as_of_date;
