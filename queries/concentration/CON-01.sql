-- id: CON-01
-- title: Open-interest share of a group of connected clients per instrument
-- severity: breach
-- regulation: position limits / concentration of open interest (MiFID II Art. 57 analogue); DESIGN.md section 5
-- row: one instrument's open interest (metrics open_interest, open_interest_usd) or one client
--      group's share of it (metric oi_share; status warn/breach = an exception)
--
-- Metric rows for concentration.csv; the CON-01 check (reports.concentration.checks) keeps the
-- oi_share rows whose status is warn or breach.
--   OI(instrument)   = sum of long quantities (contracts) of ALL accounts, house and insurance fund
--                      included.
--   OI in USD        linear: OI x contract_size x mark x USD price of the quote asset;
--                    inverse: OI x contract_size x USD price of the quote asset (contracts are
--                    denominated in the quote currency; the price is 1 when the quote is USD).
--                    Under $concentration_oi_floor: exempt. An OI whose USD value cannot be
--                    computed (quote asset unpriced) is NOT exempt: the check errs on reporting.
--   share(group)     = sum of |quantity| over the group's CLIENT accounts / OI. House and
--                      insurance-fund accounts count in OI but are never flagged.
--   status           breach at share >= $concentration_oi_share_breach, warn at
--                    >= $concentration_oi_share_warn (DESIGN.md section 4: "at or beyond").
--   Instruments without long open interest (OI = 0) have no shares.
-- concentration.csv keeps, per instrument, the top 5 client groups by share and every group
-- with a warn or breach.
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
group_quantity AS (
    SELECT p.instrument_id, p.group_id, sum(abs(p.quantity)) AS gross_quantity,
           count(DISTINCT p.account_id) AS accounts
    FROM pos AS p
    WHERE p.account_type = 'client'
    GROUP BY p.instrument_id, p.group_id
),
group_share AS (
    SELECT
        g.instrument_id,
        g.group_id,
        g.gross_quantity,
        g.accounts,
        i.oi,
        i.oi_usd,
        i.exempt,
        ddiv(g.gross_quantity, i.oi) AS share
    FROM group_quantity AS g
    JOIN instrument AS i ON i.instrument_id = g.instrument_id
    WHERE i.oi > 0
),
graded AS (
    SELECT
        s.*,
        CASE WHEN s.exempt THEN 'exempt'
             WHEN s.share >= $concentration_oi_share_breach THEN 'breach'
             WHEN s.share >= $concentration_oi_share_warn THEN 'warn'
             ELSE 'pass' END AS status,
        CASE WHEN s.share >= $concentration_oi_share_breach THEN $concentration_oi_share_breach
             ELSE $concentration_oi_share_warn END::DECIMAL(38,18) AS threshold,
        row_number() OVER (PARTITION BY s.instrument_id ORDER BY s.share DESC, s.group_id)
            AS rank_in_instrument
    FROM group_share AS s
)
SELECT
    'instrument' AS entity_type,
    i.instrument_id AS entity_id,
    i.instrument_id,
    NULL::VARCHAR AS asset,
    'open_interest' AS metric,
    'contracts' AS unit,
    i.oi AS value,
    NULL::DECIMAL(38,18) AS threshold,
    NULL::VARCHAR AS status,
    NULL::VARCHAR AS message
FROM instrument AS i
UNION ALL
SELECT
    'instrument',
    i.instrument_id,
    i.instrument_id,
    NULL,
    'open_interest_usd',
    'usd',
    i.oi_usd,
    $concentration_oi_floor::DECIMAL(38,18),
    CASE WHEN i.exempt THEN 'exempt' ELSE 'pass' END,
    NULL
FROM instrument AS i
UNION ALL
SELECT
    'group',
    g.group_id,
    g.instrument_id,
    NULL,
    'oi_share',
    'ratio',
    g.share,
    g.threshold,
    g.status,
    'client group ' || g.group_id || ' (' || g.accounts || ' account'
        || CASE WHEN g.accounts = 1 THEN '' ELSE 's' END || ') holds '
        || fmt_decimal(dmul(g.share, 100), 2) || '% of the open interest in ' || g.instrument_id
        || ' (' || fmt_amount(g.gross_quantity) || ' of ' || fmt_amount(g.oi)
        || ' contracts, OI ' || fmt_usd(g.oi_usd) || ' USD); ' || g.status || ' at '
        || fmt_decimal(dmul(g.threshold, 100), 2) || '%'
FROM graded AS g
WHERE g.rank_in_instrument <= 5 OR g.status IN ('warn', 'breach')
