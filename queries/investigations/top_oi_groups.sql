-- description: The largest holders of open interest per instrument: each group's gross |quantity| as a share of OI (sum of long quantities, all accounts).
-- param: as_of date (optional): the as-of date [default: the latest stored day]
-- param: instrument_id text (optional): one instrument
-- param: top integer (optional): groups per instrument [default: 10]
WITH day AS (
    SELECT coalesce($as_of::DATE, max(as_of_date)) AS as_of_date FROM positions
),
pos AS (
    SELECT p.*, CASE WHEN p.account_type = 'client' THEN p.group_id ELSE p.account_id END AS holder
    FROM v_positions AS p JOIN day USING (as_of_date)
    WHERE $instrument_id::VARCHAR IS NULL OR p.instrument_id = $instrument_id::VARCHAR
),
oi AS (
    SELECT instrument_id, sum(quantity) FILTER (WHERE quantity > 0) AS open_interest
    FROM pos GROUP BY instrument_id
),
holders AS (
    SELECT instrument_id, holder, any_value(account_type) AS account_type,
           sum(abs(quantity)) AS gross_quantity, count(*) AS positions
    FROM pos GROUP BY instrument_id, holder
)
SELECT
    (SELECT as_of_date FROM day) AS as_of_date,
    h.instrument_id,
    h.holder AS group_or_account,
    h.account_type,
    h.positions,
    h.gross_quantity,
    o.open_interest,
    ddiv(h.gross_quantity, o.open_interest) AS oi_share
FROM holders AS h JOIN oi AS o USING (instrument_id)
WHERE o.open_interest > 0
QUALIFY row_number() OVER (PARTITION BY h.instrument_id ORDER BY h.gross_quantity DESC, h.holder)
        <= coalesce($top::INTEGER, 10)
ORDER BY h.instrument_id, h.gross_quantity DESC, h.holder;
