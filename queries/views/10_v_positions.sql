-- v_positions: every open position with its valuation and margin figures (DESIGN.md section 4).
--
-- Per position, with Q = |quantity| x contract_size, s = sign(quantity), mark M, entry E:
--   linear  (quote = settle asset): notional = Q x M;  uPnL = s x Q x (M - E)
--   inverse (settle = underlying):  notional = Q / M;  uPnL = s x Q x (1/E - 1/M)
--                                   computed as s x Q / E - s x Q / M (two exact-to-18-dp
--                                   quotients; 1/E first would be scaled up by Q)
--   tier: floor <= notional < cap (NULL cap = unbounded): the last tier whose floor <= notional
--         (ASOF join), NULL when the notional is at or above a finite cap of the last tier.
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
-- The tier test allows a relative slack of 1e-9 on each bound so that a solution lying exactly on
-- a boundary is not lost to the 18-decimal rounding of LP and of its notional (the two adjacent
-- tiers' solutions then differ only by that rounding, and the pick rule chooses one).
-- Bankruptcy price: the same formulas with mmr = cum = 0 (one solution; NULL unless > 0).
-- Both prices are NULL for cross positions. Every division is guarded: a zero divisor, or a
-- quotient beyond DECIMAL(38,18)'s range (checked in DOUBLE, never used as a value), gives NULL
-- rather than an error that would break every query on the view.
--
-- All joins include as_of_date: the history of every date sits side by side.

CREATE OR REPLACE MACRO ddiv_or_null(a, b) AS (
    CASE WHEN b <> 0 AND abs(a::DOUBLE / b::DOUBLE) < 1e19 THEN ddiv(a, b) END
);

CREATE OR REPLACE MACRO dmul_or_null(a, b) AS (
    CASE WHEN abs(a::DOUBLE * b::DOUBLE) < 1e19 THEN dmul(a, b) END
);

CREATE OR REPLACE VIEW v_positions AS
WITH base AS (
    SELECT
        p.as_of_date,
        p.position_id,
        p.account_id,
        a.account_type,
        a.group_id,
        p.instrument_id,
        i.kind,
        i.kind IN ('inverse_perpetual', 'inverse_future') AS is_inverse,
        p.margin_mode,
        p.quantity,
        sign(p.quantity)::INTEGER AS side,
        i.contract_size,
        dmul(abs(p.quantity), i.contract_size) AS base_quantity,
        dmul(p.quantity, i.contract_size) AS signed_quantity,
        p.entry_price,
        m.price AS mark_price,
        i.underlying,
        i.quote_asset,
        i.settle_asset,
        sp.price AS settle_price,
        p.isolated_margin,
        p.reported_unrealized_pnl
    FROM positions AS p
    LEFT JOIN instruments AS i
        ON i.as_of_date = p.as_of_date AND i.instrument_id = p.instrument_id
    LEFT JOIN accounts AS a
        ON a.as_of_date = p.as_of_date AND a.account_id = p.account_id
    LEFT JOIN prices AS m
        ON m.as_of_date = p.as_of_date AND m.kind = 'instrument' AND m.symbol = p.instrument_id
    LEFT JOIN v_asset_prices AS sp
        ON sp.as_of_date = p.as_of_date AND sp.asset = i.settle_asset
),
valued AS (
    SELECT
        b.*,
        CASE WHEN b.is_inverse THEN ddiv_or_null(b.base_quantity, b.mark_price)
             ELSE dmul(b.base_quantity, b.mark_price) END AS notional,
        -- s x Q / E: the inverse uPnL and liquidation formulas share it
        CASE WHEN b.is_inverse THEN ddiv_or_null(b.signed_quantity, b.entry_price) END
            AS signed_quantity_over_entry
    FROM base AS b
),
priced AS (
    SELECT
        v.*,
        CASE WHEN v.is_inverse
             THEN v.signed_quantity_over_entry - ddiv_or_null(v.signed_quantity, v.mark_price)
             ELSE dmul(v.signed_quantity, v.mark_price - v.entry_price) END AS unrealized_pnl
    FROM valued AS v
),
-- The tier of the current notional: the last tier whose floor <= notional (tiers are contiguous).
tiered AS (
    SELECT
        p.*,
        t.tier AS matched_tier,
        t.notional_cap AS matched_cap,
        t.maintenance_margin_rate AS matched_mmr,
        t.maintenance_amount AS matched_cum
    FROM priced AS p
    ASOF LEFT JOIN risk_tiers AS t
        ON t.as_of_date = p.as_of_date
        AND t.instrument_id = p.instrument_id
        AND p.notional >= t.notional_floor
),
-- Liquidation candidates: one solution per (isolated position, tier of its instrument).
liquidation_solutions AS (
    SELECT
        v.as_of_date,
        v.position_id,
        v.side,
        v.is_inverse,
        v.base_quantity,
        t.notional_floor,
        t.notional_cap,
        CASE WHEN v.is_inverse
             THEN ddiv_or_null(
                 dmul(v.base_quantity, t.maintenance_margin_rate + v.side),
                 v.isolated_margin + t.maintenance_amount + v.signed_quantity_over_entry)
             ELSE ddiv_or_null(
                 v.isolated_margin + t.maintenance_amount - dmul(v.signed_quantity, v.entry_price),
                 dmul(v.base_quantity, t.maintenance_margin_rate) - v.signed_quantity)
        END AS candidate_price
    FROM valued AS v
    JOIN risk_tiers AS t
        ON t.as_of_date = v.as_of_date AND t.instrument_id = v.instrument_id
    WHERE v.margin_mode = 'isolated'
),
liquidation_candidates AS (
    SELECT
        s.*,
        -- NULL when beyond DECIMAL range: then only an unbounded last tier can hold it
        CASE WHEN s.is_inverse THEN ddiv_or_null(s.base_quantity, s.candidate_price)
             ELSE dmul_or_null(s.base_quantity, s.candidate_price) END AS notional_at_candidate
    FROM liquidation_solutions AS s
    WHERE s.candidate_price > 0
),
liquidation AS (
    SELECT
        c.as_of_date,
        c.position_id,
        CASE WHEN any_value(c.side) > 0 THEN max(c.candidate_price)
             ELSE min(c.candidate_price) END AS liquidation_price
    FROM liquidation_candidates AS c
    WHERE (c.notional_at_candidate IS NULL
           OR c.notional_at_candidate
              >= c.notional_floor - dmul(c.notional_floor, 0.000000001))
      AND (c.notional_cap IS NULL
           OR c.notional_at_candidate
              < c.notional_cap + dmul(c.notional_cap, 0.000000001))
    GROUP BY c.as_of_date, c.position_id
),
margined AS (
    SELECT
        t.*,
        t.matched_tier IS NOT NULL
            AND (t.matched_cap IS NULL OR t.notional < t.matched_cap) AS in_tier,
        CASE WHEN t.margin_mode = 'isolated' THEN
            CASE WHEN t.is_inverse
                 THEN ddiv_or_null(t.signed_quantity,
                                   t.isolated_margin + t.signed_quantity_over_entry)
                 ELSE ddiv_or_null(t.isolated_margin - dmul(t.signed_quantity, t.entry_price),
                                   -t.signed_quantity)
            END
        END AS bankruptcy_solution
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
    CASE WHEN m.in_tier THEN m.matched_tier END AS tier,
    CASE WHEN m.in_tier THEN m.matched_mmr END AS maintenance_margin_rate,
    CASE WHEN m.in_tier THEN m.matched_cum END AS maintenance_amount,
    CASE WHEN m.in_tier THEN dmul(m.notional, m.matched_mmr) - m.matched_cum END
        AS maintenance_margin,
    m.isolated_margin,
    CASE WHEN m.margin_mode = 'isolated' THEN m.isolated_margin + m.unrealized_pnl END
        AS isolated_equity,
    l.liquidation_price,
    CASE WHEN m.bankruptcy_solution > 0 THEN m.bankruptcy_solution END AS bankruptcy_price,
    m.reported_unrealized_pnl
FROM margined AS m
LEFT JOIN liquidation AS l
    ON l.as_of_date = m.as_of_date AND l.position_id = m.position_id;
