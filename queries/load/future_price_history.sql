-- Warning, not a load error: price_history rows dated after the snapshot's own date. A
-- back-fill holds past prices (DESIGN.md section 3); a later date is a price no one could know
-- on that day (a mistyped year, a file of another day). The VaR of a day reads only rows dated
-- up to that day, so such a row is used once the calendar reaches its date, possibly by a day
-- whose own snapshot has no price for the asset. One row: how many, and the first by row number.
SELECT count(*),
       min(_row),
       arg_min(strftime(date, '%Y-%m-%d') || ' ' || asset, _row)
FROM staged_price_history
WHERE date > getvariable('mir_as_of')
