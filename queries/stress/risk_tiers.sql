-- Cascade inputs: the maintenance-margin tiers of $as_of (tier recomputed at stressed marks).
SELECT
    t.instrument_id,
    t.tier,
    t.notional_floor,
    t.notional_cap,
    t.maintenance_margin_rate,
    t.maintenance_amount
FROM risk_tiers AS t
WHERE t.as_of_date = $as_of
ORDER BY t.instrument_id, t.notional_floor;
