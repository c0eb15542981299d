-- Stress and VaR inputs: the firm's own custody of $as_of per designation and asset
-- (insurance_fund: the default-fund resources of CAP-04; house + insurance_fund: VaR holdings).
SELECT c.designation, c.asset, sum(c.balance) AS balance
FROM custody AS c
WHERE c.as_of_date = $as_of AND c.designation IN ('house', 'insurance_fund')
GROUP BY c.designation, c.asset
ORDER BY c.designation, c.asset;
