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
--   status     warn at HHI >= $concentration_hhi_warn.
WITH pos AS (
    SELECT h.instrument_id, h.account_id, h.account_type, h.group_id, h.holder, h.quantity
    FROM v_position_holders AS h
    WHERE h.as_of_date = $as_of
),
instrument AS (
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
    SELECT p.instrument_id, p.holder, sum(abs(p.quantity)) AS gross_quantity
    FROM pos AS p
    GROUP BY ALL
),
holder_share AS (
    SELECT
        h.instrument_id,
        h.holder,
        ddiv(h.gross_quantity, sum(h.gross_quantity) OVER (PARTITION BY h.instrument_id)) AS share
    FROM holder AS h
),
hhi AS (
    SELECT
        s.instrument_id,
        dmul(sum(dmul(s.share, s.share)), 10000) AS hhi,
        count(*) AS holders,
        max(s.share) AS top_share,
        first(s.holder ORDER BY s.share DESC, s.holder) AS top_holder
    FROM holder_share AS s
    GROUP BY s.instrument_id
),
graded AS (
    SELECT
        h.*,
        i.exempt,
        CASE WHEN i.exempt THEN 'exempt'
             WHEN h.hhi >= $concentration_hhi_warn THEN 'warn'
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
    'HHI of open positions in ' || g.instrument_id || ' is ' || fmt_decimal(g.hhi, 2)
        || ' over ' || g.holders || ' holder' || CASE WHEN g.holders = 1 THEN '' ELSE 's' END
        || ' (largest: ' || g.top_holder || ', ' || fmt_decimal(dmul(g.top_share, 100), 2)
        || '%); ' || g.status || ' at ' || fmt_decimal($concentration_hhi_warn, 2) AS message
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
