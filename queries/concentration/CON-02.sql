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
    -- straight from the tables (the few columns needed; v_positions adds margin figures that
    -- cost planning time and are not used here)
    SELECT
        p.instrument_id,
        p.account_id,
        a.account_type,
        a.group_id,
        p.quantity,
        i.contract_size,
        m.price AS mark_price,
        i.kind IN ('inverse_perpetual', 'inverse_future') AS is_inverse,
        i.quote_asset
    FROM positions AS p
    JOIN accounts AS a ON a.as_of_date = p.as_of_date AND a.account_id = p.account_id
    JOIN instruments AS i ON i.as_of_date = p.as_of_date AND i.instrument_id = p.instrument_id
    LEFT JOIN prices AS m
        ON m.as_of_date = p.as_of_date AND m.kind = 'instrument' AND m.symbol = p.instrument_id
    WHERE p.as_of_date = $as_of
),
open_interest AS (
    SELECT
        p.instrument_id,
        coalesce(sum(p.quantity) FILTER (WHERE p.quantity > 0), 0)::DECIMAL(38,18) AS oi,
        any_value(p.is_inverse) AS is_inverse,
        any_value(p.contract_size) AS contract_size,
        any_value(p.mark_price) AS mark_price,
        any_value(p.quote_asset) AS quote_asset
    FROM pos AS p
    GROUP BY p.instrument_id
),
-- one dmul per step: nested dmul() calls expand the macro's operands many times over
open_interest_units AS (
    SELECT o.*, dmul(o.oi, o.contract_size) AS oi_units FROM open_interest AS o
),
open_interest_quote AS (
    -- linear: units of the underlying x mark (quote asset); inverse: contracts are quote units
    SELECT o.*, CASE WHEN o.is_inverse THEN o.oi_units ELSE dmul(o.oi_units, o.mark_price) END
        AS oi_quote
    FROM open_interest_units AS o
),
open_interest_usd AS (
    SELECT o.*, dmul(o.oi_quote, q.price) AS oi_usd
    FROM open_interest_quote AS o
    LEFT JOIN v_asset_prices AS q ON q.as_of_date = $as_of AND q.asset = o.quote_asset
),
instrument AS (
    SELECT o.*, coalesce(o.oi_usd < $concentration_oi_floor, false) AS exempt
    FROM open_interest_usd AS o
),
holder AS (
    SELECT
        p.instrument_id,
        CASE WHEN p.account_type = 'client' THEN 'group ' || p.group_id
             ELSE p.account_type || ' ' || p.account_id END AS holder,
        sum(abs(p.quantity)) AS gross_quantity
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
