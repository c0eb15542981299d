-- CFTC risk-based requirement input (17 CFR 1.17(a)(1)(i)(B), DESIGN.md section 5): the total
-- maintenance margin of all positions on $as_of in USD (maintenance_margin x settle-asset price).
-- Positions without a maintenance margin in USD (no tier, or no settle-asset price: the loader
-- requires both, so only rows that bypassed it) are counted in unmargined_positions so the
-- statement can say so.
SELECT
    coalesce(sum(dmul(p.maintenance_margin, p.settle_price)), 0)::DECIMAL(38,18)
        AS maintenance_margin_usd,
    count(*) AS positions,
    count(*) FILTER (WHERE p.maintenance_margin IS NULL OR p.settle_price IS NULL)
        AS unmargined_positions
FROM v_positions AS p
WHERE p.as_of_date = $as_of;
