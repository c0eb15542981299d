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
--                    >= $concentration_oi_share_warn (DESIGN.md section 4: "at or beyond"),
--                    decided exactly (mul_cmp: gross >= OI x threshold), not on the quotient.
--   Instruments without long open interest (OI = 0) have no shares.
-- concentration.csv keeps, per instrument, the top 5 client groups by share and every group
-- with a warn or breach.
WITH instrument AS (
    -- OI and its USD value from v_open_interest (queries/views/40_v_open_interest.sql)
    SELECT
        o.instrument_id,
        o.open_interest AS oi,
        o.open_interest_usd AS oi_usd,
        coalesce(o.open_interest_usd < $concentration_oi_floor, false) AS exempt,
        -- a group below this quantity surely has a share under the warn threshold: the exact
        -- share is computed only for the others and the top 5 (a relative slack of 1e-9, far
        -- above the 18-decimal rounding of the share, so no group at the threshold is lost);
        -- once per instrument, not per group
        dmul(o.open_interest, $concentration_oi_share_warn) - dmul(o.open_interest, 0.000000001)
            AS warn_quantity
    FROM v_open_interest AS o
    WHERE o.as_of_date = $as_of
),
account_quantity AS (
    -- v_positions carries each position's account type and group (no join with accounts)
    SELECT p.instrument_id, p.group_id, p.account_id, sum(abs(p.quantity)) AS gross_quantity
    FROM v_positions AS p
    WHERE p.as_of_date = $as_of AND p.account_type = 'client'
    GROUP BY p.instrument_id, p.group_id, p.account_id
),
group_quantity AS (
    SELECT a.instrument_id, a.group_id, sum(a.gross_quantity) AS gross_quantity,
           count(*) AS accounts
    FROM account_quantity AS a
    GROUP BY a.instrument_id, a.group_id
),
sized AS (
    SELECT
        g.*,
        i.oi,
        i.oi_usd,
        i.exempt,
        i.warn_quantity
    FROM group_quantity AS g
    JOIN instrument AS i ON i.instrument_id = g.instrument_id
    WHERE i.oi > 0
),
top_groups AS (
    -- the five largest shares of each instrument: by quantity (one OI divides them all, so the
    -- order is that of the exact shares), ties by group_id; a top-n aggregate, not a sort of
    -- every group
    SELECT
        s.instrument_id,
        unnest(arg_min(s.group_id, {'quantity': -s.gross_quantity, 'group_id': s.group_id}, 5))
            AS group_id,
        TRUE AS in_top
    FROM sized AS s
    GROUP BY s.instrument_id
),
-- MATERIALIZED: the few rows that may be reported are computed first; otherwise DuckDB pushes
-- the final WHERE down here and evaluates the exact share of every group inside it.
group_share AS MATERIALIZED (
    -- the share NULL beyond 1e19 (a near-zero OI of an unbalanced snapshot), where ddiv's
    -- DECIMAL(38,18) would fail the check (concentration review of 2026-12-05)
    SELECT s.*, coalesce(t.in_top, FALSE) AS in_top,
           CASE WHEN abs(s.gross_quantity::DOUBLE) < 1e19 * abs(s.oi::DOUBLE)
                THEN ddiv(s.gross_quantity, s.oi) END AS share,
           -- the exact comparisons with the thresholds (mul_cmp), each computed once: a macro
           -- repeats its arguments, and nested they made the plan several times larger
           mul_cmp(s.gross_quantity, s.oi, $concentration_oi_share_breach) AS cmp_breach,
           mul_cmp(s.gross_quantity, s.oi, $concentration_oi_share_warn) AS cmp_warn
    FROM sized AS s
    LEFT JOIN top_groups AS t ON t.instrument_id = s.instrument_id AND t.group_id = s.group_id
    WHERE s.gross_quantity >= s.warn_quantity OR t.in_top
),
graded AS (
    SELECT
        s.*,
        -- graded on the exact share (gross >= OI x threshold), not on the 18-decimal quotient
        CASE WHEN s.exempt THEN 'exempt'
             WHEN s.cmp_breach >= 0 THEN 'breach'
             WHEN s.cmp_warn >= 0 THEN 'warn'
             ELSE 'pass' END AS status,
        CASE WHEN s.cmp_breach >= 0
             THEN $concentration_oi_share_breach
             ELSE $concentration_oi_share_warn END::DECIMAL(38,18) AS threshold,
        -- the threshold the message sets the share against: the nearer one, so that a warn just
        -- under the breach threshold does not print as that threshold
        CASE WHEN abs(s.share - $concentration_oi_share_breach)
                  < abs(s.share - $concentration_oi_share_warn)
             THEN $concentration_oi_share_breach
             ELSE $concentration_oi_share_warn END::DECIMAL(38,18) AS nearest,
        -- the share as shown: the quotient, kept on its grade's side of each threshold
        -- (on_side)
        CASE WHEN s.exempt THEN s.share
             ELSE on_side(
                 on_side(s.share, s.cmp_warn, $concentration_oi_share_warn),
                 s.cmp_breach, $concentration_oi_share_breach)
        END AS shown
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
    g.shown,
    g.threshold,
    g.status,
    -- "through N accounts": those with positions in the instrument, not all the group's
    -- members (a regulator's review of 2026-12-06 read "(3 accounts)" as the group's size)
    'client group ' || g.group_id || ', through ' || g.accounts || ' account'
        || CASE WHEN g.accounts = 1 THEN '' ELSE 's' END || ', holds '
        || CASE WHEN g.shown IS NULL THEN 'more than 10^19 times'
                ELSE fmt_pct_against(g.shown, g.nearest) || '% of' END
        || ' the open interest in ' || g.instrument_id
        || ' (' || fmt_amount(g.gross_quantity) || ' of ' || fmt_amount(g.oi)
        || ' contracts, OI ' || fmt_usd(g.oi_usd) || ' USD); ' || g.status || ' at '
        || fmt_pct_setting(g.threshold) || '%'
FROM graded AS g
WHERE g.in_top OR g.status IN ('warn', 'breach')
