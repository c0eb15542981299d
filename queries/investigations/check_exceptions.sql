-- description: The exceptions of one check on one day (its latest recorded run, of the current ones if there is one) with the rows they point at: position, account or asset (segregation) figures.
-- param: check_id check_id (required): e.g. SEG-07
-- param: as_of date (optional): the as-of date [default: the latest day with a run]
-- param: config text (optional): only runs of this configuration (its SHA-256, the manifest's config_sha256), as in breaches_by_day
-- stale: true when a load after the run shown changed the files of that day or an earlier one
-- (a reload with other data, or a gap filled; run_is_stale): its exceptions may not match the
-- stored data; run `mir check --as-of D` again. The position, account and asset columns are the stored data of that day as it is now.
WITH run AS (
    -- the latest recording of the check that day, of the current ones if there is one (as
    -- breaches_by_day; none to show when it crashed in it): queries/views/50_stale_runs.sql
    SELECT run_id, as_of_date, checked_at, status, stale
    FROM shown_check_run($check_id, $as_of, $config)
),
recordings AS (
    -- the check's rows of a run_id are there once per recording in which it wrote rows (not in
    -- one where it crashed); rows recorded before 2026-12-05 have no checked_at to tell them
    -- apart, so the copies are counted (a run_id's rows are the same in every recording)
    SELECT count(DISTINCT r.checked_at) AS k
    FROM check_results AS r JOIN run USING (run_id, as_of_date)
    WHERE r.check_id = $check_id AND r.exceptions > 0
),
grouped AS (
    SELECT x.as_of_date, x.check_id, x.status, x.entity_type, x.entity_id, x.instrument_id, x.asset,
           x.metric, x.value, x.threshold, x.message, count(*) AS copies
    FROM check_exceptions AS x JOIN run USING (run_id, as_of_date)
    WHERE x.check_id = $check_id AND run.status <> 'error'
    GROUP BY ALL
),
x AS (
    -- each distinct row copies / k times: one recording's rows exactly
    SELECT g.* EXCLUDE (copies, copy)
    FROM (
        SELECT g.*, unnest(range(CAST(g.copies // greatest(k.k, 1) AS BIGINT))) AS copy
        FROM grouped AS g CROSS JOIN recordings AS k
    ) AS g
)
SELECT
    x.as_of_date,
    x.check_id,
    x.status,
    x.entity_type,
    x.entity_id,
    x.instrument_id,
    x.asset,
    x.metric,
    x.value,
    x.threshold,
    x.message,
    (SELECT stale FROM run) AS stale,
    p.account_id AS position_account_id,
    p.margin_mode AS position_margin_mode,
    p.quantity AS position_quantity,
    p.isolated_margin AS position_isolated_margin,
    p.unrealized_pnl AS position_unrealized_pnl,
    p.isolated_equity AS position_isolated_equity,
    p.maintenance_margin AS position_maintenance_margin,
    p.liquidation_price AS position_liquidation_price,
    a.account_type AS account_type,
    a.group_id AS account_group_id,
    e.balance AS account_balance,
    e.equity AS account_equity,
    s.client_requirement AS asset_client_requirement,
    s.held AS asset_held,
    s.excess AS asset_excess,
    s.coverage_ratio AS asset_coverage_ratio
FROM x
LEFT JOIN v_positions AS p
    ON x.entity_type = 'position' AND p.as_of_date = x.as_of_date AND p.position_id = x.entity_id
LEFT JOIN accounts AS a
    ON x.entity_type = 'account' AND a.as_of_date = x.as_of_date AND a.account_id = x.entity_id
LEFT JOIN v_account_equity AS e
    ON x.entity_type = 'account' AND e.as_of_date = x.as_of_date AND e.account_id = x.entity_id
   AND e.asset = x.asset
LEFT JOIN v_segregation AS s
    ON x.entity_type = 'asset' AND s.as_of_date = x.as_of_date AND s.asset = x.entity_id
ORDER BY x.entity_id, x.instrument_id NULLS LAST, x.asset NULLS LAST, x.metric, x.message;
