-- Warning, not a load error: volumes rows naming an instrument the day's instruments file does
-- not list (a mistyped id, a file of another venue or day). DESIGN.md sets no rule, and the
-- traded notional is already in the reporting currency, so the row loads and counts toward
-- K-COH and K-DTF (which sum every row by account type); but a volume no instrument explains
-- is worth a look before it is signed. One row: how many, and the first by row number.
SELECT count(*),
       min(v._row),
       arg_min(v.instrument_id, v._row)
FROM staged_volumes AS v
WHERE NOT EXISTS (
    SELECT 1 FROM staged_instruments AS i WHERE i.instrument_id = v.instrument_id
)
