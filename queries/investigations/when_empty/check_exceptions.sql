-- What an empty result of the investigation check_exceptions means (`mir query` prints it on
-- standard error): zero rows alone cannot tell a check that passed from one never run that
-- day, one that crashed or was not evaluated, or a run made stale by a later load (history
-- review of 2026-12-05). One row, one column `note`; same parameters as the investigation.
WITH shown AS (SELECT * FROM shown_check_run($check_id, $as_of, $config))
SELECT CASE
    WHEN NOT EXISTS (SELECT 1 FROM shown) THEN
        'no run of ' || $check_id
        || coalesce(' under configuration ' || lower($config::VARCHAR), '') || ' is recorded'
        || coalesce(' for ' || strftime($as_of::DATE, '%Y-%m-%d'), '')
        -- a date with no snapshot: `mir check` refuses it (exit 2), so say to load it first
        -- (history audit of 2026-12-07: the note advised `mir check` alone)
        || CASE WHEN $as_of::DATE IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM loads WHERE as_of_date = $as_of::DATE)
            THEN ', and no snapshot of that date is loaded: load it (`mir load DIR`), then run '
                || '`mir check --as-of ' || strftime($as_of::DATE, '%Y-%m-%d')
                || '` (or run the daily job on it)'
            ELSE ': run `mir check --as-of ' || coalesce(strftime($as_of::DATE, '%Y-%m-%d'), 'D')
                || '` (or the daily job) for the day'
            END
    ELSE (
        SELECT $check_id || ' on ' || strftime(s.as_of_date, '%Y-%m-%d') || ', run ' || s.run_id
            || ': ' || CASE s.status
                WHEN 'pass' THEN 'pass, no exceptions'
                WHEN 'error' THEN 'error, the check crashed in that run and recorded no rows ('
                    || coalesce(s.message, 'no message') || '); run `mir check --as-of '
                    || strftime(s.as_of_date, '%Y-%m-%d') || '` again'
                WHEN 'not_evaluated' THEN 'not evaluated (' || coalesce(s.message, 'no reason given')
                    || ')'
                ELSE s.status || CASE WHEN s.exceptions = 0
                    THEN ' with no exception rows' || coalesce(' (' || s.message || ')', '')
                    ELSE ' with ' || s.exceptions || ' exception(s) recorded, none kept' END
                END
            || CASE WHEN s.stale THEN '; that run is STALE: a load after it changed the files of '
                    || 'that day or an earlier one, so it may not match the stored data; run '
                    || '`mir check --as-of ' || strftime(s.as_of_date, '%Y-%m-%d') || '` again (and '
                    || '`mir daily` for the day if its package went out)'
                ELSE '' END
        FROM shown AS s
    )
END AS note
