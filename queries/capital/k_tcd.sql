-- K-TCD inputs (IFR Art. 26): exposure value EV per custodian on $as_of = house-designated
-- custody held at a custodian that is not the venue itself (custodian_type <> 'self'), in USD.
-- The risk factor depends on custodian_type (credit_institution / investment_firm 1.6%, else 8%):
-- the Python side applies it.
SELECT
    c.custodian,
    c.custodian_type,
    sum(dmul(c.balance, pr.price))::DECIMAL(38,18) AS exposure_usd
FROM custody AS c
LEFT JOIN v_asset_prices AS pr ON pr.as_of_date = c.as_of_date AND pr.asset = c.asset
WHERE c.as_of_date = $as_of
  AND c.designation = 'house'
  AND c.custodian_type <> 'self'
GROUP BY c.custodian, c.custodian_type
ORDER BY c.custodian, c.custodian_type;
