-- v_account_equity: each account's equity per asset (DESIGN.md section 4, segregation).
--
-- One row per (as_of_date, account_id, asset) present in balances or as the settle asset of one
-- of the account's positions:
--   balance            the cross wallet (0 when the account has no balance row in that asset)
--   cross_upnl         sum of uPnL of cross positions settled in the asset
--   isolated_equity    sum over isolated positions settled in the asset of max(0, isolated equity):
--                      isolation stops a client's loss at the isolated margin
--   isolated_bad_debt  sum of max(0, -isolated equity): the venue's bad debt, a positive magnitude
--   equity             balance + cross_upnl + isolated_equity (may be negative: a deficit)
--   price, equity_usd  USD price of the asset (v_asset_prices; NULL when unpriced) and equity x price
-- All joins include as_of_date. v_account_equity_computed computes it; v_account_equity reads
-- account_equity_values, where the loader stores it per date. The stored equity_usd is the exact
-- product rounded half-even (reports/derive.py, exact_product: four times faster than dmul);
-- dmul here rounds half-up, so the two can differ by 1e-18 at an exact tie.

CREATE OR REPLACE VIEW v_account_equity_computed AS
WITH position_sums AS (
    SELECT
        p.as_of_date,
        p.account_id,
        p.settle_asset AS asset,
        coalesce(sum(p.unrealized_pnl) FILTER (WHERE p.margin_mode = 'cross'), 0)
            AS cross_upnl,
        coalesce(sum(greatest(p.isolated_equity, 0::DECIMAL(38,18)))
                     FILTER (WHERE p.margin_mode = 'isolated'), 0) AS isolated_equity,
        coalesce(sum(greatest(-p.isolated_equity, 0::DECIMAL(38,18)))
                     FILTER (WHERE p.margin_mode = 'isolated'), 0) AS isolated_bad_debt
    FROM v_positions AS p
    GROUP BY p.as_of_date, p.account_id, p.settle_asset
),
combined AS (
    -- balances joined as they are: the loader keeps (account_id, asset) unique per date (a
    -- GROUP BY that only restated it took 0.1-0.25 s of a 1M-account day's load)
    SELECT
        coalesce(b.as_of_date, p.as_of_date) AS as_of_date,
        coalesce(b.account_id, p.account_id) AS account_id,
        coalesce(b.asset, p.asset) AS asset,
        coalesce(b.balance, 0)::DECIMAL(38,18) AS balance,
        coalesce(p.cross_upnl, 0)::DECIMAL(38,18) AS cross_upnl,
        coalesce(p.isolated_equity, 0)::DECIMAL(38,18) AS isolated_equity,
        coalesce(p.isolated_bad_debt, 0)::DECIMAL(38,18) AS isolated_bad_debt
    FROM balances AS b
    FULL OUTER JOIN position_sums AS p
        ON p.as_of_date = b.as_of_date AND p.account_id = b.account_id AND p.asset = b.asset
)
SELECT
    c.as_of_date,
    c.account_id,
    a.account_type,
    a.group_id,
    c.asset,
    c.balance,
    c.cross_upnl,
    c.isolated_equity,
    c.isolated_bad_debt,
    c.balance + c.cross_upnl + c.isolated_equity AS equity,
    ap.price,
    dmul(c.balance + c.cross_upnl + c.isolated_equity, ap.price) AS equity_usd
FROM combined AS c
LEFT JOIN accounts AS a
    ON a.as_of_date = c.as_of_date AND a.account_id = c.account_id
LEFT JOIN v_asset_prices AS ap
    ON ap.as_of_date = c.as_of_date AND ap.asset = c.asset;

-- Materialised per date at load, like position_values (reports/derive.py), and kept like it.
CREATE TABLE IF NOT EXISTS account_equity_values AS
SELECT * FROM v_account_equity_computed WITH NO DATA;

CREATE OR REPLACE VIEW v_account_equity AS SELECT * FROM account_equity_values;
