-- id: SEG-02
-- title: Excess over the target residual interest
-- severity: warn
-- regulation: 17 CFR 1.11(e)(3)(i), 1.23 (residual interest target), adapted per asset
-- row: one asset whose excess is at or below the configured target residual interest
-- requires: setting:segregation_target_residual_interest|segregation_target_residual_interest_pct
--
-- Target (segregation_statement in queries/views/30_v_segregation.sql), in USD: the larger of the
-- absolute target ([segregation] target_residual_interest) and target_residual_interest_pct x the
-- asset's requirement in USD, when both are set the stricter binds; it applies to each asset with a
-- positive client requirement (an asset without client money needs no residual interest).
-- Warn when excess <= target (DESIGN.md section 4: at or beyond a lower limit), decided
-- exactly (mul_cmp): excess x price <= the absolute USD target, or excess <= pct x requirement.
-- metric excess: value = excess, threshold = the target, both in units of the asset; USD in the
-- message.
SELECT
    'warn' AS status,
    'asset' AS entity_type,
    s.asset AS entity_id,
    NULL AS instrument_id,
    s.asset AS asset,
    'excess' AS metric,
    s.excess AS value,
    s.target_residual_interest AS threshold,
    format(
        'excess {} {} (USD {}) is at or below the target residual interest {} {} (USD {}): '
        || 'short of target by {} {} (USD {}); client requirement {} {} (USD {}), held {} {} (USD {})',
        fmt_against(s.excess, s.target_residual_interest, 8), s.asset,
        fmt_against(s.excess_usd, s.target_residual_interest_usd, 2),
        fmt_against(s.target_residual_interest, s.excess, 8), s.asset,
        fmt_against(s.target_residual_interest_usd, s.excess_usd, 2),
        fmt_against(-s.excess_over_target, 0, 8), s.asset,
        fmt_against(-s.excess_over_target_usd, 0, 2),
        fmt_amount(s.client_requirement), s.asset, fmt_usd(s.requirement_usd),
        fmt_amount(s.held), s.asset, fmt_usd(s.held_usd)) AS message
FROM segregation_statement(
    $as_of,
    $segregation_target_residual_interest,
    $segregation_target_residual_interest_pct) AS s
WHERE s.client_requirement > 0
  -- graded exactly, in USD: excess x price <= the USD target, not against the quotient
  -- target / price (ddiv's error, 1e-18 x (1 + 1/price), passed an excess just below the
  -- target of an asset priced at 2.2e-12 USD; review of 2026-12-05)
  AND s.price > 0
  -- excess x price <= max(absolute, pct x requirement x price) <=> at or below the absolute
  -- target in USD, or excess <= pct x requirement (the price cancels): the pct x requirement_usd
  -- of the statement is rounded at the 18th decimal, and an excess exactly at a percentage
  -- target whose USD figure has more decimals passed (segregation audit of 2026-12-07)
  AND (mul_cmp(coalesce($segregation_target_residual_interest::DECIMAL(38,18), 0::DECIMAL(38,18)),
               s.excess, s.price) >= 0
       OR ($segregation_target_residual_interest_pct IS NOT NULL
           AND mul_cmp(s.excess, s.client_requirement,
                       $segregation_target_residual_interest_pct::DECIMAL(38,18)) <= 0))
