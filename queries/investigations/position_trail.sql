-- description: One isolated position's trail: every movement on its bucket and each day's margin roll-forward per asset (previous margin + movements = margin), as SEG-05 computes it.
-- param: position_id text (required): the position to trace
-- One `close` row per day and asset of the bucket (SEG-05's keys): each day the position was
-- open (its settle asset), the day after a close at which it was isolated (a bucket that
-- vanished without a movement is SEG-05's breach too), and each asset it moved in that day.
-- amount = the day's net movements in that asset; previous_margin and isolated_margin count only
-- where the position was isolated and settles in that asset (0 otherwise), as SEG-05 does;
-- rollforward_difference = isolated_margin - (previous_margin + amount), reported minus expected
-- as SEG-05 reports it: 0 when the bucket rolls forward, NULL on the first stored day and after a
-- gap in the stored days (the previous close is missing), and NULL on a day the position was
-- cross at both closes (its movements are SEG-06's, not a bucket's). The `movement` rows, in time
-- order, come before that day's `close` rows.
WITH stored AS (
    -- every stored day, with the stored day before it (NULL on the first day of the history)
    SELECT as_of_date, lag(as_of_date) OVER (ORDER BY as_of_date) AS previous_date
    FROM (SELECT DISTINCT as_of_date FROM loads)
),
pos AS (
    SELECT p.as_of_date, p.account_id, p.instrument_id, p.margin_mode, p.quantity,
           p.isolated_margin, i.settle_asset
    FROM positions AS p
    LEFT JOIN instruments AS i ON i.as_of_date = p.as_of_date AND i.instrument_id = p.instrument_id
    WHERE p.position_id = $position_id
),
moves AS (
    SELECT as_of_date, asset, sum(amount) AS amount
    FROM movements
    WHERE position_id = $position_id
    GROUP BY ALL
),
keys AS (
    SELECT as_of_date, settle_asset AS asset FROM pos
    UNION
    SELECT s.as_of_date, p.settle_asset
    FROM pos AS p
    JOIN stored AS s ON s.previous_date = p.as_of_date AND s.as_of_date = p.as_of_date + 1
    WHERE p.margin_mode = 'isolated'
    UNION
    SELECT as_of_date, asset FROM moves
),
rolled AS (
    SELECT
        k.as_of_date,
        k.asset,
        c.as_of_date IS NOT NULL AS is_open,
        coalesce(c.account_id, p.account_id) AS account_id,
        coalesce(c.instrument_id, p.instrument_id) AS instrument_id,
        c.margin_mode,
        c.quantity,
        -- the previous close (the calendar day before): NULL when it is not stored
        CASE WHEN s.previous_date IS DISTINCT FROM k.as_of_date - 1 THEN NULL
             WHEN p.margin_mode = 'isolated' AND p.settle_asset = k.asset
             THEN coalesce(p.isolated_margin, 0) ELSE 0 END::DECIMAL(38,18) AS previous_margin,
        coalesce(m.amount, 0)::DECIMAL(38,18) AS movements_net,
        CASE WHEN c.margin_mode = 'isolated' AND c.settle_asset = k.asset
             THEN coalesce(c.isolated_margin, 0) ELSE 0 END::DECIMAL(38,18) AS isolated_margin,
        -- SEG-05's bucket: isolated at either close, or open at neither (moved in the day)
        p.margin_mode = 'isolated' OR c.margin_mode = 'isolated'
            OR (p.as_of_date IS NULL AND c.as_of_date IS NULL) AS is_bucket
    FROM keys AS k
    LEFT JOIN stored AS s ON s.as_of_date = k.as_of_date
    LEFT JOIN pos AS c ON c.as_of_date = k.as_of_date
    LEFT JOIN pos AS p ON p.as_of_date = k.as_of_date - 1
    LEFT JOIN moves AS m ON m.as_of_date = k.as_of_date AND m.asset = k.asset
)
SELECT
    as_of_date,
    'close' AS record,
    NULL::TIMESTAMP AS ts,
    NULL AS movement_id,
    CASE WHEN is_open THEN 'open' ELSE 'closed' END AS kind,
    account_id,
    instrument_id,
    asset,
    margin_mode,
    quantity,
    movements_net AS amount,
    previous_margin,
    isolated_margin,
    CASE WHEN is_bucket THEN isolated_margin - (previous_margin + movements_net) END
        AS rollforward_difference,
    NULL AS initiated_by,
    NULL AS transfer_id
FROM rolled
UNION ALL
SELECT
    m.as_of_date,
    'movement' AS record,
    m.ts,
    m.movement_id,
    m.kind,
    m.account_id,
    NULL AS instrument_id,
    m.asset,
    NULL AS margin_mode,
    NULL AS quantity,
    m.amount,
    NULL AS previous_margin,
    NULL AS isolated_margin,
    NULL AS rollforward_difference,
    m.initiated_by,
    m.transfer_id
FROM movements AS m
WHERE m.position_id = $position_id
ORDER BY as_of_date, record DESC, ts, movement_id, asset;
