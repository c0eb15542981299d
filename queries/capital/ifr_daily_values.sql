-- Daily values of the averaged K-factors (reporting currency, USD) for every stored day in
-- [$first_day, $last_day] (the constant range lets the filter reach the tables under the views):
--   client_money_usd (K-CMH): the client requirement in stable and fiat assets ($stable_assets):
--       v_segregation.requirement_usd = (sum over client accounts of max(0, equity)) x price,
--       the segregation statement's own figure (DESIGN.md section 4), so K-CMH and SEG-01 agree;
--   assets_safeguarded_usd (K-ASA): the same over every other asset;
--   client_orders_usd (K-COH): traded notional of client accounts (volumes);
--   trading_flow_usd (K-DTF): traded notional of house accounts (volumes);
--   has_volumes: the day has volumes rows (the file is optional; without it the day counts 0).
WITH stored_days AS (
    SELECT as_of_date AS day FROM loads WHERE as_of_date BETWEEN $first_day AND $last_day
    UNION
    SELECT as_of_date AS day FROM capital WHERE as_of_date BETWEEN $first_day AND $last_day
),
client_money AS (
    SELECT
        s.as_of_date AS day,
        coalesce(sum(s.requirement_usd) FILTER (WHERE list_contains($stable_assets, s.asset)), 0)
            AS client_money_usd,
        coalesce(sum(s.requirement_usd) FILTER (WHERE NOT list_contains($stable_assets, s.asset)), 0)
            AS assets_safeguarded_usd
    FROM v_segregation AS s
    WHERE s.as_of_date BETWEEN $first_day AND $last_day
    GROUP BY s.as_of_date
),
volume_days AS (
    SELECT
        v.as_of_date AS day,
        coalesce(sum(v.traded_notional) FILTER (WHERE v.account_type = 'client'), 0)
            AS client_orders_usd,
        coalesce(sum(v.traded_notional) FILTER (WHERE v.account_type = 'house'), 0)
            AS trading_flow_usd
    FROM volumes AS v
    WHERE v.as_of_date BETWEEN $first_day AND $last_day
    GROUP BY v.as_of_date
)
SELECT
    d.day,
    coalesce(m.client_money_usd, 0)::DECIMAL(38,18) AS client_money_usd,
    coalesce(m.assets_safeguarded_usd, 0)::DECIMAL(38,18) AS assets_safeguarded_usd,
    coalesce(v.client_orders_usd, 0)::DECIMAL(38,18) AS client_orders_usd,
    coalesce(v.trading_flow_usd, 0)::DECIMAL(38,18) AS trading_flow_usd,
    v.day IS NOT NULL AS has_volumes
FROM stored_days AS d
LEFT JOIN client_money AS m ON m.day = d.day
LEFT JOIN volume_days AS v ON v.day = d.day
ORDER BY d.day;
