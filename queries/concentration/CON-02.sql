-- id: CON-02
-- title: Herfindahl-Hirschman index of an instrument's open positions by holder
-- severity: warn
-- regulation: HHI (US DoJ/FTC horizontal merger guidelines scale 0-10,000), applied to open positions; DESIGN.md section 5
-- row: one instrument's HHI (metric hhi; status warn = an exception) and its number of holders
--
-- Metric rows for concentration.csv; the CON-02 check keeps the hhi rows with status warn.
--   holder     a client's group (accounts.group_id); each house account and each insurance-fund
--              account is a holder of its own ("each house account its own group").
--   gross(h)   sum of |quantity| of the holder's positions in the instrument (contracts).
--   HHI        10,000 x sum over holders of (gross(h) / sum of gross)^2, range 0-10,000.
--              Computed in DECIMAL (each share exact to 18 dp, then squared to 18 dp), not in
--              float: a float sum's order is not fixed under parallel aggregation, and the
--              CSVs must be byte-identical across runs.
--   exemption  the OI floor of CON-01 (OI = long contracts of all accounts, in USD; unpriced
--              OI is not exempt).
--   status     warn at HHI >= $concentration_hhi_warn, up to the rounding of the shares: a
--              share rounded to 18 dp is off by e <= 1e-18 x (2 + 1/total) (ddiv; a total
--              below 1 is first scaled by a power of ten into [1, 10)), its square
--              by 5e-19 + 2 x share x e + e^2, so the HHI of n holders by at most
--              tolerance = 10,000 x (n x (5e-19 + e^2) + 2 e) + 1e-18. An HHI within it below the
--              threshold counts as at it: an exact 1,800 (gross 8, 7, 4, 4, 3, 2, 2 of 30) sums
--              to 1799.99999999999999 from its sevenths and fifteenths. The tolerance (a float
--              estimate, rounded up) only decides the grade; the value shown is the HHI.
WITH instrument AS (
    -- OI and its USD value from v_open_interest (queries/views/40_v_open_interest.sql)
    SELECT
        o.instrument_id,
        o.open_interest AS oi,
        o.open_interest_usd AS oi_usd,
        coalesce(o.open_interest_usd < $concentration_oi_floor, false) AS exempt
    FROM v_open_interest AS o
    WHERE o.as_of_date = $as_of
),
holder AS (
    -- a client group, or a house / insurance-fund account on its own (v_position_holders'
    -- holder, without building its text for 2M positions: only the top holder's is shown)
    SELECT
        p.instrument_id,
        p.account_type = 'client' AS is_group,
        CASE WHEN p.account_type = 'client' THEN p.group_id ELSE p.account_id END AS holder_key,
        any_value(p.account_type) AS account_type,
        sum(abs(p.quantity)) AS gross_quantity
    FROM v_positions AS p
    WHERE p.as_of_date = $as_of
    GROUP BY ALL
),
instrument_gross AS (
    -- scale: a power of ten taking a total below 1 to [1, 10), exactly (a decimal shift), so
    -- that the shares' quotients keep ddiv's error near 1e-18 (below 1 it grows as 1/total)
    SELECT
        g.instrument_id,
        g.total_gross,
        CASE WHEN g.total_gross > 0 AND g.total_gross < 1
             THEN pow(10, ceil(-log10(g.total_gross::DOUBLE)))::DECIMAL(38,0)
             ELSE 1::DECIMAL(38,0) END AS scale
    FROM (SELECT h.instrument_id, sum(h.gross_quantity) AS total_gross
          FROM holder AS h GROUP BY ALL) AS g
),
-- the scaled amounts as columns, computed once: ddiv and dmul are macros, which repeat their
-- operands, so ddiv(dmul(..), dmul(..)) evaluated each product three times per holder (README,
-- Performance); a scale of 1 leaves an amount as it is (dmul(x, 1) = x)
scaled AS (
    SELECT
        h.instrument_id,
        h.is_group,
        h.holder_key,
        h.account_type,
        CASE WHEN g.scale = 1 THEN h.gross_quantity ELSE dmul(h.gross_quantity, g.scale) END AS gross,
        CASE WHEN g.scale = 1 THEN g.total_gross ELSE dmul(g.total_gross, g.scale) END AS total_gross
    FROM holder AS h
    JOIN instrument_gross AS g ON g.instrument_id = h.instrument_id
),
holder_share AS (
    SELECT
        h.instrument_id,
        CASE WHEN h.is_group THEN 'group ' || h.holder_key
             ELSE h.account_type || ' ' || h.holder_key END AS holder,
        ddiv(h.gross, h.total_gross) AS share,
        h.total_gross
    FROM scaled AS h
),
hhi AS (
    SELECT
        s.instrument_id,
        -- a share lies in [0, 1] up to ddiv's error (gross <= total): the narrow product is
        -- exact below 10 and rounds to 18 decimals as dmul() does (a share of 10 or more would
        -- raise, never give a wrong value)
        dmul(sum((s.share::DECIMAL(19,18) * s.share::DECIMAL(19,18))::DECIMAL(38,18)), 10000) AS hhi,
        count(*) AS holders,
        -- grading tolerance (above): e from the instrument's total gross
        ceil((10000 * (count(*) * (5e-19 + pow(1e-18 * (2 + 1 / any_value(s.total_gross)::DOUBLE), 2))
                       + 2e-18 * (2 + 1 / any_value(s.total_gross)::DOUBLE)) + 1e-18) * 1e18)
            / 1e18 AS tolerance,
        max(s.share) AS top_share,
        -- largest share, ties by holder text (a top-1 aggregate, not an ordered one)
        arg_min(s.holder, {'share': -s.share, 'holder': s.holder}) AS top_holder
    FROM holder_share AS s
    GROUP BY s.instrument_id
),
graded AS (
    SELECT
        h.*,
        i.exempt,
        CASE WHEN i.exempt THEN 'exempt'
             WHEN h.hhi + h.tolerance::DECIMAL(38,18) >= $concentration_hhi_warn THEN 'warn'
             ELSE 'pass' END AS status
    FROM hhi AS h
    JOIN instrument AS i ON i.instrument_id = h.instrument_id
)
SELECT
    'instrument' AS entity_type,
    g.instrument_id AS entity_id,
    g.instrument_id,
    NULL::VARCHAR AS asset,
    'hhi' AS metric,
    'index' AS unit,
    g.hhi AS value,
    $concentration_hhi_warn::DECIMAL(38,18) AS threshold,
    g.status,
    -- the HHI with the digits that tell it from the threshold (fmt_against): an HHI of
    -- 1799.998 passed reading "is 1,800.00 ...; pass at 1,800.00" (numbers audit of 2026-12-07)
    'HHI of open positions in ' || g.instrument_id || ' is '
        || fmt_against(g.hhi, $concentration_hhi_warn, 2)
        || ' over ' || g.holders || ' holder' || CASE WHEN g.holders = 1 THEN '' ELSE 's' END
        || ' (largest: ' || g.top_holder || ', ' || fmt_decimal(dmul(g.top_share, 100), 2)
        || '%); ' || g.status || ' at ' || fmt_setting($concentration_hhi_warn, 2) AS message
FROM graded AS g
UNION ALL
SELECT
    'instrument',
    g.instrument_id,
    g.instrument_id,
    NULL,
    'holders',
    'count',
    g.holders::DECIMAL(38,18),
    NULL,
    NULL,
    NULL
FROM graded AS g
