-- description: One account across days: per asset its cross balance and roll-forward (previous close + cross movements = balance), uPnL, isolated equity, bad debt, equity and the day's movements.
-- param: account_id text (required): the account to follow
-- param: from date (optional): first as-of date [default: the first stored day]
-- param: to date (optional): last as-of date [default: the last stored day]
-- previous_balance is the cross balance at the previous close, the calendar day before (0 when the
-- account had none; NULL on the first stored day and after a gap in the stored days, where the
-- roll-forward cannot be checked: the day's movements start at the missing close, as for SEG-04);
-- cross_rollforward_difference = balance - (previous_balance + cross_movements_net), the SEG-04
-- figure (0 when the wallet rolls forward). Isolated movements (position_id set) are counted apart.
WITH stored AS (
    SELECT as_of_date, lag(as_of_date) OVER (ORDER BY as_of_date) AS previous_date
    FROM (SELECT DISTINCT as_of_date FROM loads)
),
moves AS (
    SELECT
        as_of_date,
        asset,
        count(*) FILTER (WHERE position_id IS NULL) AS cross_movements,
        coalesce(sum(amount) FILTER (WHERE position_id IS NULL), 0) AS cross_movements_net,
        count(*) FILTER (WHERE position_id IS NOT NULL) AS isolated_movements,
        coalesce(sum(amount) FILTER (WHERE position_id IS NOT NULL), 0) AS isolated_movements_net
    FROM movements
    WHERE account_id = $account_id
    GROUP BY ALL
),
cross_balances AS (
    SELECT as_of_date, asset, sum(balance) AS balance
    FROM balances
    WHERE account_id = $account_id
    GROUP BY ALL
),
open_positions AS (
    SELECT as_of_date, settle_asset AS asset, count(*) AS open_positions
    FROM v_positions
    WHERE account_id = $account_id
    GROUP BY ALL
),
history AS (
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
        coalesce(m.cross_movements, 0) AS cross_movements,
        coalesce(m.cross_movements_net, 0)::DECIMAL(38,18) AS cross_movements_net,
        coalesce(m.isolated_movements, 0) AS isolated_movements,
        coalesce(m.isolated_movements_net, 0)::DECIMAL(38,18) AS isolated_movements_net,
        CASE WHEN s.previous_date = e.as_of_date - 1 THEN coalesce(pb.balance, 0)::DECIMAL(38,18) END
            AS previous_balance
    FROM v_account_equity AS e
    LEFT JOIN stored AS s USING (as_of_date)
    LEFT JOIN cross_balances AS pb ON pb.as_of_date = s.previous_date AND pb.asset = e.asset
    LEFT JOIN open_positions AS p ON p.as_of_date = e.as_of_date AND p.asset = e.asset
    LEFT JOIN moves AS m ON m.as_of_date = e.as_of_date AND m.asset = e.asset
    WHERE e.account_id = $account_id
      AND ($from::DATE IS NULL OR e.as_of_date >= $from::DATE)
      AND ($to::DATE IS NULL OR e.as_of_date <= $to::DATE)
)
SELECT
    *,
    balance - (previous_balance + cross_movements_net) AS cross_rollforward_difference
FROM history
ORDER BY as_of_date, asset;
