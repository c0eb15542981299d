-- id: SEG-04
-- title: Cross-wallet roll-forward
-- severity: breach
-- regulation: 17 CFR 1.32 (daily computation), books and records reconciliation
-- row: one account and asset whose cross wallet does not roll forward from the previous close
-- requires: previous_day
--
-- previous balance ($prev_as_of, 0 when absent) + today's movements with position_id NULL
-- = today's balance (0 when absent), within [segregation] rollforward_tolerance (|difference| >
-- tolerance is a breach; the default 0 demands exactness). Every account type: the ledger must
-- roll forward for house and insurance-fund accounts too. metric rollforward_difference:
-- value = reported - expected (signed, asset units), threshold = the tolerance.
-- One aggregation over the three sources (previous close, today's cross movements, today's
-- close), keyed by (account, asset): no union of keys and three joins over a million wallets.
WITH rolled AS (
    SELECT
        x.account_id,
        x.asset,
        sum(x.previous_balance)::DECIMAL(38,18) AS previous_balance,
        coalesce(sum(x.movement), 0)::DECIMAL(38,18) AS movement_total,  -- no movement: 0
        count(x.movement) AS movements,
        sum(x.reported_balance)::DECIMAL(38,18) AS reported_balance
    FROM (
        SELECT account_id, asset, balance AS previous_balance, NULL::DECIMAL(38,18) AS movement,
               0::DECIMAL(38,18) AS reported_balance
        FROM balances
        WHERE as_of_date = $prev_as_of
        UNION ALL
        SELECT account_id, asset, 0, amount, 0
        FROM movements
        WHERE as_of_date = $as_of AND position_id IS NULL
        UNION ALL
        SELECT account_id, asset, 0, NULL, balance
        FROM balances
        WHERE as_of_date = $as_of
    ) AS x
    GROUP BY x.account_id, x.asset
)
SELECT
    'breach' AS status,
    'account' AS entity_type,
    r.account_id AS entity_id,
    NULL AS instrument_id,
    r.asset AS asset,
    'rollforward_difference' AS metric,
    r.reported_balance - (r.previous_balance + r.movement_total) AS value,
    $segregation_rollforward_tolerance AS threshold,
    format(
        'cross wallet of account {} ({}) in {}: previous close ({}) {} + {} movement(s) {} = expected {}, '
        || 'reported {}: difference {} {} (USD {}), tolerance {}',
        r.account_id, coalesce(a.account_type, 'unknown account'), r.asset,
        $prev_as_of::VARCHAR, fmt_amount(r.previous_balance), r.movements, fmt_amount(r.movement_total),
        fmt_amount(r.previous_balance + r.movement_total), fmt_amount(r.reported_balance),
        fmt_against(r.reported_balance - (r.previous_balance + r.movement_total),
                    $segregation_rollforward_tolerance, 8), r.asset,
        -- the USD figure only where it fits DECIMAL(38,18): a balance bounded at the previous
        -- day's price can leave it at today's (the difference itself is exact)
        CASE WHEN coalesce(abs((r.reported_balance - (r.previous_balance + r.movement_total))::DOUBLE * ap.price::DOUBLE) < 9e19, true)
             THEN fmt_usd(dmul(r.reported_balance - (r.previous_balance + r.movement_total), ap.price)) ELSE 'beyond 9e19' END,
        fmt_against($segregation_rollforward_tolerance,
                    r.reported_balance - (r.previous_balance + r.movement_total), 8)) AS message
FROM rolled AS r
LEFT JOIN accounts AS a ON a.as_of_date = $as_of AND a.account_id = r.account_id
LEFT JOIN v_asset_prices AS ap ON ap.as_of_date = $as_of AND ap.asset = r.asset
WHERE abs(r.reported_balance - (r.previous_balance + r.movement_total)) > $segregation_rollforward_tolerance
