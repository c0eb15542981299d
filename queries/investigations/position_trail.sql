-- description: One isolated position's trail: every movement on its bucket and each day's margin roll-forward (previous margin + movements = margin).
-- param: position_id text (required): the position to trace
-- One `close` row per day the position was open or its bucket moved (amount = the day's net
-- movements; rollforward_difference = isolated_margin - (previous_margin + amount), reported minus
-- expected as SEG-05 reports it: 0 when the bucket rolls forward, NULL on the first stored day
-- and after a gap in the stored days, where the previous close is missing), after that day's
-- `movement` rows in time order.
WITH stored AS (
    -- every stored day, with the stored day before it (NULL on the first day of the history)
    SELECT as_of_date, lag(as_of_date) OVER (ORDER BY as_of_date) AS previous_date
    FROM (SELECT DISTINCT as_of_date FROM loads)
),
days AS (
    -- every day on which the position was open or its bucket moved
    SELECT as_of_date FROM positions WHERE position_id = $position_id
    UNION
    SELECT as_of_date FROM movements WHERE position_id = $position_id
),
state AS (
    SELECT d.as_of_date, p.account_id, p.instrument_id, p.margin_mode, p.quantity,
           coalesce(p.isolated_margin, 0) AS isolated_margin, p.position_id IS NOT NULL AS is_open,
           s.previous_date
    FROM days AS d
    LEFT JOIN stored AS s USING (as_of_date)
    LEFT JOIN positions AS p ON p.as_of_date = d.as_of_date AND p.position_id = $position_id
),
rolled AS (
    SELECT
        s.*,
        -- the previous close's margin (the calendar day before); 0 if the position was not open
        -- then (new), NULL if that close is not stored (the roll-forward cannot be checked)
        CASE WHEN s.previous_date IS DISTINCT FROM s.as_of_date - 1 THEN NULL
             ELSE coalesce((SELECT coalesce(q.isolated_margin, 0) FROM positions AS q
                            WHERE q.position_id = $position_id AND q.as_of_date = s.previous_date), 0)
        END AS previous_margin,
        coalesce((SELECT sum(m.amount) FROM movements AS m
                  WHERE m.position_id = $position_id AND m.as_of_date = s.as_of_date), 0) AS movements_net
    FROM state AS s
)
SELECT
    as_of_date,
    'close' AS record,
    NULL::TIMESTAMP AS ts,
    NULL AS movement_id,
    CASE WHEN is_open THEN 'open' ELSE 'closed' END AS kind,
    account_id,
    instrument_id,
    margin_mode,
    quantity,
    movements_net AS amount,
    previous_margin,
    isolated_margin,
    isolated_margin - (previous_margin + movements_net) AS rollforward_difference,
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
ORDER BY as_of_date, record DESC, ts, movement_id;
