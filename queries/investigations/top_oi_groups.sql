-- description: The largest holders of open interest per instrument: each group's gross |quantity| as a share of OI (sum of long quantities, all accounts).
-- param: as_of date (optional): the as-of date [default: the latest stored day]
-- param: instrument_id text (optional): one instrument
-- param: top count (optional): groups per instrument [default: 10]
WITH day AS (
    SELECT coalesce($as_of::DATE, max(as_of_date)) AS as_of_date FROM positions
),
holders AS (
    -- holders and open interest as CON-01/CON-02 define them (queries/views/40_v_open_interest.sql)
    SELECT h.instrument_id, h.holder,
           any_value(CASE WHEN h.account_type = 'client' THEN h.group_id ELSE h.account_id END)
               AS group_or_account,
           any_value(h.account_type) AS account_type,
           sum(abs(h.quantity)) AS gross_quantity, count(*) AS positions
    FROM v_position_holders AS h JOIN day USING (as_of_date)
    WHERE $instrument_id::VARCHAR IS NULL OR h.instrument_id = $instrument_id::VARCHAR
    GROUP BY h.instrument_id, h.holder
),
oi AS (
    SELECT o.instrument_id, o.open_interest, o.open_interest_usd
    FROM v_open_interest AS o JOIN day USING (as_of_date)
)
SELECT
    (SELECT as_of_date FROM day) AS as_of_date,
    h.instrument_id,
    h.group_or_account,
    h.account_type,
    h.positions,
    h.gross_quantity,
    o.open_interest,
    o.open_interest_usd,
    ddiv(h.gross_quantity, o.open_interest) AS oi_share
FROM holders AS h JOIN oi AS o USING (instrument_id)
WHERE o.open_interest > 0
QUALIFY row_number() OVER (PARTITION BY h.instrument_id ORDER BY h.gross_quantity DESC, h.holder)
        <= coalesce($top::INTEGER, 10)
ORDER BY h.instrument_id, h.gross_quantity DESC, h.holder;
