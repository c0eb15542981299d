-- v_segregation: the client segregation statement per (as_of_date, asset) (DESIGN.md section 4),
-- in the layout of 17 CFR 1.20/1.32 (the CFTC "Statement of Segregation Requirements and Funds
-- in Segregation") adapted to crypto: client accounts only (account_type = 'client'), each asset
-- on its own (segregation in kind), isolated margin treated as the loss limit of its position.
--
--   cross_balance        sum of client cross-wallet balances
--   isolated_margin      sum of the isolated margins of client isolated positions settled in the asset
--   net_ledger_balance   cross_balance + isolated_margin                     (1.32 "net ledger balance")
--   cross_upnl, isolated_upnl, unrealized_pnl = their sum                   ("open trade equity")
--   net_equity           net_ledger_balance + unrealized_pnl
--   deficits             sum over client accounts of max(0, -E): debit/deficit accounts, a positive
--                        magnitude, added back, never netted; deficit_accounts counts them
--   isolated_bad_debt    sum over client isolated positions of max(0, -(isolated equity)): the part
--                        of a loss beyond the isolated margin, which is the venue's, not the client's;
--                        added back because the requirement floors each isolated position at 0
--   client_requirement   sum over client accounts of max(0, E(acct, asset)), E from v_account_equity;
--                        identity: client_requirement = net_equity + deficits + isolated_bad_debt
--   held                 custody balances with designation = 'client' (funds in segregation), and
--                        split by wallet_type (held_cold .. held_exchange) and by custodian_type
--                        (held_self .. held_other)
--   excess               held - client_requirement (negative = deficiency, SEG-01)
--   coverage_ratio       held / client_requirement (NULL when the requirement is 0 or below 1e-9,
--                        or so small beside what is held that the ratio would reach 1e19)
--   price, *_usd         USD price of the asset (v_asset_prices; NULL when unpriced) and the USD values
--
-- v_segregation_computed computes it; v_segregation reads segregation_values, where the loader
-- stores it per date. The target residual interest needs the configuration: the table macro segregation_statement
-- below adds it (SEG-02 and reports.checks.segregation use it).

CREATE OR REPLACE VIEW v_segregation_computed AS
WITH client_equity AS (
    SELECT
        e.as_of_date,
        e.asset,
        sum(e.balance) AS cross_balance,
        sum(e.cross_upnl) AS cross_upnl,
        -- sum over accounts of balance + cross uPnL + isolated equity (unfloored)
        sum(e.equity) - sum(e.isolated_bad_debt) AS net_equity,
        sum(e.isolated_bad_debt) AS isolated_bad_debt,
        sum(greatest(e.equity, 0::DECIMAL(38,18))) AS client_requirement,
        sum(greatest(-e.equity, 0::DECIMAL(38,18))) AS deficits,
        count(*) FILTER (WHERE e.equity < 0) AS deficit_accounts
    FROM v_account_equity AS e
    WHERE e.account_type = 'client'
    GROUP BY e.as_of_date, e.asset
),
client_isolated AS (
    -- isolated margins straight from the positions table: v_positions is expensive to plan, and
    -- v_account_equity already brings every valuation figure the statement needs
    SELECT
        p.as_of_date,
        i.settle_asset AS asset,
        sum(coalesce(p.isolated_margin, 0)) AS isolated_margin
    FROM positions AS p
    JOIN accounts AS a
        ON a.as_of_date = p.as_of_date AND a.account_id = p.account_id AND a.account_type = 'client'
    JOIN instruments AS i
        ON i.as_of_date = p.as_of_date AND i.instrument_id = p.instrument_id
    WHERE p.margin_mode = 'isolated'
    GROUP BY p.as_of_date, i.settle_asset
),
client_custody AS (
    SELECT
        c.as_of_date,
        c.asset,
        sum(c.balance) AS held,
        coalesce(sum(c.balance) FILTER (WHERE c.wallet_type = 'cold'), 0) AS held_cold,
        coalesce(sum(c.balance) FILTER (WHERE c.wallet_type = 'warm'), 0) AS held_warm,
        coalesce(sum(c.balance) FILTER (WHERE c.wallet_type = 'hot'), 0) AS held_hot,
        coalesce(sum(c.balance) FILTER (WHERE c.wallet_type = 'bank'), 0) AS held_bank,
        coalesce(sum(c.balance) FILTER (WHERE c.wallet_type = 'exchange'), 0) AS held_exchange,
        coalesce(sum(c.balance) FILTER (WHERE c.custodian_type = 'self'), 0) AS held_self,
        coalesce(sum(c.balance) FILTER (WHERE c.custodian_type = 'credit_institution'), 0)
            AS held_credit_institution,
        coalesce(sum(c.balance) FILTER (WHERE c.custodian_type = 'investment_firm'), 0)
            AS held_investment_firm,
        coalesce(sum(c.balance) FILTER (WHERE c.custodian_type = 'other'), 0) AS held_other
    FROM custody AS c
    WHERE c.designation = 'client'
    GROUP BY c.as_of_date, c.asset
),
assets AS (
    SELECT as_of_date, asset FROM client_equity
    UNION
    SELECT as_of_date, asset FROM client_custody
),
statement AS (
    SELECT
        a.as_of_date,
        a.asset,
        coalesce(e.cross_balance, 0)::DECIMAL(38,18) AS cross_balance,
        coalesce(i.isolated_margin, 0)::DECIMAL(38,18) AS isolated_margin,
        coalesce(e.cross_upnl, 0)::DECIMAL(38,18) AS cross_upnl,
        coalesce(e.net_equity, 0)::DECIMAL(38,18) AS net_equity,
        coalesce(e.deficits, 0)::DECIMAL(38,18) AS deficits,
        coalesce(e.deficit_accounts, 0)::BIGINT AS deficit_accounts,
        coalesce(e.isolated_bad_debt, 0)::DECIMAL(38,18) AS isolated_bad_debt,
        coalesce(e.client_requirement, 0)::DECIMAL(38,18) AS client_requirement,
        coalesce(c.held, 0)::DECIMAL(38,18) AS held,
        coalesce(c.held_cold, 0)::DECIMAL(38,18) AS held_cold,
        coalesce(c.held_warm, 0)::DECIMAL(38,18) AS held_warm,
        coalesce(c.held_hot, 0)::DECIMAL(38,18) AS held_hot,
        coalesce(c.held_bank, 0)::DECIMAL(38,18) AS held_bank,
        coalesce(c.held_exchange, 0)::DECIMAL(38,18) AS held_exchange,
        coalesce(c.held_self, 0)::DECIMAL(38,18) AS held_self,
        coalesce(c.held_credit_institution, 0)::DECIMAL(38,18) AS held_credit_institution,
        coalesce(c.held_investment_firm, 0)::DECIMAL(38,18) AS held_investment_firm,
        coalesce(c.held_other, 0)::DECIMAL(38,18) AS held_other,
        ap.price
    FROM assets AS a
    LEFT JOIN client_equity AS e ON e.as_of_date = a.as_of_date AND e.asset = a.asset
    LEFT JOIN client_isolated AS i ON i.as_of_date = a.as_of_date AND i.asset = a.asset
    LEFT JOIN client_custody AS c ON c.as_of_date = a.as_of_date AND c.asset = a.asset
    LEFT JOIN v_asset_prices AS ap ON ap.as_of_date = a.as_of_date AND ap.asset = a.asset
)
SELECT
    s.as_of_date,
    s.asset,
    s.cross_balance,
    s.isolated_margin,
    s.cross_balance + s.isolated_margin AS net_ledger_balance,
    s.cross_upnl,
    -- isolated uPnL = net equity - ledger - cross uPnL (v_account_equity carries no isolated uPnL)
    s.net_equity - s.cross_balance - s.isolated_margin - s.cross_upnl AS isolated_upnl,
    s.net_equity - s.cross_balance - s.isolated_margin AS unrealized_pnl,
    s.net_equity,
    s.deficits,
    s.deficit_accounts,
    s.isolated_bad_debt,
    s.client_requirement,
    s.held,
    s.held_cold,
    s.held_warm,
    s.held_hot,
    s.held_bank,
    s.held_exchange,
    s.held_self,
    s.held_credit_institution,
    s.held_investment_firm,
    s.held_other,
    s.held - s.client_requirement AS excess,
    -- NULL too where the ratio would reach 1e19, beyond what DECIMAL(38,18) holds (fuzzing of
    -- 2026-12-05: client balances of 1e-18 beside real custody stopped the load, exit 4), and
    -- for a requirement below 1e-9 (dust), where ddiv's error (below 1e-18 x (1 + 1/|b|))
    -- reaches the 8 decimals the report shows
    CASE WHEN abs(s.client_requirement) >= 0.000000001
          AND abs(s.held::DOUBLE) < 1e19 * abs(s.client_requirement::DOUBLE)
         THEN ddiv(s.held, s.client_requirement) END
        AS coverage_ratio,
    s.price,
    dmul(s.client_requirement, s.price) AS requirement_usd,
    dmul(s.held, s.price) AS held_usd,
    dmul(s.held - s.client_requirement, s.price) AS excess_usd,
    dmul(s.deficits, s.price) AS deficits_usd,
    dmul(s.isolated_bad_debt, s.price) AS isolated_bad_debt_usd
FROM statement AS s;

-- Materialised per date at load, like position_values (reports/derive.py).
CREATE TABLE IF NOT EXISTS segregation_values AS SELECT * FROM v_segregation_computed WITH NO DATA;

CREATE OR REPLACE VIEW v_segregation AS SELECT * FROM segregation_values;

-- segregation_statement(as_of, target_abs, target_pct): v_segregation of one day plus the target
-- residual interest ([segregation] target_residual_interest, reporting currency, and
-- target_residual_interest_pct, a share of the requirement; NULL = not set).
--   target_residual_interest_usd  the larger of the absolute target and pct x requirement_usd when
--                                 either is set (both set: the stricter one binds), NULL when
--                                 neither is; 0 for an asset without client requirement (no client
--                                 money in it, so no residual interest is needed)
--   target_residual_interest      the same in units of the asset: pct x requirement where the
--                                 percentage binds (exact, as SEG-02 grades it), else USD target /
--                                 price
--   excess_over_target(_usd)      excess - target (negative = below target, SEG-02)
CREATE OR REPLACE MACRO segregation_statement(as_of, target_abs, target_pct) AS TABLE
WITH day AS (
    SELECT
        s.*,
        CASE
            WHEN target_abs IS NULL AND target_pct IS NULL THEN NULL
            WHEN s.client_requirement <= 0 THEN 0::DECIMAL(38,18)
            ELSE greatest(
                coalesce(target_abs::DECIMAL(38,18), 0::DECIMAL(38,18)),
                dmul(coalesce(target_pct::DECIMAL(38,18), 0::DECIMAL(38,18)), s.requirement_usd))
        END AS target_residual_interest_usd
    FROM v_segregation AS s
    WHERE s.as_of_date = as_of::DATE
)
SELECT
    d.* EXCLUDE (target_in_asset),
    d.target_in_asset AS target_residual_interest,
    d.excess - d.target_in_asset AS excess_over_target,
    d.excess_usd - d.target_residual_interest_usd AS excess_over_target_usd
FROM (
    SELECT
        d.*,
        -- where the percentage binds, its target in the asset is pct x requirement, exactly
        -- (pct x requirement_usd / price went through two roundings: an excess exactly at a
        -- percentage target could come out above it; segregation audit of 2026-12-07)
        CASE
            WHEN d.client_requirement > 0 AND target_pct IS NOT NULL
                AND dmul(target_pct::DECIMAL(38,18), d.requirement_usd)
                    >= coalesce(target_abs::DECIMAL(38,18), 0::DECIMAL(38,18))
                THEN dmul(target_pct::DECIMAL(38,18), d.client_requirement)
            WHEN d.price > 0 THEN ddiv(d.target_residual_interest_usd, d.price)
        END AS target_in_asset
    FROM day AS d
) AS d;
