-- id: CON-03
-- title: Share of client custody at a single custodian
-- severity: warn
-- regulation: safeguarding of client assets, diversification of custodians (MiCA Art. 70, 75); DESIGN.md section 5
-- row: one custodian's client custody in USD (metric client_custody_usd) and its share of all
--      client custody (metric custodian_share; status warn = an exception); one firm row with
--      the total
--
-- Metric rows for concentration.csv; the CON-03 check keeps the custodian_share rows with
-- status warn.
--   client custody   custody rows with designation = 'client', every wallet type (bank accounts
--                    included) and every custodian, the venue's own wallets (custodian_type
--                    'self') included: they too are a single point of failure.
--   USD              balance x the asset's USD price (v_asset_prices).
--   status           warn at share >= $concentration_custodian_share_warn. DESIGN.md section 5
--                    says "above"; section 4 says every threshold is "at or beyond", so >= .
--   share            the custodian's client custody over all client custody held, both net
--                    per custodian and counting a custodian whose net is negative (an overdraft
--                    on a client bank account) as holding 0: an overdraft at one custodian does
--                    not make the assets at another more than 100% of the total. The
--                    custodian's own client_custody_usd row keeps its net (negative) value; the
--                    firm row is the total held, the shares' denominator.
--   status           decided exactly (mul_cmp: custody >= total x threshold).
--   No client custody (total <= 0): no custodian shares, and one firm row of metric
--   custodian_share, not_evaluated (DESIGN.md section 5: nothing to grade; found in review:
--   the check passed).
WITH client_custody AS (
    SELECT c.custodian, dmul(c.balance, p.price) AS balance_usd
    FROM custody AS c
    LEFT JOIN v_asset_prices AS p ON p.as_of_date = c.as_of_date AND p.asset = c.asset
    WHERE c.as_of_date = $as_of AND c.designation = 'client'
),
per_custodian AS (
    SELECT custodian, sum(balance_usd) AS custody_usd, count(*) AS wallets
    FROM client_custody
    GROUP BY custodian
),
total AS (
    SELECT sum(greatest(custody_usd, 0)) AS custody_usd FROM per_custodian
),
compared AS (
    -- the quotient and the exact comparison with the threshold (mul_cmp), each computed once
    -- (a macro repeats its arguments)
    SELECT
        c.custodian,
        c.custody_usd,
        t.custody_usd AS total_usd,
        ddiv(greatest(c.custody_usd, 0), t.custody_usd) AS quotient,
        mul_cmp(greatest(c.custody_usd, 0), t.custody_usd, $concentration_custodian_share_warn)
            AS cmp_warn
    FROM per_custodian AS c
    CROSS JOIN total AS t
    WHERE t.custody_usd > 0
),
graded AS (
    -- the quotient, kept on its grade's side of the threshold (on_side)
    SELECT c.*, on_side(c.quotient, c.cmp_warn, $concentration_custodian_share_warn) AS share
    FROM compared AS c
)
SELECT
    'firm' AS entity_type,
    'firm' AS entity_id,
    NULL::VARCHAR AS instrument_id,
    NULL::VARCHAR AS asset,
    'client_custody_usd' AS metric,
    'usd' AS unit,
    t.custody_usd AS value,
    NULL::DECIMAL(38,18) AS threshold,
    NULL::VARCHAR AS status,
    NULL::VARCHAR AS message
FROM total AS t
WHERE t.custody_usd IS NOT NULL
UNION ALL
SELECT
    'custodian', c.custodian, NULL, NULL, 'client_custody_usd', 'usd', c.custody_usd,
    NULL, NULL, NULL
FROM per_custodian AS c  -- every custodian, also when no client custody is held at all
UNION ALL
SELECT
    'custodian',
    g.custodian,
    NULL,
    NULL,
    'custodian_share',
    'ratio',
    g.share,
    $concentration_custodian_share_warn::DECIMAL(38,18),
    CASE WHEN g.cmp_warn >= 0 THEN 'warn' ELSE 'pass' END,
    'custodian ' || g.custodian || ' holds ' || fmt_pct_against(g.share, $concentration_custodian_share_warn)
        || '% of client custody (' || fmt_usd(g.custody_usd) || ' of '
        || fmt_usd(g.total_usd) || ' USD); warn at '
        || fmt_pct_setting($concentration_custodian_share_warn) || '%'
FROM graded AS g
UNION ALL
SELECT 'firm', 'firm', NULL, NULL, 'custodian_share', 'ratio', NULL,
    $concentration_custodian_share_warn::DECIMAL(38,18), 'not_evaluated',
    'no custodian holds client custody (client custody totals '
        || fmt_usd(coalesce((SELECT sum(custody_usd) FROM per_custodian), 0))
        || ' USD): there is no custodian share to grade'
FROM total AS t
WHERE coalesce(t.custody_usd, 0) <= 0
