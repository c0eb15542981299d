-- id: CON-05
-- title: Share of client equity (collateral) in a single non-stable asset
-- severity: warn
-- regulation: collateral concentration (EMIR RTS 153/2013 Art. 42 analogue); DESIGN.md section 5
-- row: the firm's positive client equity in USD (metric client_equity_usd) and, per asset, its
--      part (metric equity_usd) and share (metric collateral_share; status warn = an exception,
--      empty for stable assets, which are not subject to the check)
--
-- Metric rows for concentration.csv; the CON-05 check keeps the collateral_share rows with
-- status warn.
--   client equity   v_account_equity rows of client accounts with equity > 0 (per account and
--                   asset: a deficit in one asset does not reduce the collateral in another),
--                   in USD (equity_usd).
--   share(asset)    the asset's client equity in USD / all positive client equity in USD.
--   subject         assets not in $firm_stable_assets and not the reporting currency.
--   status          warn at share >= $concentration_collateral_share_warn (DESIGN.md section 5
--                   says "above"; section 4 "at or beyond": >=).
--   No positive client equity: no shares.
WITH client_equity AS (
    SELECT e.asset, e.equity_usd
    FROM v_account_equity AS e
    WHERE e.as_of_date = $as_of AND e.account_type = 'client' AND e.equity > 0
),
per_asset AS (
    SELECT asset, sum(equity_usd) AS equity_usd, count(*) AS accounts
    FROM client_equity
    GROUP BY asset
),
total AS (
    SELECT sum(equity_usd) AS equity_usd FROM per_asset
),
compared AS (
    -- the quotient and the exact comparison with the threshold (mul_cmp), each computed once
    -- (a macro repeats its arguments)
    SELECT
        a.asset,
        a.equity_usd,
        a.accounts,
        t.equity_usd AS total_usd,
        ddiv(a.equity_usd, t.equity_usd) AS quotient,
        mul_cmp(a.equity_usd, t.equity_usd, $concentration_collateral_share_warn) AS cmp_warn,
        NOT list_contains($firm_stable_assets, a.asset)
            AND a.asset <> $firm_reporting_currency AS subject
    FROM per_asset AS a
    CROSS JOIN total AS t
    WHERE t.equity_usd > 0
),
graded AS (
    SELECT
        c.*,
        -- a graded share is kept on its grade's side of the threshold (on_side)
        CASE WHEN c.subject
             THEN on_side(c.quotient, c.cmp_warn, $concentration_collateral_share_warn)
             ELSE c.quotient END AS share
    FROM compared AS c
)
SELECT
    'firm' AS entity_type,
    'firm' AS entity_id,
    NULL::VARCHAR AS instrument_id,
    NULL::VARCHAR AS asset,
    'client_equity_usd' AS metric,
    'usd' AS unit,
    t.equity_usd AS value,
    NULL::DECIMAL(38,18) AS threshold,
    NULL::VARCHAR AS status,
    NULL::VARCHAR AS message
FROM total AS t
WHERE t.equity_usd IS NOT NULL
UNION ALL
SELECT 'asset', g.asset, NULL, g.asset, 'equity_usd', 'usd', g.equity_usd, NULL, NULL, NULL
FROM graded AS g
UNION ALL
SELECT
    'asset',
    g.asset,
    NULL,
    g.asset,
    'collateral_share',
    'ratio',
    g.share,
    CASE WHEN g.subject THEN $concentration_collateral_share_warn END::DECIMAL(38,18),
    CASE WHEN NOT g.subject THEN NULL
         WHEN g.cmp_warn >= 0 THEN 'warn'
         ELSE 'pass' END,
    fmt_pct_against(g.share, $concentration_collateral_share_warn) || '% of client equity is held in ' || g.asset
        || ' (' || fmt_usd(g.equity_usd) || ' of ' || fmt_usd(g.total_usd) || ' USD, '
        || g.accounts || ' account' || CASE WHEN g.accounts = 1 THEN '' ELSE 's' END
        || '); warn at '
        || fmt_pct_setting($concentration_collateral_share_warn) || '%'
FROM graded AS g
