-- id: SEG-01
-- title: Client asset coverage per asset
-- severity: breach
-- regulation: 17 CFR 1.20, 1.32 (funds in segregation >= requirement), adapted to crypto: in kind, per asset
-- row: one asset whose client-designated custody does not cover the client requirement
--
-- From v_segregation (client accounts only). metric excess: value = held - requirement (negative,
-- asset units), threshold 0; the message states the deficiency as a positive magnitude.
-- Breach only when excess < 0 (DESIGN.md section 4: an exactly covered asset passes).
SELECT
    'breach' AS status,
    'asset' AS entity_type,
    s.asset AS entity_id,
    NULL AS instrument_id,
    s.asset AS asset,
    'excess' AS metric,
    s.excess AS value,
    0 AS threshold,
    format(
        'client custody holds {} {} (USD {}) against a client requirement of {} {} (USD {}): '
        || 'deficiency {} {} (USD {}); coverage ratio {}',
        fmt_against(s.held, s.client_requirement, 8), s.asset, fmt_usd(s.held_usd),
        fmt_against(s.client_requirement, s.held, 8), s.asset, fmt_usd(s.requirement_usd),
        fmt_against(-s.excess, 0, 8), s.asset, fmt_usd(-s.excess_usd),
        fmt_against(s.coverage_ratio, 1, 8)) AS message
FROM v_segregation AS s
WHERE s.as_of_date = $as_of
  AND s.excess < 0
