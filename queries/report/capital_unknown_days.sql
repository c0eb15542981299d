-- The stored days before $as_of whose own funds were unknown under the report's configuration:
-- the day's latest check run of this configuration ($config, Config.sha256(), as recorded in
-- check_results) that no reload has made stale recorded CAP-01 as not_evaluated (under cftc,
-- no adjusted_net_capital item). Such a run records no capital_results row, so the capital
-- trend has no point for the day; the chart's caption names it instead of dropping it without
-- a word (regime audit of 2026-12-07).
WITH runs AS (
    SELECT r.as_of_date, r.status, r.checked_at, r.run_id
    FROM check_results AS r
    JOIN check_runs_stale AS s ON s.as_of_date = r.as_of_date AND s.checked_at = r.checked_at
    WHERE r.as_of_date < $as_of
      AND r.check_id = 'CAP-01'
      AND r.config_sha256 = $config
      AND NOT s.stale
    QUALIFY row_number() OVER (
        PARTITION BY r.as_of_date ORDER BY r.checked_at DESC, r.run_id DESC) = 1
)
SELECT as_of_date FROM runs WHERE status = 'not_evaluated' ORDER BY as_of_date;
