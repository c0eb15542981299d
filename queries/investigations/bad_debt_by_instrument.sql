-- description: Isolated bad debt (open isolated positions with negative equity) per day and instrument, in the settle asset and USD.
-- param: from date (optional): first as-of date
-- param: to date (optional): last as-of date
SELECT
    as_of_date,
    instrument_id,
    settle_asset,
    count(*) AS positions,
    sum(-isolated_equity) AS bad_debt,
    sum(dmul(-isolated_equity, settle_price)) AS bad_debt_usd
FROM v_positions
WHERE margin_mode = 'isolated' AND isolated_equity < 0
  AND ($from::DATE IS NULL OR as_of_date >= $from::DATE)
  AND ($to::DATE IS NULL OR as_of_date <= $to::DATE)
GROUP BY ALL
ORDER BY as_of_date, instrument_id;
