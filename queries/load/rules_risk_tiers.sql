-- Load rules: risk tier tables (DESIGN.md section 3).
-- Each row = one broken rule: (file, row_no, column_name, value, expected). Reads staged_risk_tiers.
-- Every tier's instrument exists; an instrument's tiers, ordered by `tier`, are contiguous from 0:
-- the first floor is 0, each floor equals the previous tier's cap, cap > floor, and only the last
-- tier may have an empty cap (= unbounded). Non-decreasing rates are NOT part of the contract.
WITH ordered AS (
    SELECT _row, instrument_id, tier, notional_floor, notional_cap,
           lag(notional_cap) OVER w AS previous_cap,
           lag(tier) OVER w AS previous_tier,
           row_number() OVER w AS position,
           count(*) OVER (PARTITION BY instrument_id) AS tiers
    FROM staged_risk_tiers
    WINDOW w AS (PARTITION BY instrument_id ORDER BY tier, _row)
)
SELECT 'risk_tiers' AS file, t._row AS row_no, 'instrument_id' AS column_name, t.instrument_id AS value,
       'an instrument_id listed in instruments' AS expected
FROM staged_risk_tiers t ANTI JOIN staged_instruments i USING (instrument_id)
UNION ALL
SELECT 'risk_tiers', _row, 'notional_floor', mir_fmt(notional_floor),
       '0 on the first tier of ' || instrument_id || ' (tiers are contiguous from 0)'
FROM ordered WHERE position = 1 AND notional_floor <> 0
UNION ALL
SELECT 'risk_tiers', _row, 'notional_floor', mir_fmt(notional_floor),
       'the cap of the previous tier ' || previous_tier || ' of ' || instrument_id || ' ('
       || mir_fmt(previous_cap) || '): no gap or overlap between tiers'
FROM ordered WHERE position > 1 AND previous_cap IS NOT NULL AND notional_floor <> previous_cap
UNION ALL
SELECT 'risk_tiers', _row, 'notional_cap', NULL,
       'a cap: only the last tier of ' || instrument_id || ' may be unbounded (empty notional_cap)'
FROM ordered WHERE position < tiers AND notional_cap IS NULL
UNION ALL
SELECT 'risk_tiers', _row, 'notional_cap', mir_fmt(notional_cap),
       'notional_cap > notional_floor (' || mir_fmt(notional_floor) || ')'
FROM ordered WHERE notional_cap IS NOT NULL AND notional_cap <= notional_floor
