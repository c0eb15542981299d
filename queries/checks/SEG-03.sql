-- id: SEG-03
-- title: Isolated margin allocations
-- severity: breach
-- regulation: client asset protection: isolated margin is the client's designated loss limit (17 CFR 1.20 adapted)
-- row: one position with a negative isolated margin, an isolated position without margin, or a cross position carrying isolated margin
--
-- Every account type (an allocation error is a ledger defect whoever owns the position).
-- metrics: negative_isolated_margin (value = the margin, < 0), no_isolated_margin (isolated,
-- margin 0 or missing; value 0), cross_position_with_margin (value = the margin). threshold 0.
-- Reads the positions table, not v_positions: no valuation is needed and the view is costly to plan.
WITH day_positions AS (
    SELECT
        p.position_id, p.account_id, a.account_type, p.instrument_id, i.settle_asset,
        p.margin_mode, p.quantity, p.entry_price, p.isolated_margin, ap.price AS settle_price
    FROM positions AS p
    LEFT JOIN accounts AS a ON a.as_of_date = p.as_of_date AND a.account_id = p.account_id
    LEFT JOIN instruments AS i ON i.as_of_date = p.as_of_date AND i.instrument_id = p.instrument_id
    LEFT JOIN v_asset_prices AS ap ON ap.as_of_date = p.as_of_date AND ap.asset = i.settle_asset
    WHERE p.as_of_date = $as_of
)
SELECT
    'breach' AS status,
    'position' AS entity_type,
    p.position_id AS entity_id,
    p.instrument_id AS instrument_id,
    p.settle_asset AS asset,
    CASE
        WHEN p.margin_mode = 'cross' THEN 'cross_position_with_margin'
        WHEN p.isolated_margin < 0 THEN 'negative_isolated_margin'
        ELSE 'no_isolated_margin'
    END AS metric,
    coalesce(p.isolated_margin, 0) AS value,
    0 AS threshold,
    CASE
        WHEN p.margin_mode = 'cross' THEN format(
            'cross position of account {} ({}) carries isolated margin {} {} (USD {}): '
            || 'a cross position has no isolated bucket; quantity {}, entry {}',
            p.account_id, p.account_type, fmt_against(p.isolated_margin, 0, 8), p.settle_asset,
            fmt_usd(dmul(p.isolated_margin, p.settle_price)), fmt_amount(p.quantity),
            fmt_amount(p.entry_price))
        WHEN p.isolated_margin < 0 THEN format(
            'isolated position of account {} ({}) has negative isolated margin {} {} (USD {}); '
            || 'quantity {}, entry {}',
            p.account_id, p.account_type, fmt_against(p.isolated_margin, 0, 8), p.settle_asset,
            fmt_usd(dmul(p.isolated_margin, p.settle_price)), fmt_amount(p.quantity),
            fmt_amount(p.entry_price))
        ELSE format(
            'isolated position of account {} ({}) has no isolated margin (0 {}); quantity {}, entry {}',
            p.account_id, p.account_type, p.settle_asset, fmt_amount(p.quantity),
            fmt_amount(p.entry_price))
    END AS message
FROM day_positions AS p
WHERE (p.margin_mode = 'isolated' AND coalesce(p.isolated_margin, 0) <= 0)
   OR (p.margin_mode = 'cross' AND coalesce(p.isolated_margin, 0) <> 0)
