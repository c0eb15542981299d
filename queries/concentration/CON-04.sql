-- id: CON-04
-- title: Share of client custody in hot wallets
-- severity: breach
-- regulation: Japan FSA 95% cold-storage rule (Payment Services Act Art. 63-11 and its Cabinet Office Ordinance); DESIGN.md section 5
-- row: the firm's client custody in hot wallets (metric hot_wallet_usd), the client custody it
--      is measured against (metric non_bank_client_custody_usd) and the share (metric
--      hot_wallet_share; status breach = an exception)
--
-- Metric rows for concentration.csv; the CON-04 check keeps the hot_wallet_share row with
-- status breach.
--   share    USD of client custody (designation 'client') in wallet_type 'hot' over USD of all
--            client custody except wallet_type 'bank' (fiat at banks is not a crypto wallet).
--   status   breach at share >= $concentration_hot_wallet_share_breach (DESIGN.md section 4:
--            "at or beyond"), decided exactly (mul_cmp: hot >= non-bank x threshold).
--   Non-bank client custody of 0 or less (none, or overdrafts netting it away): no share. Then
--   client custody in hot wallets (> 0) is a breach (more than all of it is hot), and none is
--   not_evaluated (DESIGN.md section 5: there is nothing to grade). Found in review: both
--   passed.
WITH client_custody AS (
    SELECT c.wallet_type, dmul(c.balance, p.price) AS balance_usd
    FROM custody AS c
    LEFT JOIN v_asset_prices AS p ON p.as_of_date = c.as_of_date AND p.asset = c.asset
    WHERE c.as_of_date = $as_of AND c.designation = 'client' AND c.wallet_type <> 'bank'
),
firm AS (
    SELECT
        coalesce(sum(balance_usd) FILTER (WHERE wallet_type = 'hot'), 0)::DECIMAL(38,18)
            AS hot_usd,
        sum(balance_usd) AS non_bank_usd
    FROM client_custody
),
compared AS (
    -- the quotient and the exact comparison with the threshold (mul_cmp), each computed once
    -- (a macro repeats its arguments)
    SELECT
        f.*,
        CASE WHEN f.non_bank_usd > 0 THEN ddiv(f.hot_usd, f.non_bank_usd) END AS quotient,
        CASE WHEN f.non_bank_usd > 0
             THEN mul_cmp(f.hot_usd, f.non_bank_usd, $concentration_hot_wallet_share_breach)
        END AS cmp_breach
    FROM firm AS f  -- one row, also without any client custody
),
graded AS (
    SELECT
        c.*,
        -- kept on its grade's side of the threshold (on_side)
        on_side(c.quotient, c.cmp_breach, $concentration_hot_wallet_share_breach) AS share,
        CASE WHEN c.non_bank_usd > 0 THEN CASE WHEN c.cmp_breach >= 0 THEN 'breach' ELSE 'pass' END
             WHEN c.hot_usd > 0 THEN 'breach'
             ELSE 'not_evaluated' END AS status
    FROM compared AS c
)
SELECT
    'firm' AS entity_type,
    'firm' AS entity_id,
    NULL::VARCHAR AS instrument_id,
    NULL::VARCHAR AS asset,
    'hot_wallet_usd' AS metric,
    'usd' AS unit,
    f.hot_usd AS value,
    NULL::DECIMAL(38,18) AS threshold,
    NULL::VARCHAR AS status,
    NULL::VARCHAR AS message
FROM firm AS f
WHERE f.non_bank_usd IS NOT NULL
UNION ALL
SELECT 'firm', 'firm', NULL, NULL, 'non_bank_client_custody_usd', 'usd', f.non_bank_usd,
       NULL, NULL, NULL
FROM firm AS f
WHERE f.non_bank_usd IS NOT NULL
UNION ALL
SELECT
    'firm',
    'firm',
    NULL,
    NULL,
    'hot_wallet_share',
    'ratio',
    g.share,
    $concentration_hot_wallet_share_breach::DECIMAL(38,18),
    g.status,
    CASE WHEN g.share IS NOT NULL THEN
             fmt_pct_against(g.share, $concentration_hot_wallet_share_breach)
             || '% of client custody outside bank accounts is in hot wallets ('
             || fmt_usd(g.hot_usd) || ' of ' || fmt_usd(g.non_bank_usd) || ' USD); breach at '
             || fmt_pct_setting($concentration_hot_wallet_share_breach) || '%'
         WHEN g.status = 'breach' THEN
             fmt_usd(g.hot_usd) || ' USD of client custody is in hot wallets, while client '
             || 'custody outside bank accounts totals ' || fmt_usd(coalesce(g.non_bank_usd, 0))
             || ' USD: more than all of it is hot; breach at '
             || fmt_pct_setting($concentration_hot_wallet_share_breach) || '%'
         ELSE 'no client custody is held outside bank accounts (it totals '
             || fmt_usd(coalesce(g.non_bank_usd, 0)) || ' USD): there is no hot-wallet share '
             || 'to grade'
    END
FROM graded AS g
