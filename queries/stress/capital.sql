-- CAP-05 input: the firm's capital items of $as_of (own funds by regime).
SELECT c.item, sum(c.amount) AS amount
FROM capital AS c
WHERE c.as_of_date = $as_of
GROUP BY c.item
ORDER BY c.item;
