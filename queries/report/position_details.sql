-- Position details for the isolated-margin integrity section of the report: the positions named
-- by SEG-03/05/06/07 exceptions ($position_ids, at most the report's first N), as of the day.
-- A position closed during the day (SEG-05, SEG-06) has no row.
SELECT
    p.position_id,
    p.account_id,
    p.instrument_id,
    p.margin_mode,
    p.quantity,
    p.settle_asset,
    p.isolated_margin,
    p.unrealized_pnl,
    p.isolated_equity,
    p.maintenance_margin,
    p.mark_price,
    p.liquidation_price
FROM v_positions AS p
WHERE p.as_of_date = $as_of
  AND p.position_id IN (SELECT unnest($position_ids::VARCHAR[]))
ORDER BY p.position_id;
