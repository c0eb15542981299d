-- Load rules: amounts the checks can sum (DESIGN.md section 4: DECIMAL(38,18) holds 20 integer
-- digits). The valuation bounds the balances, custody, positions and tiers it values (on its
-- error path, queries/load/overflow_rows.sql); the amounts it does not value are bounded here,
-- before anything is written, by what the checks add them to:
--   movements (SEG-04/05/06 roll a previous balance or margin forward by the day's movements
--     and compare with today's, each balance below 1e19): each row below 1e19 at its asset's
--     USD price, the file below 5e19, so previous + movements - today stays below 1e20;
--   volumes (the IFR K-factors average the daily traded notional over up to six months, or
--     over every stored day when none falls in the window): each row and the file below 1e16,
--     so that ten years of days still sum below 1e20;
--   capital (summed within the day): each row below 1e19, the file below 1e20;
--   balances and isolated margins (the other side of those roll-forwards): each row below 1e19
--     at its asset's USD price, at all times (the valuation bounds them only when it
--     overflows; their totals are its business);
--   reported unrealised PnL (SEG-09 compares it with the valuation's, in USD): each row below
--     1e19 at its settle asset's USD price;
--   open interest (CON-01/CON-02 value each instrument's in contracts, underlying units, quote
--     asset and USD, v_open_interest): the longs and the shorts of an instrument each below 1e19
--     in contracts, x contract_size, x mark price (linear) and x quote USD price; named at the
--     instrument's largest position on its larger side, with every factor and its row
--     (fuzzing of 2026-12-05: a contract_size of 1e12 loaded, CON-01/02 then failed and the
--     report stopped with an internal error, exit 4).
-- A file over its total with no row over its row bound is named once, at its largest row.
-- Magnitudes are DOUBLE estimates that only decide a refusal, never a stored value (a magnitude
-- that is the cell itself, exact, is compared exactly: judged). The movements
-- are bounded per asset first (exact min/max and a row count: a tenth of the time of a DOUBLE
-- per row); their rows are read one by one only when that bound is reached.
WITH usd AS (
    -- each asset's USD price as a scale (at least 1); a price from 1e19 is itself named (below)
    -- and scales nothing, so that the price, not every amount in its asset, is the finding
    SELECT symbol AS asset,
           CASE WHEN max(abs(price::DOUBLE)) >= 1e19 THEN 1
                ELSE greatest(max(abs(price::DOUBLE)), 1) END AS usd
    FROM staged_prices WHERE kind = 'asset' GROUP BY symbol
),
movement_assets AS (
    -- the largest |amount| per asset at its USD price, and rows x largest, a bound on its total
    SELECT a.asset, a.largest * coalesce(u.usd, 1) AS largest,
           a.rows * a.largest * coalesce(u.usd, 1) AS total_bound
    FROM (SELECT asset, greatest(max(amount), -min(amount))::DOUBLE AS largest, count(*) AS rows
          FROM staged_movements GROUP BY asset) AS a
    LEFT JOIN usd AS u USING (asset)
),
flagged_assets AS (
    -- the assets whose rows are read one by one: all of them when the bound on the file's
    -- total reaches its limit (the exact total is then summed below), else none (a normal day)
    SELECT a.asset, coalesce(u.usd, 1) AS usd
    FROM movement_assets AS a LEFT JOIN usd AS u USING (asset)
    WHERE a.largest >= 1e19
       OR (SELECT sum(total_bound) FROM movement_assets) >= 5e19
),
largest_usd AS (SELECT coalesce(max(usd), 1) AS usd FROM usd),
rolled_bounds AS (
    -- a bound on every balance and isolated margin at the dearest USD price: when it stays
    -- below 1e19 (a normal day) their rows are not read one by one
    SELECT
        (SELECT greatest(max(balance), -min(balance))::DOUBLE FROM staged_balances) * l.usd
            AS balances,
        (SELECT greatest(max(isolated_margin), -min(isolated_margin))::DOUBLE FROM staged_positions)
            * l.usd AS margins,
        (SELECT greatest(max(reported_unrealized_pnl), -min(reported_unrealized_pnl))::DOUBLE
         FROM staged_positions) * l.usd AS reported_upnl
    FROM largest_usd AS l
),
oi_factors AS (
    -- per instrument with positions: its count and largest |quantity| (exact, no cast per row:
    -- a DECIMAL-to-DOUBLE cast of 2M quantities took 0.3 s of CPU), and the factors that turn
    -- contracts into underlying units (x contract_size), quote asset (x mark, linear only; an
    -- inverse contract is a quote amount) and USD (x the quote asset's USD price); a missing
    -- price (refused by other rules) counts as 1
    SELECT q.instrument_id, q.n, q.largest, abs(i.contract_size::DOUBLE) AS cs,
           i.kind NOT IN ('inverse_perpetual', 'inverse_future') AS is_linear,
           m.price::DOUBLE AS mark, m._row AS mark_row,
           CASE WHEN i.kind IN ('inverse_perpetual', 'inverse_future') THEN 1
                ELSE coalesce(abs(m.price::DOUBLE), 1) END AS m,
           coalesce(abs(qp.price::DOUBLE), 1) AS u, qp._row AS quote_row
    FROM (
        SELECT instrument_id, count(*) AS n,
               greatest(max(quantity), -min(quantity))::DOUBLE AS largest
        FROM staged_positions GROUP BY instrument_id
    ) AS q
    JOIN staged_instruments AS i USING (instrument_id)
    LEFT JOIN staged_prices AS m ON m.kind = 'instrument' AND m.symbol = q.instrument_id
    LEFT JOIN staged_prices AS qp ON qp.kind = 'asset' AND qp.symbol = i.quote_asset
),
oi_sides AS (
    -- longs and shorts in contracts (DOUBLE: the exact sum may itself leave DECIMAL(38,18)),
    -- summed only for an instrument whose bound (count x largest) reaches the limit; none on
    -- a normal day
    SELECT instrument_id,
           coalesce(sum(quantity::DOUBLE) FILTER (WHERE quantity > 0), 0) AS longs,
           coalesce(-sum(quantity::DOUBLE) FILTER (WHERE quantity < 0), 0) AS shorts
    FROM staged_positions
    WHERE instrument_id IN (
        SELECT instrument_id FROM oi_factors
        WHERE n * largest * greatest(1, cs, cs * m, cs * m * u) >= 1e19)
    GROUP BY instrument_id
),
open_interest AS (
    -- the largest of its four figures (contracts, underlying units, quote asset, USD)
    SELECT f.*, greatest(s.longs, s.shorts) AS side,
           CASE WHEN s.longs >= s.shorts THEN 1 ELSE -1 END AS larger,
           greatest(s.longs, s.shorts) * greatest(1, f.cs, f.cs * f.m, f.cs * f.m * f.u)
               AS magnitude
    FROM oi_factors AS f JOIN oi_sides AS s USING (instrument_id)
),
magnitudes AS (
    SELECT 'movements' AS file, m._row AS row_no, 'amount' AS column_name,
           mir_fmt(m.amount) AS value, abs(m.amount::DOUBLE) * f.usd AS magnitude,
           CASE WHEN f.usd = 1 THEN abs(m.amount) END AS exact,
           1e19 AS row_limit, 5e19 AS file_limit, '1e19' AS row_text, '5e19' AS file_text,
           ' in its asset and at its asset''s USD price' AS unit,
           ' in their assets and at their USD prices' AS units
    FROM staged_movements AS m JOIN flagged_assets AS f USING (asset)
    UNION ALL
    SELECT 'volumes', _row, 'traded_notional', mir_fmt(traded_notional),
           abs(traded_notional::DOUBLE), abs(traded_notional), 1e16, 1e16, '1e16', '1e16',
           ' in the reporting currency', ' in the reporting currency'
    FROM staged_volumes
    UNION ALL
    SELECT 'balances', b._row, 'balance', mir_fmt(b.balance),
           abs(b.balance::DOUBLE) * coalesce(u.usd, 1),
           CASE WHEN coalesce(u.usd, 1) = 1 THEN abs(b.balance) END,
           1e19, 'Infinity'::DOUBLE, '1e19', '',
           ' in its asset and at its asset''s USD price', ''
    FROM staged_balances AS b LEFT JOIN usd AS u USING (asset)
    WHERE (SELECT balances FROM rolled_bounds) >= 1e19
    UNION ALL
    SELECT 'positions', p._row, 'isolated_margin', mir_fmt(p.isolated_margin),
           abs(p.isolated_margin::DOUBLE) * coalesce(u.usd, 1),
           CASE WHEN coalesce(u.usd, 1) = 1 THEN abs(p.isolated_margin) END,
           1e19, 'Infinity'::DOUBLE, '1e19', '',
           ' in its settle asset and at that asset''s USD price', ''
    FROM staged_positions AS p
    LEFT JOIN staged_instruments AS i USING (instrument_id)
    LEFT JOIN usd AS u ON u.asset = i.settle_asset
    WHERE p.isolated_margin IS NOT NULL AND (SELECT margins FROM rolled_bounds) >= 1e19
    UNION ALL
    -- SEG-09 subtracts the valuation's uPnL from it and values the difference in USD (load
    -- review of 2026-12-05: a uPnL written in wei loaded and crashed SEG-09, exit 4)
    SELECT 'positions', p._row, 'reported_unrealized_pnl', mir_fmt(p.reported_unrealized_pnl),
           abs(p.reported_unrealized_pnl::DOUBLE) * coalesce(u.usd, 1),
           CASE WHEN coalesce(u.usd, 1) = 1 THEN abs(p.reported_unrealized_pnl) END,
           1e19, 'Infinity'::DOUBLE, '1e19', '',
           ' in its settle asset and at that asset''s USD price', ''
    FROM staged_positions AS p
    LEFT JOIN staged_instruments AS i USING (instrument_id)
    LEFT JOIN usd AS u ON u.asset = i.settle_asset
    WHERE p.reported_unrealized_pnl IS NOT NULL
      AND (SELECT reported_upnl FROM rolled_bounds) >= 1e19
    UNION ALL
    SELECT 'prices', _row, 'price', mir_fmt(price), abs(price::DOUBLE), abs(price), 1e19,
           'Infinity'::DOUBLE, '1e19', '', '', ''
    FROM staged_prices
    UNION ALL
    SELECT 'capital', _row, 'amount', mir_fmt(amount), abs(amount::DOUBLE), abs(amount), 1e19,
           1e20, '1e19', '1e20', ' in the reporting currency', ' in the reporting currency'
    FROM staged_capital
),
judged AS (
    -- over its row's bound: the DOUBLE estimate decides, except where the magnitude is the
    -- cell itself (scale 1), decided exactly: an amount of 9999999999999999999.99 is 1e19 in
    -- DOUBLE and was refused as not "below 1e19 (here about 1e+19)" (numbers audit of
    -- 2026-12-07). The limit via HUGEINT: DuckDB casts the DOUBLE 1e19 to DECIMAL as
    -- 9999999999999999538.76...
    SELECT *,
           magnitude >= row_limit
               AND NOT coalesce(exact < row_limit::HUGEINT::DECIMAL(38,18), false) AS over
    FROM magnitudes
),
files AS (
    SELECT file, sum(magnitude) AS total, max(magnitude) AS largest, bool_or(over) AS any_over,
           any_value(row_limit) AS row_limit, any_value(file_limit) AS file_limit,
           any_value(file_text) AS file_text
    FROM judged GROUP BY file
)
SELECT m.file, m.row_no, m.column_name, m.value,
       CASE WHEN m.file = 'prices' THEN 'a price' ELSE 'an amount' END
       || ' below ' || m.row_text || m.unit || ' (here about '
       || format('{:.3g}', m.magnitude) || '): the checks sum amounts in DECIMAL(38,18), which '
       || 'holds 20 integer digits' AS expected
FROM judged AS m
WHERE m.over
UNION ALL
SELECT m.file, m.row_no, m.column_name, m.value,
       'amounts whose sums fit DECIMAL(38,18) (this file''s ' || m.column_name || ' values below '
       || f.file_text || ' in all): they add up to about '
       || format('{:.3g}', f.total) || m.units || '; this is its largest' AS expected
FROM judged AS m JOIN files AS f USING (file)
WHERE f.total >= f.file_limit AND NOT f.any_over AND m.magnitude = f.largest
QUALIFY row_number() OVER (PARTITION BY m.file ORDER BY m.row_no) = 1
UNION ALL
-- named at the largest position on the larger side (the rows that add up), the message
-- giving each factor and where it is: a product has no single culprit (a contract size of
-- 1e12, a mark of 1e16 or 1e17 contracts all do it)
SELECT 'positions', l._row, 'quantity', mir_fmt(l.quantity),
       'positions with which the open interest of ' || i.instrument_id
       || ' stays below 1e19 in contracts, in '
       || CASE WHEN o.is_linear THEN 'underlying units, in ' ELSE '' END
       || 'its quote asset and in USD (here its largest figure is about '
       || format('{:.3g}', o.magnitude) || ': ' || format('{:.3g}', o.side)
       || ' contracts on its ' || CASE WHEN o.larger > 0 THEN 'long' ELSE 'short' END
       || ' side x contract_size ' || mir_fmt(i.contract_size) || ' (instruments row '
       || i._row || ')'
       || CASE WHEN o.is_linear
               THEN ' x mark price ' || coalesce(mir_fmt(mp.price) || ' (prices row '
                                                 || mp._row || ')', 'none')
               ELSE '' END
       || ' x ' || coalesce(mir_fmt(qp.price) || ' USD per ' || i.quote_asset || ' (prices row '
                            || qp._row || ')', '1 USD per ' || i.quote_asset)
       || '): the concentration checks sum it in DECIMAL(38,18), which holds 20 integer '
       || 'digits; this is its largest position on that side'
FROM open_interest AS o
JOIN staged_instruments AS i USING (instrument_id)
LEFT JOIN staged_prices AS mp ON mp._row = o.mark_row
LEFT JOIN staged_prices AS qp ON qp._row = o.quote_row
JOIN (
    -- read row by row only for an instrument over the bound (none on a normal day)
    SELECT p._row, p.instrument_id, p.quantity, sign(p.quantity) AS side_sign
    FROM staged_positions AS p
    WHERE p.instrument_id IN (SELECT instrument_id FROM open_interest WHERE magnitude >= 1e19)
    QUALIFY row_number() OVER (PARTITION BY p.instrument_id, sign(p.quantity)
                               ORDER BY abs(p.quantity) DESC, p._row) = 1
) AS l ON l.instrument_id = o.instrument_id AND l.side_sign = o.larger
WHERE o.magnitude >= 1e19
