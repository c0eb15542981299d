-- Helpers for the load rules (temporary: they live only in the loading connection).
-- mir_fmt: a decimal as short text for messages (50000.000000000000000000 -> 50000).
CREATE OR REPLACE TEMP MACRO mir_fmt(x) AS
    CASE WHEN CAST(x AS VARCHAR) LIKE '%.%'
         THEN rtrim(rtrim(CAST(x AS VARCHAR), '0'), '.')
         ELSE CAST(x AS VARCHAR) END;
