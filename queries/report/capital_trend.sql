-- The capital ratio and early-warning level of the stored days before $as_of, as each day's
-- latest usable check run recorded them (capital_results; the level is the day's own: under
-- CFTC it moves with the requirement): a run of the regime in force ($regime) and of the report's
-- capital configuration ($config, Config.capital_sha256; a row recorded before it was, NULL,
-- counts) that no
-- reload has made stale since (run_is_stale, from the view check_runs_stale: the stored data it
-- read are still those), over
-- the latest $points days with a recorded run; a day of that span with none usable has ratio NULL
-- (long-history review of 2026-12-05: a corrected day kept its old ratio in every later
-- report, and a what-if run under another configuration was plotted). The report overrides the
-- previous stored day with its exact figure for today's inputs and configuration
-- (reports.render.build).
WITH runs AS (
    SELECT c.as_of_date, c.ratio, c.early_warning_level, c.checked_at, c.run_id,
           c.regime = $regime
               AND (c.capital_config_sha256 IS NULL OR c.capital_config_sha256 = $config)
               AND NOT s.stale AS usable
    FROM capital_results AS c
    JOIN check_runs_stale AS s ON s.as_of_date = c.as_of_date AND s.checked_at = c.checked_at
    WHERE c.as_of_date < $as_of
),
span AS (
    -- the latest $points days with a recorded run of any regime: a day checked only under
    -- another one is left out and counted (PDF review of 2026-12-05: under CFTC, the days
    -- checked under IFR vanished from the span without a word)
    SELECT DISTINCT as_of_date FROM runs ORDER BY as_of_date DESC LIMIT $points
),
latest AS (
    SELECT r.as_of_date, r.ratio, r.early_warning_level
    FROM runs AS r SEMI JOIN span AS s ON s.as_of_date = r.as_of_date
    WHERE r.usable AND r.ratio IS NOT NULL
    QUALIFY row_number() OVER (PARTITION BY r.as_of_date ORDER BY r.checked_at DESC, r.run_id DESC) = 1
)
-- one row per day of the span: its ratio and level, NULL for a day left out
SELECT s.as_of_date, l.ratio, l.early_warning_level
FROM span AS s LEFT JOIN latest AS l ON l.as_of_date = s.as_of_date
ORDER BY s.as_of_date DESC;
