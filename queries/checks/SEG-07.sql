-- id: SEG-07
-- title: Isolated positions past liquidation
-- severity: breach
-- regulation: isolation as a loss limit: a position at or below maintenance margin must be liquidated (venue rulebook; 17 CFR 1.20 adapted)
-- row: one open isolated position whose equity is at or below maintenance margin (missed liquidation) or negative (bad debt)
--
-- Open isolated positions at today's close (every account type), from v_positions:
--   0 <= isolated_equity <= maintenance_margin  -> metric missed_liquidation, value = isolated
--       equity, threshold = maintenance margin (settle asset)
--   isolated_equity < 0                          -> metric bad_debt, value = the deficit
--       (-isolated equity, positive, settle asset), threshold 0
-- A position beyond the last tier's finite cap stays in the last tier (reports/valuation.py).
SELECT
    'breach' AS status,
    'position' AS entity_type,
    p.position_id AS entity_id,
    p.instrument_id AS instrument_id,
    p.settle_asset AS asset,
    CASE WHEN p.isolated_equity < 0 THEN 'bad_debt' ELSE 'missed_liquidation' END AS metric,
    CASE WHEN p.isolated_equity < 0 THEN -p.isolated_equity ELSE p.isolated_equity END AS value,
    CASE WHEN p.isolated_equity < 0 THEN 0 ELSE p.maintenance_margin END AS threshold,
    CASE
        WHEN p.isolated_equity < 0 THEN format(
            'isolated position of account {} ({}) is under water: equity {} {} (margin {} + uPnL {}), '
            || 'bad debt {} {} (USD {}); mark {}, entry {}, bankruptcy price {}, liquidation price {}',
            p.account_id, p.account_type, fmt_against(p.isolated_equity, 0, 8), p.settle_asset,
            fmt_amount(p.isolated_margin), fmt_amount(p.unrealized_pnl),
            fmt_against(-p.isolated_equity, 0, 8), p.settle_asset, fmt_usd(dmul(-p.isolated_equity, p.settle_price)),
            fmt_amount(p.mark_price), fmt_amount(p.entry_price), fmt_amount(p.bankruptcy_price),
            fmt_amount(p.liquidation_price))
        ELSE format(
            'isolated position of account {} ({}) was not liquidated: equity {} {} (USD {}; margin {} + '
            || 'uPnL {}) is at or below maintenance margin {} {} (USD {}); mark {}, liquidation price {}',
            p.account_id, p.account_type, fmt_against(p.isolated_equity, p.maintenance_margin, 8),
            p.settle_asset, fmt_usd(dmul(p.isolated_equity, p.settle_price)), fmt_amount(p.isolated_margin),
            fmt_amount(p.unrealized_pnl), fmt_against(p.maintenance_margin, p.isolated_equity, 8), p.settle_asset,
            fmt_usd(dmul(p.maintenance_margin, p.settle_price)), fmt_amount(p.mark_price),
            fmt_amount(p.liquidation_price))
    END AS message
FROM v_positions AS p
WHERE p.as_of_date = $as_of
  AND p.margin_mode = 'isolated'
  AND (p.isolated_equity < 0 OR p.isolated_equity <= p.maintenance_margin)
