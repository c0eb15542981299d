-- The stored days each averaged K-factor uses (IFR Art. 18 K-CMH, 19 K-ASA, 20 K-COH, 33 K-DTF).
--
-- Each is a rolling average of daily values over an IFR window that ends three months before the
-- as-of date: days d with ($as_of - months_from) < d <= ($as_of - 3 months):
--   K-CMH, K-ASA, K-DTF: the previous 9 months excluding the 3 most recent (6 months of days);
--   K-COH:               the previous 6 months excluding the 3 most recent (3 months of days).
-- Only stored days count (a stored day = a date with a recorded load or with capital figures).
-- When no stored day falls inside a window, every stored day up to and including $as_of is used
-- instead (fallback = true; the statement says so).
--
-- One row per (factor, day used); a factor with no stored day at all has one row with day NULL.
-- The daily values come from ifr_daily_values.sql.
WITH stored_days AS (
    SELECT as_of_date AS day FROM loads WHERE as_of_date <= $as_of
    UNION
    SELECT as_of_date AS day FROM capital WHERE as_of_date <= $as_of
),
windows (factor, ordinal, months_from) AS (
    VALUES ('K-CMH', 1, 9), ('K-ASA', 2, 9), ('K-COH', 3, 6), ('K-DTF', 4, 9)
),
bounds AS (
    SELECT
        w.factor,
        w.ordinal,
        ($as_of - to_months(w.months_from))::DATE AS window_after,
        ($as_of - to_months(3))::DATE AS window_through
    FROM windows AS w
),
in_window AS (
    SELECT b.factor, d.day
    FROM bounds AS b
    JOIN stored_days AS d ON d.day > b.window_after AND d.day <= b.window_through
),
window_counts AS (
    SELECT b.factor, count(w.day) AS days_in_window
    FROM bounds AS b
    LEFT JOIN in_window AS w ON w.factor = b.factor
    GROUP BY b.factor
),
used AS (
    SELECT factor, day FROM in_window
    UNION ALL
    SELECT c.factor, d.day
    FROM window_counts AS c
    CROSS JOIN stored_days AS d
    WHERE c.days_in_window = 0
)
SELECT
    b.factor,
    b.window_after,
    b.window_through,
    c.days_in_window,
    c.days_in_window = 0 AS fallback,
    u.day
FROM bounds AS b
JOIN window_counts AS c ON c.factor = b.factor
LEFT JOIN used AS u ON u.factor = b.factor
ORDER BY b.ordinal, u.day;
