-- Stress inputs: the cross wallets (balances) of $as_of with the account's type and group.
SELECT
    b.account_id,
    a.account_type,
    a.group_id,
    b.asset,
    b.balance
FROM balances AS b
JOIN accounts AS a
    ON a.as_of_date = b.as_of_date AND a.account_id = b.account_id
WHERE b.as_of_date = $as_of AND list_contains($account_types, a.account_type);
-- No ORDER BY (as positions.sql): the sums are exact Decimal and every result is sorted by its
-- own keys, so sorting 1.5M wallets by a string key bought nothing.
