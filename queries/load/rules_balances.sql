-- Load rules: balances (DESIGN.md section 3). Reads staged_balances.
-- account_id exists: a balance of an account missing from accounts has no account type, so it
-- would silently fall out of the client requirement (v_segregation counts client accounts only).
SELECT 'balances' AS file, b._row AS row_no, 'account_id' AS column_name, b.account_id AS value,
       'an account_id listed in accounts' AS expected
FROM staged_balances b ANTI JOIN staged_accounts a USING (account_id)
