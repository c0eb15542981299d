-- TEST ORACLE, not product code: the SQL valuation that mir used until the valuation moved to
-- Polars (reports/valuation.py). tests/test_valuation_oracle.py runs both on the same data and
-- holds them equal (quotients within 1e-18: ddiv here is within 1e-18 of the true quotient,
-- Polars rounds it correctly). Its view is v_positions_reference.
--
-- v_positions: every open position with its valuation and margin figures (DESIGN.md section 4).
-- v_positions_computed computes them from the snapshot tables; v_positions reads position_values,
-- where the loader stores that computation for each date (see the end of this file).
--
-- Per position, with Q = |quantity| x contract_size, s = sign(quantity), mark M, entry E:
--   linear  (quote = settle asset): notional = Q x M;  uPnL = s x Q x (M - E)
--   inverse (settle = underlying):  notional = Q / M;  uPnL = s x Q x (1/E - 1/M)
--                                   computed as s x Q / E - s x Q / M (two quotients exact to
--                                   18 dp; taking 1/E first would scale its rounding up by Q)
--   tier: the tier with floor <= notional < cap (NULL cap = unbounded); the loader guarantees
--         an instrument's tiers contiguous from 0 without overlaps, so at most one matches; NULL
--         when the notional is at or above a finite cap of the last tier. A notional exactly at
--         a floor takes the upper tier.
--   maintenance_margin MM = notional x mmr - cum (cum = the tier's maintenance_amount).
--   isolated_equity = isolated_margin + uPnL (NULL for cross positions).
--   *_usd = amount x the USD price of the settle asset (v_asset_prices; NULL when unpriced).
--
-- Liquidation price (isolated only, WB = isolated_margin, cum = tier's maintenance_amount):
--   linear  LP = (WB + cum - s x Q x E) / (Q x mmr - s x Q)
--   inverse LP = Q x (mmr + s) / (WB + cum + s x Q / E)
-- MM is continuous and piecewise linear in the price, so the equation is solved once per tier
-- of the instrument and the solution kept whose own notional (Q x LP, or Q / LP) selects that
-- tier, with LP > 0. For mmr < 1, equity - MM is strictly monotone in the price, so at most one
-- tier's solution is genuine; several survive only at a tier boundary, where they coincide (MM is
-- continuous there). The pick is deterministic: for a long the highest, for a short the lowest,
-- i.e. the first price reached as the market moves against the position from the mark. No
-- solution (e.g. a long so over-margined it can never be liquidated) -> NULL.
-- (With cums from the recursion and rates rising by tier, MM is the maximum of the tier lines,
-- so the pick rule alone would already find the same price; the tier test keeps the answer right
-- for tables whose shipped maintenance_amount breaks that shape.)
-- The tier test allows a relative slack of 1e-9 on each bound so that a solution lying exactly on
-- a boundary is not lost to the 18-decimal rounding of LP and of its notional (the two adjacent
-- tiers' solutions then differ only by that rounding, and the pick rule chooses one).
-- Bankruptcy price: the same formulas with mmr = cum = 0 (one solution; NULL unless > 0).
-- Both prices are NULL for cross positions. Divisions whose divisor can be zero or tiny are
-- guarded: a zero divisor, or a quotient beyond DECIMAL(38,18)'s range, gives NULL rather than an
-- error that would break every query on the view.
--
-- Performance (about 2M positions x 10 tiers): dmul/ddiv expand to many DECIMAL casts, and
-- DuckDB shares their repeated sub-expressions only outside CASE. So no macro is called inside
-- a CASE branch: linear and inverse positions are valued in two UNION ALL branches, and NULL
-- arguments (not CASE around the call) switch a product off (the liquidation candidates use
-- only the latter: a CTE read by two branches would be materialised, 1.3M rows at 1M accounts).
-- base and valued are NOT MATERIALIZED: each is read by two branches, and DuckDB would otherwise
-- write 2M wide rows aside; inside the load's transaction (the day's uncommitted rows share the
-- memory limit) that copy spilled to disk: 14.5 s -> 12 s at 1M accounts for recomputing the few
-- products the liquidation branch needs.
-- The tier is found by a hash join on the instrument with the floor/cap range as extra join
-- conditions: an ASOF join sorted the whole 2M-row valuation (5 s at 1M accounts; 0.2 s now). The per-tier liquidation search
-- first narrows the tiers in DOUBLE (notional at the candidate LP has the closed form
-- (WB + cum + t) / (mmr -/+ s), t = -s x Q x E linear or s x Q / E inverse) with a slack of 1e-7,
-- far above DOUBLE's error, so the narrowing only drops tiers the exact test below would reject;
-- every reported price is then computed and tested in exact DECIMAL. No float becomes a value.
--
-- All joins include as_of_date: the history of every date sits side by side.

-- Quotient / product, NULL (instead of an overflow error) when b = 0 or the result is beyond
-- DECIMAL(38,18)'s 20 integer digits; the range test is a DOUBLE estimate, never a value.
-- The CASE sits in the argument, so dmul/ddiv still share their sub-expressions.
CREATE OR REPLACE MACRO ddiv_or_null(a, b) AS
    ddiv(a, CASE WHEN b <> 0 AND abs(a::DOUBLE / b::DOUBLE) < 1e19 THEN b END);

CREATE OR REPLACE MACRO dmul_or_null(a, b) AS
    dmul(a, CASE WHEN abs(a::DOUBLE * b::DOUBLE) < 1e19 THEN b END);

CREATE OR REPLACE VIEW v_positions_reference AS
WITH base AS NOT MATERIALIZED (
    -- the positions with their instrument, account and prices, as the product's valuation reads
    -- them (the joins are the product's; the arithmetic below is this oracle's own)
    SELECT
        p.as_of_date, p.position_id, p.account_id, p.account_type, p.group_id, p.instrument_id,
        p.kind, p.is_inverse, p.margin_mode, p.quantity,
        sign(p.quantity)::INTEGER AS side,
        p.contract_size,
        dmul(abs(p.quantity), p.contract_size) AS base_quantity,
        p.entry_price, p.mark_price, p.underlying, p.quote_asset, p.settle_asset, p.settle_price,
        p.isolated_margin, p.reported_unrealized_pnl, p.leverage
    FROM v_position_inputs AS p
),
signed AS (
    SELECT
        b.*,
        CASE WHEN b.side < 0 THEN -b.base_quantity ELSE b.base_quantity END AS signed_quantity,
        -- isolated margin of isolated positions only: NULL switches the bankruptcy price off
        CASE WHEN b.margin_mode = 'isolated' THEN b.isolated_margin END AS wallet_balance,
        -- s x Q on isolated positions only: a NULL argument makes dmul/ddiv nearly free, so the
        -- liquidation and bankruptcy terms cost nothing on cross positions
        CASE WHEN b.margin_mode = 'isolated' THEN
            CASE WHEN b.side < 0 THEN -b.base_quantity ELSE b.base_quantity END
        END AS isolated_signed_quantity
    FROM base AS b
),
-- Valuation, one branch per contract type. liquidation_term is the t of the header: the part of
-- the liquidation equation's numerator that depends on the entry (WB + cum + t).
valued AS NOT MATERIALIZED (
    SELECT
        s.*,
        dmul(s.base_quantity, s.mark_price) AS notional,
        dmul(s.signed_quantity, s.mark_price - s.entry_price) AS unrealized_pnl,
        -dmul(s.isolated_signed_quantity, s.entry_price) AS liquidation_term
    FROM signed AS s
    WHERE s.is_inverse IS NOT TRUE  -- linear, and positions of an unknown instrument (NULLs)
    UNION ALL BY NAME
    SELECT
        q.*,
        ddiv_or_null(q.base_quantity, q.mark_price) AS notional,
        q.signed_quantity_over_entry - ddiv_or_null(q.signed_quantity, q.mark_price)
            AS unrealized_pnl,
        CASE WHEN q.margin_mode = 'isolated' THEN q.signed_quantity_over_entry END
            AS liquidation_term
    FROM (
        SELECT s.*, ddiv_or_null(s.signed_quantity, s.entry_price) AS signed_quantity_over_entry
        FROM signed AS s
        WHERE s.is_inverse
    ) AS q
),
-- The tier of the current notional: the one whose [floor, cap) holds it (see the header).
tiered AS (
    SELECT
        v.*,
        t.tier, t.maintenance_margin_rate, t.maintenance_amount,
        CASE WHEN v.is_inverse THEN v.isolated_signed_quantity
             ELSE v.wallet_balance + v.liquidation_term END AS bankruptcy_numerator,
        CASE WHEN v.is_inverse THEN v.wallet_balance + v.liquidation_term
             ELSE -v.isolated_signed_quantity END AS bankruptcy_denominator
    FROM valued AS v
    LEFT JOIN risk_tiers AS t
        ON t.as_of_date = v.as_of_date
        AND t.instrument_id = v.instrument_id
        AND v.notional >= t.notional_floor
        AND (t.notional_cap IS NULL OR v.notional < t.notional_cap)
),
-- Liquidation search, step 1 (DOUBLE, narrowing only): tiers whose solution may select them.
isolated_in_double AS (
    SELECT
        v.as_of_date, v.position_id, v.instrument_id, v.is_inverse, v.side, v.base_quantity,
        v.signed_quantity, v.wallet_balance, v.liquidation_term,
        v.wallet_balance::DOUBLE + v.liquidation_term::DOUBLE AS numerator_part_d,
        abs(v.wallet_balance::DOUBLE) + abs(v.liquidation_term::DOUBLE) AS magnitude_d
    FROM valued AS v
    WHERE v.margin_mode = 'isolated'
),
tiers_in_double AS (
    SELECT
        t.*,
        t.maintenance_amount::DOUBLE AS cum_d,
        t.maintenance_margin_rate::DOUBLE AS mmr_d,
        t.notional_floor::DOUBLE AS floor_d,
        t.notional_cap::DOUBLE AS cap_d,
        -- the exact tier test's bounds with the 1e-9 relative slack of the header
        t.notional_floor - dmul(t.notional_floor, 0.000000001) AS floor_with_slack,
        t.notional_cap + dmul(t.notional_cap, 0.000000001) AS cap_with_slack
    FROM risk_tiers AS t
),
candidate_tiers AS (
    SELECT
        n.*,
        n.notional_d - n.slack_d > 0
            AND n.notional_d - n.slack_d >= n.floor_d
            AND (n.cap_d IS NULL OR n.notional_d + n.slack_d < n.cap_d) AS clearly_in_tier
    FROM (
        SELECT
            d.*,
            (d.numerator_part_d + d.cum_d) / d.den_d AS notional_d,
            1e-7 * ((d.magnitude_d + d.cum_d) / abs(d.den_d) + d.floor_d + coalesce(d.cap_d, 0))
                AS slack_d
        FROM (
            SELECT
                v.*,
                t.floor_with_slack,
                t.cap_with_slack,
                t.maintenance_margin_rate,
                t.maintenance_amount,
                t.cum_d,
                t.floor_d,
                t.cap_d,
                -- mmr - s (linear) or mmr + s (inverse); 0 = no solution in this tier
                nullif(CASE WHEN v.is_inverse THEN t.mmr_d + v.side ELSE t.mmr_d - v.side END, 0)
                    AS den_d
            FROM isolated_in_double AS v
            JOIN tiers_in_double AS t
                ON t.as_of_date = v.as_of_date AND t.instrument_id = v.instrument_id
        ) AS d
    ) AS n
    -- a tier whose solution may select it; clearly_in_tier: it surely does (exact test skipped)
    WHERE n.notional_d + n.slack_d > 0
      AND n.notional_d + n.slack_d >= n.floor_d
      AND (n.cap_d IS NULL OR n.notional_d - n.slack_d < n.cap_d)
),
-- Step 2 (exact): solve each remaining tier in DECIMAL and keep the solutions in their tier.
liquidation_solutions AS (
    SELECT
        c.as_of_date, c.position_id, c.side, c.floor_with_slack, c.cap_with_slack,
        coalesce(
            ddiv_or_null(c.linear_numerator,
                         dmul(c.linear_quantity, c.maintenance_margin_rate) - c.signed_quantity),
            ddiv_or_null(dmul(c.inverse_quantity, c.maintenance_margin_rate + c.side),
                         c.inverse_denominator)
        ) AS candidate_price,
        c.is_inverse,
        c.base_quantity,
        c.clearly_in_tier
    FROM (
        SELECT
            c.*,
            CASE WHEN NOT c.is_inverse
                 THEN c.wallet_balance + c.maintenance_amount + c.liquidation_term END
                AS linear_numerator,
            CASE WHEN NOT c.is_inverse THEN c.base_quantity END AS linear_quantity,
            CASE WHEN c.is_inverse THEN c.base_quantity END AS inverse_quantity,
            CASE WHEN c.is_inverse
                 THEN c.wallet_balance + c.maintenance_amount + c.liquidation_term END
                AS inverse_denominator
        FROM candidate_tiers AS c
    ) AS c
),
-- DuckDB would push a WHERE on candidate_price down into the projection that computes it and
-- evaluate the whole ddiv expression again there; so the tests below are plain columns and an
-- aggregate FILTER (never pushed down), not WHERE clauses.
liquidation_candidates AS (
    SELECT
        s.*,
        -- the notional at the candidate price; NULL when beyond DECIMAL range (only an
        -- unbounded last tier can hold it then)
        coalesce(dmul_or_null(s.base_quantity, s.linear_price),
                 ddiv_or_null(s.base_quantity, s.inverse_price)) AS notional_at_candidate
    FROM (
        SELECT
            l.*,
            CASE WHEN NOT l.is_inverse AND l.candidate_price > 0 AND NOT l.clearly_in_tier
                 THEN l.candidate_price END
                AS linear_price,
            CASE WHEN l.is_inverse AND l.candidate_price > 0 AND NOT l.clearly_in_tier
                 THEN l.candidate_price END
                AS inverse_price
        FROM liquidation_solutions AS l
    ) AS s
),
liquidation_tests AS (
    SELECT
        c.as_of_date,
        c.position_id,
        c.side,
        c.candidate_price,
        c.candidate_price > 0
            AND (c.clearly_in_tier
                 OR (coalesce(c.notional_at_candidate >= c.floor_with_slack, TRUE)
                     AND coalesce(c.notional_at_candidate < c.cap_with_slack,
                                  c.cap_with_slack IS NULL)))
            AS selects_its_tier
    FROM liquidation_candidates AS c
),
liquidation AS (
    SELECT
        t.as_of_date,
        t.position_id,
        CASE WHEN any_value(t.side) > 0
             THEN max(t.candidate_price) FILTER (WHERE t.selects_its_tier)
             ELSE min(t.candidate_price) FILTER (WHERE t.selects_its_tier)
        END AS liquidation_price
    FROM liquidation_tests AS t
    GROUP BY t.as_of_date, t.position_id
),
margined AS (
    SELECT
        t.*,
        ddiv_or_null(t.bankruptcy_numerator, t.bankruptcy_denominator) AS bankruptcy_solution
    FROM tiered AS t
)
SELECT
    m.as_of_date,
    m.position_id,
    m.account_id,
    m.account_type,
    m.group_id,
    m.instrument_id,
    m.kind,
    m.is_inverse,
    m.margin_mode,
    m.quantity,
    m.side,
    m.contract_size,
    m.base_quantity,
    m.entry_price,
    m.mark_price,
    m.underlying,
    m.quote_asset,
    m.settle_asset,
    m.notional,
    m.settle_price,
    dmul(m.notional, m.settle_price) AS notional_usd,
    m.unrealized_pnl,
    dmul(m.unrealized_pnl, m.settle_price) AS unrealized_pnl_usd,
    m.tier,
    m.maintenance_margin_rate,
    m.maintenance_amount,
    dmul(m.notional, m.maintenance_margin_rate) - m.maintenance_amount AS maintenance_margin,
    m.isolated_margin,
    CASE WHEN m.margin_mode = 'isolated' THEN m.isolated_margin + m.unrealized_pnl END
        AS isolated_equity,
    l.liquidation_price,
    CASE WHEN m.bankruptcy_solution > 0 THEN m.bankruptcy_solution END AS bankruptcy_price,
    m.reported_unrealized_pnl,
    m.leverage
FROM margined AS m
LEFT JOIN liquidation AS l
    ON l.as_of_date = m.as_of_date AND l.position_id = m.position_id;
