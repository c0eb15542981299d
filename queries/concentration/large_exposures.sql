-- id: CON-06
-- title: Large exposures of the firm to a single counterparty
-- severity: breach
-- regulation: IFR (EU 2019/2033) Art. 35-37; Basel Framework LEX20 (reporting at 10%, limit 25%); DESIGN.md section 5
-- row: one counterparty (a custodian holding house assets, or a client group owing the venue)
--      with its exposure, the firm's own funds, the share and its status
--
-- Used by reports.concentration.large_exposures (CON-06, concentration.csv, and the capital
-- engineer's K-CON). One row per counterparty with a positive exposure:
--   custodian      house-designated custody (designation 'house') at a custodian whose
--                  custodian_type is not 'self', in USD (balance x v_asset_prices). A custodian
--                  listed with several types shows the first in alphabetical order.
--   client_group   deficits owed to the venue by the group's client accounts: the sum over
--                  (account, asset) of max(0, -equity) in USD, equity from v_account_equity
--                  (balance + cross uPnL + positive isolated equity), per asset and never netted
--                  across assets (DESIGN.md section 4). Isolated bad debt (the loss beyond an
--                  isolated margin) is NOT included: isolation caps the client's loss at the
--                  margin, so it is a loss of the venue, not a claim on the client.
--   own funds      as the regime ($capital_regime) defines them: ifr cet1 + at1 + tier2;
--                  cftc adjusted_net_capital; mica cet1 (capital table of $as_of).
--   share          exposure_usd / own funds.
--   status         breach when share > $concentration_large_exposure_breach (strictly: the
--                  limit itself is allowed, IFR Art. 37 / LEX20.9) or own funds <= 0; warn when
--                  share >= $concentration_large_exposure_warn (the reporting threshold);
--                  pass otherwise; not_evaluated when the regime's own-funds item is missing.
--   limit_usd      $concentration_large_exposure_breach x own funds; excess_usd =
--                  max(0, exposure - limit) (IFR Art. 39's excess, for K-CON); both NULL
--                  when own funds are missing.
WITH own_funds AS (
    SELECT
        CASE $capital_regime
            WHEN 'ifr' THEN CASE WHEN count(*) FILTER (WHERE item IN ('cet1', 'at1', 'tier2')) > 0
                                 THEN coalesce(sum(amount) FILTER (WHERE item = 'cet1'), 0)
                                    + coalesce(sum(amount) FILTER (WHERE item = 'at1'), 0)
                                    + coalesce(sum(amount) FILTER (WHERE item = 'tier2'), 0) END
            WHEN 'cftc' THEN sum(amount) FILTER (WHERE item = 'adjusted_net_capital')
            WHEN 'mica' THEN sum(amount) FILTER (WHERE item = 'cet1')
        END::DECIMAL(38,18) AS own_funds
    FROM capital
    WHERE as_of_date = $as_of
),
custodian_exposure AS (
    SELECT
        c.custodian AS counterparty,
        'custodian' AS kind,
        min(c.custodian_type) AS custodian_type,
        sum(dmul(c.balance, p.price)) AS exposure_usd
    FROM custody AS c
    LEFT JOIN v_asset_prices AS p ON p.as_of_date = c.as_of_date AND p.asset = c.asset
    WHERE c.as_of_date = $as_of AND c.designation = 'house' AND c.custodian_type <> 'self'
    GROUP BY c.custodian
),
group_exposure AS (
    SELECT
        e.group_id AS counterparty,
        'client_group' AS kind,
        NULL::VARCHAR AS custodian_type,
        sum(-e.equity_usd) AS exposure_usd
    FROM v_account_equity AS e
    WHERE e.as_of_date = $as_of AND e.account_type = 'client' AND e.equity < 0
    GROUP BY e.group_id
),
exposure AS (
    SELECT * FROM custodian_exposure WHERE exposure_usd > 0
    UNION ALL
    SELECT * FROM group_exposure WHERE exposure_usd > 0
),
measured AS (
    -- the quotient and the exact comparisons with both thresholds (mul_cmp), each computed once
    -- (a macro repeats its arguments: nested, they made the plan several times larger)
    SELECT
        x.*,
        f.own_funds,
        -- NULL beyond 1e19 times own funds (own funds of a few wei), where ddiv's DECIMAL(38,18)
        -- failed CON-06 and, through K-CON, CAP-01 to CAP-03 (concentration review of 2026-12-05)
        CASE WHEN f.own_funds > 0 AND x.exposure_usd::DOUBLE < 1e19 * f.own_funds::DOUBLE
             THEN ddiv(x.exposure_usd, f.own_funds) END AS quotient,
        mul_cmp(x.exposure_usd, f.own_funds, $concentration_large_exposure_warn) AS cmp_warn,
        mul_cmp(x.exposure_usd, f.own_funds, $concentration_large_exposure_breach) AS cmp_breach,
        dmul(f.own_funds, $concentration_large_exposure_breach) AS limit_usd
    FROM exposure AS x
    CROSS JOIN own_funds AS f
),
graded AS (
    SELECT
        m.*,
        -- the quotient, kept on its grade's side of both thresholds (on_side)
        CASE WHEN m.own_funds > 0 THEN on_side(
            on_side(m.quotient, m.cmp_warn, $concentration_large_exposure_warn),
            m.cmp_breach, $concentration_large_exposure_breach) END AS share,
        -- graded exactly (exposure against own funds x threshold), not on the share
        CASE WHEN m.own_funds IS NULL THEN 'not_evaluated'
             WHEN m.own_funds <= 0 OR m.cmp_breach > 0 THEN 'breach'
             WHEN m.cmp_warn >= 0 THEN 'warn'
             ELSE 'pass' END AS status,
        CASE WHEN m.own_funds <= 0 OR m.cmp_breach > 0
             THEN $concentration_large_exposure_breach
             ELSE $concentration_large_exposure_warn END::DECIMAL(38,18) AS threshold,
        -- no limit (own funds missing: not_evaluated), no excess: greatest() skips a NULL and
        -- gave 0, printed "Excess 0.00" beside "Limit -" (concentration audit of 2026-12-07)
        CASE WHEN m.limit_usd IS NOT NULL
             THEN greatest(m.exposure_usd - m.limit_usd, 0::DECIMAL(38,18)) END AS excess_usd
    FROM measured AS m
)
SELECT
    g.counterparty,
    g.kind,
    g.custodian_type,
    g.exposure_usd::DECIMAL(38,18) AS exposure_usd,
    g.own_funds,
    g.share,
    g.status,
    g.threshold,
    g.limit_usd,
    g.excess_usd,
    CASE g.kind
        WHEN 'custodian' THEN 'house assets of ' || fmt_usd(g.exposure_usd) || ' USD at custodian '
            || g.counterparty || ' (' || g.custodian_type || ')'
        ELSE 'client group ' || g.counterparty || ' owes the venue ' || fmt_usd(g.exposure_usd)
            || ' USD (deficits of its client accounts)'
    END
    || CASE WHEN g.own_funds IS NULL
            THEN '; own funds unknown: the capital table of ' || $as_of::VARCHAR
                 || ' lacks ' || CASE $capital_regime WHEN 'ifr' THEN 'cet1, at1 and tier2'
                                              WHEN 'cftc' THEN 'adjusted_net_capital'
                                              ELSE 'cet1' END
                 || ', the own funds of regime ' || $capital_regime
            WHEN g.own_funds <= 0
            THEN '; own funds are ' || fmt_usd(g.own_funds) || ' USD (' || $capital_regime
                 || '), so any exposure exceeds the limit'
            WHEN g.share IS NULL
            THEN ', more than 10^19 times own funds (' || fmt_usd(g.own_funds) || ' USD, '
                 || $capital_regime || '); breach: above the limit of '
                 || fmt_pct_setting(g.threshold) || '%'
            ELSE ' = ' || fmt_pct_against(g.share, g.threshold) || '% of own funds ('
                 || fmt_usd(g.own_funds) || ' USD, ' || $capital_regime || '); '
                 || CASE g.status
                        WHEN 'breach' THEN 'breach: above the limit of '
                        WHEN 'warn' THEN 'large exposure (reported) at or above '
                        ELSE 'below the reporting threshold of ' END
                 || fmt_pct_setting(g.threshold) || '%'
                 || CASE g.status
                        WHEN 'warn' THEN ', within the limit of '
                            || fmt_pct_setting($concentration_large_exposure_breach)
                            || '% (' || fmt_usd(g.limit_usd) || ' USD)'
                        WHEN 'breach' THEN ' (' || fmt_against(g.limit_usd, g.exposure_usd, 2)
                            || ' USD) by ' || fmt_against(g.excess_usd, 0, 2) || ' USD'
                        ELSE '' END
       END AS message
FROM graded AS g
ORDER BY g.kind, g.counterparty
