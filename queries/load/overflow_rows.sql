-- Error path of the load only (reports/load/loader.py): the day's valuation or a computed tier
-- amount left DECIMAL(38,18)'s 20 integer digits (DuckDB raised instead of wrapping). Which rows
-- are too large to value? Each amount's magnitude is estimated in DOUBLE (an estimate that names
-- rows, never a stored value): |amount| x max(1, USD price of its asset) -- the amount itself and
-- its USD value are both summed and multiplied by the views -- and, for a tier, the larger of
-- |notional_floor| x max(1, |maintenance_margin_rate|) and the next tier's floor x |rate|, the
-- terms of the maintenance-amount recursion the rate is part of.
-- Rows from $limit (1e19: two such rows already sum beyond 1e20), the first $shown of each file
-- by row, are returned with (file, row_no, column_name, value, magnitude, large) and the file's
-- count of them; a file without such a row comes back as its largest row with the file's total
-- magnitude, so that the loader can name the files whose amounts add up to 1e20 or more.
WITH asset_usd AS (
    SELECT symbol AS asset, max(abs(price::DOUBLE)) AS usd
    FROM staged_prices WHERE kind = 'asset' GROUP BY symbol
),
amounts AS (
    SELECT 'balances' AS file, b._row AS row_no, 'balance' AS column_name,
           mir_fmt(b.balance) AS value,
           abs(b.balance::DOUBLE) * greatest(coalesce(u.usd, 1), 1) AS magnitude,
           CASE WHEN greatest(coalesce(u.usd, 1), 1) = 1 THEN abs(b.balance) END AS exact
    FROM staged_balances AS b LEFT JOIN asset_usd AS u USING (asset)
    UNION ALL
    SELECT 'custody', c._row, 'balance', mir_fmt(c.balance),
           abs(c.balance::DOUBLE) * greatest(coalesce(u.usd, 1), 1),
           CASE WHEN greatest(coalesce(u.usd, 1), 1) = 1 THEN abs(c.balance) END
    FROM staged_custody AS c LEFT JOIN asset_usd AS u USING (asset)
    UNION ALL
    SELECT 'positions', p._row, 'isolated_margin', mir_fmt(p.isolated_margin),
           abs(p.isolated_margin::DOUBLE) * greatest(coalesce(u.usd, 1), 1),
           CASE WHEN greatest(coalesce(u.usd, 1), 1) = 1 THEN abs(p.isolated_margin) END
    FROM staged_positions AS p
    LEFT JOIN staged_instruments AS i USING (instrument_id)
    LEFT JOIN asset_usd AS u ON u.asset = i.settle_asset
    WHERE p.isolated_margin IS NOT NULL
    UNION ALL
    SELECT 'prices', _row, 'price', mir_fmt(price), abs(price::DOUBLE), abs(price)
    FROM staged_prices
    UNION ALL
    -- a rate meets two floors: its own tier's (a position's margin there) and, times the rate
    -- itself, the next tier's (the next term floor_(n+1) x (mmr_(n+1) - mmr_n)): a large rate
    -- on a first tier, whose floor is 0, overflowed the second tier's computed amount unnamed
    -- (exit 4; fuzzing of 2026-12-05), and a small rate before a large floor is innocent
    SELECT 'risk_tiers', _row, 'maintenance_margin_rate', mir_fmt(maintenance_margin_rate),
           greatest(abs(notional_floor::DOUBLE)
                    * greatest(abs(maintenance_margin_rate::DOUBLE), 1),
                    coalesce(abs(lead(notional_floor) OVER (PARTITION BY instrument_id
                                                            ORDER BY tier)::DOUBLE), 0)
                    * abs(maintenance_margin_rate::DOUBLE)),
           NULL
    FROM staged_risk_tiers
    UNION ALL
    SELECT 'risk_tiers', _row, 'maintenance_amount', mir_fmt(maintenance_amount),
           abs(maintenance_amount::DOUBLE), abs(maintenance_amount)
    FROM staged_risk_tiers WHERE maintenance_amount IS NOT NULL
),
judged AS (
    -- from $limit: the DOUBLE estimate decides, except where the magnitude is the cell itself
    -- (exact), decided exactly: eleven custody balances of 9999999999999999999.99 USDT were each
    -- named as not "below 1e19 (here about 1e+19)", not as a file adding up beyond 1e20
    -- (numbers audit of 2026-12-07). $limit via HUGEINT: DuckDB casts the DOUBLE 1e19 to
    -- DECIMAL as 9999999999999999538.76...
    SELECT *,
           magnitude >= $limit
               AND NOT coalesce(exact < $limit::HUGEINT::DECIMAL(38,18), false) AS large
    FROM amounts
)
SELECT file, row_no, column_name, value, magnitude, large,
       count(*) FILTER (WHERE large) OVER (PARTITION BY file) AS large_rows,
       sum(magnitude) OVER (PARTITION BY file) AS file_magnitude
FROM judged
QUALIFY (large AND row_number() OVER (PARTITION BY file, large ORDER BY row_no) <= $shown)
     OR (NOT bool_or(large) OVER (PARTITION BY file)
         AND row_number() OVER (PARTITION BY file ORDER BY magnitude DESC) = 1)
ORDER BY file, row_no
