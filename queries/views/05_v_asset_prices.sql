-- v_asset_prices: the price of each asset in the reporting currency, per as_of_date.
--
-- Rows of prices with kind = 'asset', plus USD at exactly 1 on every date that has prices or a
-- recorded load but no USD row of its own (DESIGN.md section 3: the reporting currency has
-- price 1 when absent). Stablecoins are NOT assumed to be 1 (section 4): they need a price row.
--
-- Only USD is supported as the reporting currency by the views for now: [firm]
-- reporting_currency in mir.toml does not change this view. A venue reporting in another
-- currency must ship that currency's own row at price 1 (and USD at its real price).

CREATE OR REPLACE VIEW v_asset_prices AS
SELECT p.as_of_date, p.symbol AS asset, p.price
FROM prices AS p
WHERE p.kind = 'asset'
UNION ALL
SELECT d.as_of_date, 'USD' AS asset, 1::DECIMAL(38,18) AS price
FROM (
    -- prices and loads are small (one row per symbol / file per day): cheap to list dates from.
    SELECT as_of_date FROM prices
    UNION
    SELECT as_of_date FROM loads
) AS d
WHERE NOT EXISTS (
    SELECT 1
    FROM prices AS u
    WHERE u.as_of_date = d.as_of_date AND u.kind = 'asset' AND u.symbol = 'USD'
);
