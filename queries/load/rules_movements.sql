-- Load rules: movements (DESIGN.md section 3).
-- Each row = one broken rule: (file, row_no, column_name, value, expected). Reads staged_movements.
-- account_id exists. position_id is NOT checked: it may name a position closed during the day.
SELECT 'movements' AS file, m._row AS row_no, 'account_id' AS column_name, m.account_id AS value,
       'an account_id listed in accounts' AS expected
FROM staged_movements m ANTI JOIN staged_accounts a USING (account_id)
