-- Load rules: amounts the checks can sum (DESIGN.md section 4: DECIMAL(38,18) holds 20 integer
-- digits). The valuation bounds the balances, custody, positions and tiers it values (on its
-- error path, queries/load/overflow_rows.sql); the amounts it does not value are bounded here,
-- the same way, so that the checks summing them (SEG-04/05/06 the movements, the IFR K-factors
-- the volumes, CAP-01..03 the capital items) cannot overflow on a day that loaded:
--   each row's magnitude below 1e19: |amount| x max(1, USD price of its asset) for movements,
--     |traded_notional| and |amount| for volumes and capital (already in the reporting currency);
--   each file's total magnitude below 1e20 (two rows from 1e19 already sum beyond it); a file
--     over it with no row over 1e19 is named once, at its largest row.
-- Magnitudes are DOUBLE estimates that only decide a refusal, never a stored value. The movements
-- are aggregated per asset first: the row scan runs only for an asset over the bound.
WITH usd AS (
    SELECT symbol AS asset, greatest(max(abs(price::DOUBLE)), 1) AS usd
    FROM staged_prices WHERE kind = 'asset' GROUP BY symbol
),
movement_assets AS (
    -- the largest |amount| per asset (exact min/max: a tenth of the time of a DOUBLE per row),
    -- and rows x largest, a bound on the asset's total
    SELECT a.asset, a.largest * coalesce(u.usd, 1) AS largest,
           a.rows * a.largest * coalesce(u.usd, 1) AS total_bound
    FROM (SELECT asset, greatest(max(amount), -min(amount))::DOUBLE AS largest, count(*) AS rows
          FROM staged_movements GROUP BY asset) AS a
    LEFT JOIN usd AS u USING (asset)
),
flagged_assets AS (
    -- the assets whose rows are read one by one: all of them when the bound on the file's
    -- total reaches 1e20 (the exact total is then summed below), else none (a normal day)
    SELECT a.asset, coalesce(u.usd, 1) AS usd
    FROM movement_assets AS a LEFT JOIN usd AS u USING (asset)
    WHERE a.largest >= 1e19
       OR (SELECT sum(total_bound) FROM movement_assets) >= 1e20
),
magnitudes AS (
    SELECT 'movements' AS file, m._row AS row_no, 'amount' AS column_name,
           mir_fmt(m.amount) AS value, abs(m.amount::DOUBLE) * f.usd AS magnitude,
           ' in its asset and at its asset''s USD price' AS unit
    FROM staged_movements AS m JOIN flagged_assets AS f USING (asset)
    UNION ALL
    SELECT 'volumes', _row, 'traded_notional', mir_fmt(traded_notional),
           abs(traded_notional::DOUBLE), ' in the reporting currency'
    FROM staged_volumes
    UNION ALL
    SELECT 'capital', _row, 'amount', mir_fmt(amount), abs(amount::DOUBLE), ' in the reporting currency'
    FROM staged_capital
),
files AS (
    SELECT file, sum(magnitude) AS total, max(magnitude) AS largest FROM magnitudes GROUP BY file
)
SELECT m.file, m.row_no, m.column_name, m.value,
       'an amount below 1e19' || m.unit || ' (here about ' || format('{:.3g}', m.magnitude)
       || '): the checks sum amounts in DECIMAL(38,18), which holds 20 integer digits' AS expected
FROM magnitudes AS m
WHERE m.magnitude >= 1e19
UNION ALL
SELECT m.file, m.row_no, m.column_name, m.value,
       'amounts whose sums fit DECIMAL(38,18) (below 1e20): this file''s ' || m.column_name
       || ' values add up to about ' || format('{:.3g}', f.total)
       || CASE WHEN m.file = 'movements' THEN ' in their assets and at their USD prices'
               ELSE m.unit END
       || '; this is its largest' AS expected
FROM magnitudes AS m JOIN files AS f USING (file)
WHERE f.total >= 1e20 AND f.largest < 1e19 AND m.magnitude = f.largest
QUALIFY row_number() OVER (PARTITION BY m.file ORDER BY m.row_no) = 1
