-- The capital ratio of the stored days before $as_of, as each day's latest check run recorded it
-- (capital_results; the rule of the capital_ratio_trend investigation), when that run valued the
-- regime in force ($regime): the latest $points days. The report overrides the previous stored
-- day with its exact figure for today's inputs and configuration (reports.render.build).
WITH latest AS (
    SELECT as_of_date, regime, ratio
    FROM capital_results
    WHERE as_of_date < $as_of
    QUALIFY row_number() OVER (PARTITION BY as_of_date ORDER BY checked_at DESC, run_id DESC) = 1
)
SELECT as_of_date, ratio
FROM latest
WHERE regime = $regime AND ratio IS NOT NULL
ORDER BY as_of_date DESC
LIMIT $points;
