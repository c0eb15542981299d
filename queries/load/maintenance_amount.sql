-- Risk tiers as stored: maintenance_amount given by the venue, or computed when absent or empty
-- by the cumulative recursion of DESIGN.md section 3 (tiers ordered by `tier`):
--   cum_1 = 0,  cum_n = floor_n * (mmr_n - mmr_(n-1)) + cum_(n-1).
-- A given amount anchors the recursion for the empty cells after it: cum_n = given_j + the sum
-- of floor_k * (mmr_k - mmr_(k-1)) for k = j+1..n. Exact: dmul keeps DECIMAL(38,18).
WITH terms AS (
    SELECT *,
           coalesce(dmul(notional_floor,
                         maintenance_margin_rate - lag(maintenance_margin_rate) OVER w),
                    CAST(0 AS DECIMAL(38,18))) AS term,
           count(maintenance_amount) OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS anchor_group
    FROM staged_risk_tiers
    WINDOW w AS (PARTITION BY instrument_id ORDER BY tier)
),
filled AS (
    SELECT *,
           coalesce(max(maintenance_amount) OVER g, CAST(0 AS DECIMAL(38,18)))
           + sum(CASE WHEN maintenance_amount IS NULL THEN term ELSE 0 END)
                 OVER (g ORDER BY tier ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS computed_amount
    FROM terms
    WINDOW g AS (PARTITION BY instrument_id, anchor_group)
)
SELECT _row, instrument_id, tier, notional_floor, notional_cap, maintenance_margin_rate,
       CAST(coalesce(maintenance_amount, computed_amount) AS DECIMAL(38,18)) AS maintenance_amount,
       max_leverage
FROM filled
