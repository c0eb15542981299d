-- id: SEG-08
-- title: Client accounts in deficit
-- severity: warn
-- regulation: 17 CFR 1.20, 1.32 (debit and deficit accounts: added back, never netted)
-- row: one client account and asset whose equity is negative
--
-- From v_account_equity, client accounts only: equity = cross balance + cross uPnL + the positive
-- part of each isolated position's equity. metric negative_equity: value = the deficit (-equity,
-- positive, asset units), threshold 0. The statement (v_segregation.deficits) carries the totals.
SELECT
    'warn' AS status,
    'account' AS entity_type,
    e.account_id AS entity_id,
    NULL AS instrument_id,
    e.asset AS asset,
    'negative_equity' AS metric,
    -e.equity AS value,
    0 AS threshold,
    format(
        'client account {} (group {}) has negative equity in {}: deficit {} {} (USD {}); cross balance {} '
        || '+ cross uPnL {} + isolated equity {}',
        e.account_id, e.group_id, e.asset, fmt_against(-e.equity, 0, 8), e.asset, fmt_usd(-e.equity_usd),
        fmt_amount(e.balance), fmt_amount(e.cross_upnl), fmt_amount(e.isolated_equity)) AS message
FROM v_account_equity AS e
WHERE e.as_of_date = $as_of
  AND e.account_type = 'client'
  AND e.equity < 0
