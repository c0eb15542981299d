-- Stress and VaR inputs: today's USD price of every asset (v_asset_prices adds USD = 1).
SELECT ap.asset, ap.price
FROM v_asset_prices AS ap
WHERE ap.as_of_date = $as_of
ORDER BY ap.asset;
