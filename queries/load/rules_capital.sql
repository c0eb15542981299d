-- Load rules: capital (DESIGN.md section 3): every required item is present.
-- (The item enum and uniqueness are column and uniqueness rules.) File-level rows: row is NULL.
SELECT 'capital' AS file, CAST(NULL AS BIGINT) AS row_no, 'item' AS column_name, NULL AS value,
       'a row with item ' || r.item || ' (required capital item)' AS expected
FROM (SELECT unnest(getvariable('mir_capital_items_required')) AS item) r
ANTI JOIN staged_capital c USING (item)
