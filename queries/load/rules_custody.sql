-- Load rules: custody (DESIGN.md section 3). Reads staged_custody (defaults applied: an empty
-- custodian_type is 'self').
-- custodian_type describes the custodian, not the wallet: every row of one custodian carries the
-- same one. Rows that disagree made CON-06, K-TCD and K-CON count only some of a custodian's
-- house assets (the non-'self' ones) while naming the custodian by another row's type (review
-- of 2026-12-05: 150 of 300 USD counted, a breach reported as a warning). Each row whose type
-- differs from the custodian's first row is named, with that row's type.
WITH first_type AS (
    SELECT custodian, arg_min(custodian_type, _row) AS custodian_type, min(_row) AS first_row
    FROM staged_custody
    GROUP BY custodian
    HAVING count(DISTINCT custodian_type) > 1
)
SELECT 'custody' AS file, c._row AS row_no, 'custodian_type' AS column_name,
       c.custodian_type AS value,
       'the custodian_type of custodian ' || c.custodian || ' on its first row (row '
       || f.first_row || ': ' || f.custodian_type || '); one type per custodian, and an empty '
       || 'cell means self' AS expected
FROM staged_custody c JOIN first_type f USING (custodian)
WHERE c.custodian_type <> f.custodian_type
