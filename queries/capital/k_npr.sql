-- K-NPR inputs (IFR Art. 22, crypto treated as Basel SCO60 Group 2b): the firm's net USD
-- exposure per underlying on $as_of.
--   positions: house and insurance-fund positions, +notional_usd long / -notional_usd short
--              (for inverse contracts notional_usd = Q / mark x coin price, i.e. ~ Q USD: the
--              contract's USD delta to the coin); a linear contract is also the opposite
--              position in its quote (= settle) coin, -notional_usd long / +notional_usd
--              short, which counts when that coin is not stable (ETHBTC: short BTC; review of
--              2026-12-05: only the ETH leg was counted);
--   custody:   house- and insurance_fund-designated custody holdings of the asset x its price.
-- Stable and fiat assets ($stable_assets) are cash-like, not position risk: they are left out on
-- both sides (DESIGN.md section 5 counts only non-stable custody holdings).
-- One row per underlying; net_usd = position_usd + custody_usd (signed).
WITH legs AS (
    SELECT p.underlying AS asset,
           CASE WHEN p.side > 0 THEN p.notional_usd ELSE -p.notional_usd END AS usd
    FROM v_positions AS p
    WHERE p.as_of_date = $as_of AND p.account_type IN ('house', 'insurance_fund')
    UNION ALL
    SELECT p.settle_asset,
           CASE WHEN p.side > 0 THEN -p.notional_usd ELSE p.notional_usd END
    FROM v_positions AS p
    WHERE p.as_of_date = $as_of AND p.account_type IN ('house', 'insurance_fund')
      AND NOT coalesce(p.is_inverse, false)
),
position_exposure AS (
    SELECT l.asset AS underlying, sum(l.usd) AS position_usd
    FROM legs AS l
    WHERE NOT list_contains($stable_assets, l.asset)
    GROUP BY l.asset
),
custody_exposure AS (
    SELECT c.asset AS underlying, sum(dmul(c.balance, pr.price)) AS custody_usd
    FROM custody AS c
    LEFT JOIN v_asset_prices AS pr ON pr.as_of_date = c.as_of_date AND pr.asset = c.asset
    WHERE c.as_of_date = $as_of
      AND c.designation IN ('house', 'insurance_fund')
      AND NOT list_contains($stable_assets, c.asset)
    GROUP BY c.asset
)
SELECT
    coalesce(p.underlying, c.underlying) AS underlying,
    coalesce(p.position_usd, 0)::DECIMAL(38,18) AS position_usd,
    coalesce(c.custody_usd, 0)::DECIMAL(38,18) AS custody_usd,
    (coalesce(p.position_usd, 0) + coalesce(c.custody_usd, 0))::DECIMAL(38,18) AS net_usd
FROM position_exposure AS p
FULL OUTER JOIN custody_exposure AS c ON c.underlying = p.underlying
ORDER BY underlying;
