-- id: SEG-09
-- title: Exchange-reported unrealized PnL differs from the recomputed value
-- severity: warn
-- regulation: books and records accuracy (valuation of open positions, 17 CFR 1.32(b) mark to market)
-- row: one position whose reported_unrealized_pnl differs from the recomputed uPnL beyond tolerance
--
-- Every position with a non-null reported_unrealized_pnl: warn when |reported - recomputed| >
-- [segregation] reported_pnl_tolerance x notional (settle asset; a tolerance, so equal passes).
-- metric reported_upnl_difference: value = reported - recomputed (signed, settle asset),
-- threshold = tolerance x notional.
SELECT
    'warn' AS status,
    'position' AS entity_type,
    p.position_id AS entity_id,
    p.instrument_id AS instrument_id,
    p.settle_asset AS asset,
    'reported_upnl_difference' AS metric,
    p.reported_unrealized_pnl - p.unrealized_pnl AS value,
    dmul($segregation_reported_pnl_tolerance, p.notional) AS threshold,
    format(
        'position of account {} ({}, {}): reported uPnL {} {} vs recomputed {} {} (mark {}, entry {}, '
        || 'quantity {}): difference {} {} (USD {}), tolerance {} {} ({} of notional {})',
        p.account_id, p.account_type, p.margin_mode,
        fmt_amount(p.reported_unrealized_pnl), p.settle_asset, fmt_amount(p.unrealized_pnl), p.settle_asset,
        fmt_amount(p.mark_price), fmt_amount(p.entry_price), fmt_amount(p.quantity),
        fmt_against(p.reported_unrealized_pnl - p.unrealized_pnl,
                    dmul($segregation_reported_pnl_tolerance, p.notional), 8), p.settle_asset,
        fmt_usd(dmul(p.reported_unrealized_pnl - p.unrealized_pnl, p.settle_price)),
        fmt_against(dmul($segregation_reported_pnl_tolerance, p.notional),
                    p.reported_unrealized_pnl - p.unrealized_pnl, 8), p.settle_asset,
        fmt_amount($segregation_reported_pnl_tolerance), fmt_amount(p.notional)) AS message
FROM v_positions AS p
WHERE p.as_of_date = $as_of
  AND p.reported_unrealized_pnl IS NOT NULL
  AND p.notional IS NOT NULL
  -- implied by the test below (the tolerance is >= 0), but a plain comparison: the exact
  -- product is computed only for the positions whose reported uPnL differs at all
  AND p.reported_unrealized_pnl <> p.unrealized_pnl
  AND abs(p.reported_unrealized_pnl - p.unrealized_pnl) > dmul($segregation_reported_pnl_tolerance, p.notional)
