-- Load rules: movements (DESIGN.md section 3).
-- Each row = one broken rule: (file, row_no, column_name, value, expected). Reads staged_movements.
-- account_id exists. position_id is NOT checked: it may name a position closed during the day.
-- ts is before the snapshot's close (the end of its as-of date, UTC): a snapshot holds the
-- balance changes up to its close, and a later one cannot be in it. (No lower bound: a change
-- booked late with its original time is still a change since the previous close; a movement
-- that really belongs to an earlier day breaks the balance roll-forward, SEG-04.)
SELECT 'movements' AS file, m._row AS row_no, 'account_id' AS column_name, m.account_id AS value,
       'an account_id listed in accounts' AS expected
FROM staged_movements m ANTI JOIN staged_accounts a USING (account_id)
UNION ALL
SELECT 'movements', m._row, 'ts', strftime(m.ts, '%Y-%m-%dT%H:%M:%S.%fZ'),
       'a time before the close of the snapshot (' || strftime(getvariable('mir_as_of') + 1, '%Y-%m-%d')
       || 'T00:00:00Z, the end of ' || strftime(getvariable('mir_as_of'), '%Y-%m-%d')
       || ' UTC): a snapshot holds the balance changes up to its close'
FROM staged_movements m
WHERE m.ts >= getvariable('mir_as_of') + 1
