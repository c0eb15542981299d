-- Load rules: a price for every asset held (DESIGN.md section 3).
-- Each row = one broken rule: (file, row_no, column_name, value, expected).
-- Assets held: balances, custody, movements, and the settle and quote assets of instruments with
-- positions. Each needs a kind=asset price, except the reporting currency (price 1 when absent).
-- A price row of the reporting currency itself must be 1: a price of an asset IN the reporting
-- currency, any other value would scale every USD figure.
-- (price > 0, finite, is a column rule; instrument mark prices are checked in rules_positions.sql.)
WITH priced AS (
    SELECT symbol AS asset FROM staged_prices WHERE kind = 'asset'
    UNION
    SELECT getvariable('mir_reporting_currency')
),
position_assets AS (
    SELECT p._row, p.instrument_id, i.settle_asset AS asset, 'settle' AS role
    FROM staged_positions p JOIN staged_instruments i USING (instrument_id)
    UNION ALL
    SELECT p._row, p.instrument_id, i.quote_asset, 'quote'
    FROM staged_positions p JOIN staged_instruments i USING (instrument_id)
    WHERE i.quote_asset <> i.settle_asset
)
SELECT 'balances' AS file, b._row AS row_no, 'asset' AS column_name, b.asset AS value,
       'an asset price in prices (kind=asset, symbol=' || b.asset || ')' AS expected
FROM staged_balances b ANTI JOIN priced USING (asset)
UNION ALL
SELECT 'custody', c._row, 'asset', c.asset, 'an asset price in prices (kind=asset, symbol=' || c.asset || ')'
FROM staged_custody c ANTI JOIN priced USING (asset)
UNION ALL
SELECT 'movements', m._row, 'asset', m.asset, 'an asset price in prices (kind=asset, symbol=' || m.asset || ')'
FROM staged_movements m ANTI JOIN priced USING (asset)
UNION ALL
SELECT 'positions', pa._row, 'instrument_id', pa.instrument_id,
       'an asset price in prices (kind=asset, symbol=' || pa.asset || ', the ' || pa.role
       || ' asset of ' || pa.instrument_id || ')'
FROM position_assets pa ANTI JOIN priced USING (asset)
UNION ALL
SELECT 'prices', pr._row, 'price', mir_fmt(pr.price),
       '1: the price of the reporting currency ' || pr.symbol || ' in itself'
FROM staged_prices pr
WHERE pr.kind = 'asset' AND pr.symbol = getvariable('mir_reporting_currency') AND pr.price <> 1
