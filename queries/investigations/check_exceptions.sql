-- description: The exceptions of one check (latest run of the day) with the rows they point at (position, account or asset figures).
-- param: check_id text (required): e.g. SEG-07
-- param: as_of date (optional): the as-of date [default: the latest day with a run]
WITH day AS (
    SELECT coalesce($as_of::DATE, max(as_of_date)) AS as_of_date FROM check_results
),
run AS (
    SELECT arg_max(r.run_id, r.checked_at) AS run_id, any_value(r.as_of_date) AS as_of_date
    FROM check_results AS r JOIN day USING (as_of_date)
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
    e.equity AS account_equity
FROM check_exceptions AS x
JOIN run ON x.run_id = run.run_id AND x.as_of_date = run.as_of_date
LEFT JOIN v_positions AS p
    ON x.entity_type = 'position' AND p.as_of_date = x.as_of_date AND p.position_id = x.entity_id
LEFT JOIN accounts AS a
    ON x.entity_type = 'account' AND a.as_of_date = x.as_of_date AND a.account_id = x.entity_id
LEFT JOIN v_account_equity AS e
    ON x.entity_type = 'account' AND e.as_of_date = x.as_of_date AND e.account_id = x.entity_id
   AND e.asset = x.asset
WHERE x.check_id = $check_id
ORDER BY x.entity_id, x.instrument_id, x.asset;
