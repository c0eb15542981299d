-- run_is_stale(day, checked_at): whether a check run of `day` recorded at `checked_at` predates
-- a load of that day or of an earlier one (a reload, or a gap filled). Its figures read those
-- days (previous close, IFR windows, K-CON, VaR history; reports.checks.engine.compute_run_id
-- hashes them), so they may no longer match the stored data. Conservative: a reload of the
-- same files counts too. The investigations' `stale` column.
CREATE OR REPLACE MACRO run_is_stale(day, checked_at) AS EXISTS (
    SELECT 1 FROM loads AS l WHERE l.as_of_date <= day AND l.loaded_at > checked_at
);
