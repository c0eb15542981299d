-- description: One account across days: per asset its cross balance, uPnL, isolated equity, bad debt, equity and the day's movements.
-- param: account_id text (required): the account to follow
-- param: from date (optional): first as-of date [default: the first stored day]
-- param: to date (optional): last as-of date [default: the last stored day]
WITH moves AS (
    SELECT as_of_date, asset, count(*) AS movements, sum(amount) AS movements_net
    FROM movements
    WHERE account_id = $account_id
    GROUP BY ALL
),
open_positions AS (
    SELECT as_of_date, settle_asset AS asset, count(*) AS open_positions
    FROM v_positions
    WHERE account_id = $account_id
    GROUP BY ALL
)
SELECT
    e.as_of_date,
    e.account_id,
    e.account_type,
    e.group_id,
    e.asset,
    e.balance,
    e.cross_upnl,
    e.isolated_equity,
    e.isolated_bad_debt,
    e.equity,
    e.equity_usd,
    coalesce(p.open_positions, 0) AS open_positions,
    coalesce(m.movements, 0) AS movements,
    coalesce(m.movements_net, 0) AS movements_net
FROM v_account_equity AS e
LEFT JOIN open_positions AS p USING (as_of_date, asset)
LEFT JOIN moves AS m USING (as_of_date, asset)
WHERE e.account_id = $account_id
  AND ($from::DATE IS NULL OR e.as_of_date >= $from::DATE)
  AND ($to::DATE IS NULL OR e.as_of_date <= $to::DATE)
ORDER BY e.as_of_date, e.asset;
