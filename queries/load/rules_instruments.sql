-- Load rules: instruments (DESIGN.md section 3).
-- Each row = one broken rule: (file, row_no, column_name, value, expected). Reads staged_instruments.
-- linear: settle_asset = quote_asset; inverse: settle_asset = underlying; futures need expiry.
-- (contract_size > 0 and the kind enum are column rules.)
SELECT 'instruments' AS file, _row AS row_no, 'settle_asset' AS column_name, settle_asset AS value,
       'settle_asset = quote_asset (' || quote_asset || ') for a linear instrument' AS expected
FROM staged_instruments
WHERE kind IN ('linear_perpetual', 'linear_future') AND settle_asset <> quote_asset
UNION ALL
SELECT 'instruments', _row, 'settle_asset', settle_asset,
       'settle_asset = underlying (' || underlying || ') for an inverse instrument'
FROM staged_instruments
WHERE kind IN ('inverse_perpetual', 'inverse_future') AND settle_asset <> underlying
UNION ALL
SELECT 'instruments', _row, 'expiry', NULL, 'an expiry date for a future (' || kind || ')'
FROM staged_instruments
WHERE kind IN ('linear_future', 'inverse_future') AND expiry IS NULL
