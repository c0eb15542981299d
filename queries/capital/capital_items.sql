-- The firm's capital figures of the day (capital file, reporting currency), one row per item.
-- Items absent from the file are absent here; the Python side takes them as 0 and says so.
SELECT item, sum(amount) AS amount
FROM capital
WHERE as_of_date = $as_of
GROUP BY item
ORDER BY item;
