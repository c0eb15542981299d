-- Segregation totals in the reporting currency for the as-of date and the previous stored day
-- (executive summary and its day-over-day change). Each asset is segregated in kind, so the
-- total excess nets assets against each other; total_deficiency_usd is the sum of the per-asset
-- deficiencies (a positive magnitude) that the netted figure would hide.
SELECT
    as_of_date,
    sum(requirement_usd) AS requirement_usd,
    sum(held_usd) AS held_usd,
    sum(excess_usd) AS excess_usd,
    sum(greatest(-excess_usd, 0::DECIMAL(38,18))) AS total_deficiency_usd,
    count(*) FILTER (WHERE excess < 0) AS assets_in_deficiency,
    count(*) FILTER (WHERE price IS NULL) AS unpriced_assets
FROM v_segregation
WHERE as_of_date IN ($as_of, $prev_as_of)
GROUP BY as_of_date
ORDER BY as_of_date;
