-- description: One account across days: per asset its cross balance and roll-forward (previous close + cross movements = balance), uPnL, isolated equity, bad debt, equity and the day's movements.
-- param: account_id text (required): the account to follow
-- param: from date (optional): first as-of date [default: the first stored day]
-- param: to date (optional): last as-of date [default: the last stored day]
-- previous_balance is the cross balance at the previous close, the calendar day before (0 when the
-- account had none; NULL on the first stored day and after a gap in the stored days, where the
-- roll-forward cannot be checked: the day's movements start at the missing close, as for SEG-04);
-- cross_rollforward_difference = balance - (previous_balance + cross_movements_net), the SEG-04
-- figure (0 when the wallet rolls forward). Isolated movements (position_id set) are counted apart.
-- One row per day and asset that SEG-04 looks at: also a wallet of the previous close that is gone
-- (balance 0) and an asset moved in the day that no wallet holds.
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
equity AS (
    SELECT * FROM v_account_equity WHERE account_id = $account_id
),
keys AS (
    -- SEG-04's keys: the day's equity rows (balances and settle assets of positions), each asset
    -- the account moved in that day, and each wallet of the previous close, which may be gone
    -- (review of 2026-12-05: a wallet that vanished, or a deposit that reached no wallet, was
    -- SEG-04's breach and had no row here)
    SELECT as_of_date, asset FROM equity
    UNION
    SELECT as_of_date, asset FROM moves
    UNION
    SELECT s.as_of_date, b.asset
    FROM cross_balances AS b
    JOIN stored AS s ON s.previous_date = b.as_of_date AND s.as_of_date = b.as_of_date + 1
),
history AS (
    SELECT
        k.as_of_date,
        $account_id AS account_id,
        coalesce(e.account_type, a.account_type) AS account_type,
        coalesce(e.group_id, a.group_id) AS group_id,
        k.asset,
        -- no equity row: nothing held in that asset that day (0); an unpriced asset keeps its
        -- NULL equity_usd
        coalesce(e.balance, 0)::DECIMAL(38,18) AS balance,
        coalesce(e.cross_upnl, 0)::DECIMAL(38,18) AS cross_upnl,
        coalesce(e.isolated_equity, 0)::DECIMAL(38,18) AS isolated_equity,
        coalesce(e.isolated_bad_debt, 0)::DECIMAL(38,18) AS isolated_bad_debt,
        coalesce(e.equity, 0)::DECIMAL(38,18) AS equity,
        CASE WHEN e.asset IS NULL THEN 0 ELSE e.equity_usd END::DECIMAL(38,18) AS equity_usd,
        coalesce(p.open_positions, 0) AS open_positions,
        coalesce(m.cross_movements, 0) AS cross_movements,
        coalesce(m.cross_movements_net, 0)::DECIMAL(38,18) AS cross_movements_net,
        coalesce(m.isolated_movements, 0) AS isolated_movements,
        coalesce(m.isolated_movements_net, 0)::DECIMAL(38,18) AS isolated_movements_net,
        CASE WHEN s.previous_date = k.as_of_date - 1 THEN coalesce(pb.balance, 0)::DECIMAL(38,18) END
            AS previous_balance
    FROM keys AS k
    LEFT JOIN equity AS e ON e.as_of_date = k.as_of_date AND e.asset = k.asset
    LEFT JOIN accounts AS a ON a.as_of_date = k.as_of_date AND a.account_id = $account_id
    LEFT JOIN stored AS s ON s.as_of_date = k.as_of_date
    LEFT JOIN cross_balances AS pb ON pb.as_of_date = s.previous_date AND pb.asset = k.asset
    LEFT JOIN open_positions AS p ON p.as_of_date = k.as_of_date AND p.asset = k.asset
    LEFT JOIN moves AS m ON m.as_of_date = k.as_of_date AND m.asset = k.asset
    WHERE ($from::DATE IS NULL OR k.as_of_date >= $from::DATE)
      AND ($to::DATE IS NULL OR k.as_of_date <= $to::DATE)
)
SELECT
    *,
    balance - (previous_balance + cross_movements_net) AS cross_rollforward_difference
FROM history
ORDER BY as_of_date, asset;
