-- Tiers whose maintenance margin is negative at their floor: notional_floor x rate below the
-- tier's maintenance_amount (given by the venue, or computed after a given one). The computed
-- amounts of DESIGN.md section 3 make the margin continuous and never negative (at floor_n it is
-- the previous tier's at floor_n); a given amount beyond floor x rate makes it negative for
-- positions near the floor, so no missed liquidation there could be seen. The load warns of them
-- (DESIGN allows any given amount). Count, then the first such row's number, amount and product.
SELECT count(*),
       min(_row),
       arg_min(instrument_id || ' tier ' || tier, _row),
       arg_min(mir_fmt(maintenance_amount), _row),
       arg_min(mir_fmt(dmul(notional_floor, maintenance_margin_rate)), _row)
FROM staged_risk_tiers_filled
WHERE dmul(notional_floor, maintenance_margin_rate) < maintenance_amount
