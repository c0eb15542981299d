-- VaR inputs: one USD price per (date, asset) for every date up to $as_of.
--
-- Sources: the asset prices of the stored snapshots (v_asset_prices; date = as_of_date) and the
-- back-filled price_history rows. Only what was known on $as_of is used (rows brought by
-- snapshots dated after $as_of are ignored), so a report for a past date does not change when
-- later days are loaded. When both give a price for the same date and asset the snapshot
-- price wins; among price_history rows for the same (date, asset) the latest-loaded one wins.
WITH snapshot_prices AS (
    SELECT ap.as_of_date AS date, ap.asset, ap.price, 0 AS source_rank, ap.as_of_date AS loaded_on
    FROM v_asset_prices AS ap
    WHERE ap.as_of_date <= $as_of
),
history_prices AS (
    SELECT h.date, h.asset, h.price, 1 AS source_rank, h.as_of_date AS loaded_on
    FROM price_history AS h
    WHERE h.as_of_date <= $as_of AND h.date <= $as_of
),
candidates AS (
    SELECT * FROM snapshot_prices
    UNION ALL
    SELECT * FROM history_prices
)
SELECT c.date, c.asset, c.price
FROM candidates AS c
QUALIFY row_number() OVER (
    PARTITION BY c.date, c.asset ORDER BY c.source_rank, c.loaded_on DESC, c.price
) = 1
ORDER BY c.date, c.asset;
