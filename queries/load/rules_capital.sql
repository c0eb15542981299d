-- Load rules: capital (DESIGN.md section 3): every required item is present, and the items
-- that are magnitudes are not negative. (The item enum and uniqueness are column and uniqueness
-- rules.) File-level rows: row is NULL.
SELECT 'capital' AS file, CAST(NULL AS BIGINT) AS row_no, 'item' AS column_name, NULL AS value,
       'a row with item ' || r.item || ' (required capital item)' AS expected
FROM (SELECT unnest(getvariable('mir_capital_items_required')) AS item) r
ANTI JOIN staged_capital c USING (item)
UNION ALL
-- the items that are magnitudes (IFR Art. 13 fixed overheads, Art. 43 liquid assets and
-- guarantees provided to clients) are never negative: a negative one would lower FOR and the
-- liquidity requirement below what the rules allow (own-funds items may be negative: a loss)
SELECT 'capital', _row, 'amount', mir_fmt(amount),
       'an amount >= 0 for ' || item || ' (an amount of overheads, liquid assets or guarantees)'
FROM staged_capital
WHERE item IN ('fixed_overheads_annual', 'liquid_assets', 'client_guarantees') AND amount < 0
