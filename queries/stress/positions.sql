-- Stress and VaR inputs: every open position of $as_of with today's valuation (v_positions).
-- Of the account types in $account_types: the stress engine reads every type (and keeps client
-- accounts), VaR reads house and insurance fund only.
SELECT
    p.position_id,
    p.account_id,
    p.account_type,
    p.group_id,
    p.instrument_id,
    p.is_inverse,
    p.margin_mode,
    p.side,
    p.base_quantity,
    p.entry_price,
    p.mark_price,
    p.underlying,
    p.quote_asset,
    p.settle_asset,
    p.settle_price,
    p.isolated_margin,
    p.notional_usd,
    p.unrealized_pnl_usd
FROM v_positions AS p
WHERE p.as_of_date = $as_of AND list_contains($account_types, p.account_type);
-- No ORDER BY: sorting 2M rows by a string key took 0.7 s at 1M accounts, and nothing depends
-- on the order (exact Decimal sums; every result is sorted by its own keys).
