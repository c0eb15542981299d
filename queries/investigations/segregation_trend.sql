-- description: The segregation statement over time per asset (v_segregation): client requirement, funds held, excess, coverage ratio and the USD figures, with the change of the excess since the asset's previous stored day (across a gap: over several days).
-- param: asset text (optional): one asset, e.g. ETH [default: every asset]
-- param: from date (optional): first as-of date [default: the first stored day]
-- param: to date (optional): last as-of date [default: the last stored day]
-- excess_change / excess_usd_change compare with the previous stored day of the same asset, also
-- for the first day of a `from` window (NULL only on the asset's first stored day).
-- coverage_ratio = held / client_requirement (NULL when the requirement is 0 or below 1e-9, or
-- when the ratio would reach 1e19); a ratio below 1 is
-- a SEG-01 shortfall.
SELECT *
FROM (
    SELECT
        s.as_of_date,
        s.asset,
        s.client_requirement,
        s.held,
        s.excess,
        s.coverage_ratio,
        s.deficits,
        s.isolated_bad_debt,
        s.price,
        s.requirement_usd,
        s.held_usd,
        s.excess_usd,
        s.excess - lag(s.excess) OVER w AS excess_change,
        s.excess_usd - lag(s.excess_usd) OVER w AS excess_usd_change
    FROM v_segregation AS s
    WHERE ($asset::VARCHAR IS NULL OR s.asset = $asset::VARCHAR)
      AND ($to::DATE IS NULL OR s.as_of_date <= $to::DATE)
    WINDOW w AS (PARTITION BY s.asset ORDER BY s.as_of_date)
) AS t
-- the window first, then the `from` date: the first day's change reads the day before it
WHERE ($from::DATE IS NULL OR t.as_of_date >= $from::DATE)
ORDER BY t.asset, t.as_of_date;
