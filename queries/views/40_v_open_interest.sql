-- Open positions with their holder, and open interest per instrument (DESIGN.md section 5,
-- CON-01/CON-02). Read straight from the tables: v_positions' margin figures are not needed.
--
-- v_position_holders: one row per open position with account_type, group_id and the holder
--   used for concentration: a client's group (accounts.group_id); each house or insurance-fund
--   account is a holder of its own.
-- v_open_interest: per (as_of_date, instrument_id)
--   open_interest      sum of long quantities (contracts) of ALL accounts, house included
--   open_interest_usd  linear: OI x contract_size x mark x USD price of the quote asset;
--                      inverse: OI x contract_size x USD price of the quote asset (contracts are
--                      quote-currency units). NULL when the quote asset has no price.

CREATE OR REPLACE VIEW v_position_holders AS
SELECT
    p.as_of_date,
    p.position_id,
    p.instrument_id,
    p.account_id,
    a.account_type,
    a.group_id,
    CASE WHEN a.account_type = 'client' THEN 'group ' || a.group_id
         ELSE a.account_type || ' ' || p.account_id END AS holder,
    p.quantity
FROM positions AS p
JOIN accounts AS a ON a.as_of_date = p.as_of_date AND a.account_id = p.account_id;

CREATE OR REPLACE VIEW v_open_interest AS
WITH open_interest AS (
    SELECT
        p.as_of_date,
        p.instrument_id,
        coalesce(sum(p.quantity) FILTER (WHERE p.quantity > 0), 0)::DECIMAL(38,18) AS open_interest
    FROM positions AS p
    GROUP BY p.as_of_date, p.instrument_id
),
described AS (
    SELECT
        o.*,
        i.kind IN ('inverse_perpetual', 'inverse_future') AS is_inverse,
        i.contract_size,
        i.quote_asset,
        m.price AS mark_price
    FROM open_interest AS o
    JOIN instruments AS i ON i.as_of_date = o.as_of_date AND i.instrument_id = o.instrument_id
    LEFT JOIN prices AS m
        ON m.as_of_date = o.as_of_date AND m.kind = 'instrument' AND m.symbol = o.instrument_id
),
-- one dmul per step: nested dmul() calls expand the macro's operands many times over
in_units AS (
    SELECT d.*, dmul(d.open_interest, d.contract_size) AS open_interest_units FROM described AS d
),
in_quote AS (
    SELECT u.*, CASE WHEN u.is_inverse THEN u.open_interest_units
                     ELSE dmul(u.open_interest_units, u.mark_price) END AS open_interest_quote
    FROM in_units AS u
)
SELECT q.*, dmul(q.open_interest_quote, ap.price) AS open_interest_usd
FROM in_quote AS q
LEFT JOIN v_asset_prices AS ap ON ap.as_of_date = q.as_of_date AND ap.asset = q.quote_asset;
