-- How long each large exposure of the firm has been over the limit (IFR Art. 39: K-CON applies
-- 200% while the excess has lasted at most 10 days, the tranche factors after).
--
-- The day's exposures themselves come from CON-06 (queries/concentration/large_exposures.sql,
-- reports.concentration.large_exposures); this query applies the same definitions to each of the
-- last $lookback stored days up to and including $as_of:
--   custodian:    house-designated custody at a non-'self' custodian (USD);
--   client_group: the sum over the group's client accounts and assets of max(0, -equity) in USD
--                 (v_account_equity; isolated bad debt is the venue's loss, not a claim).
-- own_funds is the day's CET1 + AT1 + Tier 2 (IFR); the limit is $limit_share of it (IFR's 25%,
-- reports.capital.ifr.LARGE_EXPOSURE_LIMIT; 0 when own funds are 0 or below) and a
-- counterparty is over the limit when its exposure is strictly above.
-- days_over: the number of consecutive stored days, ending on $as_of, on which the counterparty
-- was over the limit; a stored day without an exposure to it breaks the run (a stored day = a
-- date with a recorded load or with capital figures; calendar gaps do not break it).
-- run_complete is false when the run reaches back to the first of the $lookback days and older
-- stored days exist: the caller widens the lookback.
-- Only the counterparties over the limit on $as_of are followed ($custodians, $groups: their
-- names); the rows returned are those of them exposed on $as_of.
WITH all_days AS (
    SELECT as_of_date AS day FROM loads WHERE as_of_date <= $as_of
    UNION
    SELECT as_of_date AS day FROM capital WHERE as_of_date <= $as_of
),
ranked_days AS (
    SELECT day, row_number() OVER (ORDER BY day DESC) AS days_back
    FROM all_days
),
days AS (
    SELECT day, days_back FROM ranked_days WHERE days_back <= $lookback
),
own_funds AS (
    SELECT
        d.day,
        coalesce(sum(c.amount) FILTER (WHERE c.item IN ('cet1', 'at1', 'tier2')), 0)::DECIMAL(38,18)
            AS own_funds
    FROM days AS d
    LEFT JOIN capital AS c ON c.as_of_date = d.day
    GROUP BY d.day
),
custodian_exposure AS (
    SELECT
        c.as_of_date AS day,
        'custodian' AS counterparty_type,
        c.custodian AS counterparty,
        sum(dmul(c.balance, pr.price)) AS exposure_usd
    FROM custody AS c
    LEFT JOIN v_asset_prices AS pr ON pr.as_of_date = c.as_of_date AND pr.asset = c.asset
    WHERE c.as_of_date IN (SELECT day FROM days)
      AND c.as_of_date <= $as_of
      AND list_contains($custodians, c.custodian)
      AND c.designation = 'house'
      AND c.custodian_type <> 'self'
    GROUP BY c.as_of_date, c.custodian
),
group_exposure AS (
    SELECT
        e.as_of_date AS day,
        'client_group' AS counterparty_type,
        e.group_id AS counterparty,
        sum(greatest(-e.equity_usd, 0::DECIMAL(38,18))) AS exposure_usd
    FROM v_account_equity AS e
    WHERE len($groups) > 0  -- skip the history of client equity when no group is over the limit
      AND e.as_of_date IN (SELECT day FROM days)
      AND e.as_of_date <= $as_of
      AND list_contains($groups, e.group_id)
      AND e.account_type = 'client'
    GROUP BY e.as_of_date, e.group_id
    HAVING sum(greatest(-e.equity_usd, 0::DECIMAL(38,18))) > 0
),
exposures AS (
    SELECT x.*, o.own_funds, greatest(dmul(o.own_funds, $limit_share), 0::DECIMAL(38,18)) AS limit_usd
    FROM (SELECT * FROM custodian_exposure UNION ALL SELECT * FROM group_exposure) AS x
    JOIN own_funds AS o ON o.day = x.day
),
today AS (
    SELECT * FROM exposures WHERE day = $as_of
),
-- For each counterparty exposed today: the most recent stored day (smallest days_back) on
-- which it was NOT over the limit; no exposure that day counts as not over.
first_not_over AS (
    SELECT
        t.counterparty_type,
        t.counterparty,
        min(d.days_back) FILTER (
            WHERE x.day IS NULL OR NOT (x.exposure_usd > x.limit_usd)
        ) AS days_back_not_over
    FROM today AS t
    CROSS JOIN days AS d
    LEFT JOIN exposures AS x
        ON x.day = d.day
        AND x.counterparty_type = t.counterparty_type
        AND x.counterparty = t.counterparty
    GROUP BY t.counterparty_type, t.counterparty
),
lookback AS (
    SELECT count(*) AS days_looked_at, (SELECT count(*) FROM all_days) AS days_stored FROM days
)
SELECT
    t.counterparty_type,
    t.counterparty,
    t.exposure_usd::DECIMAL(38,18) AS exposure_usd,
    t.own_funds,
    t.limit_usd,
    t.exposure_usd > t.limit_usd AS over_limit,
    coalesce(f.days_back_not_over - 1, lb.days_looked_at)::INTEGER AS days_over,
    f.days_back_not_over IS NOT NULL OR lb.days_looked_at >= lb.days_stored AS run_complete
FROM today AS t
JOIN first_not_over AS f
    ON f.counterparty_type = t.counterparty_type AND f.counterparty = t.counterparty
CROSS JOIN lookback AS lb
ORDER BY t.counterparty_type, t.counterparty;
