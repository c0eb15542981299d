-- Data lineage: the files of the latest load of the as-of date, as recorded by the loader.
SELECT file, format, source_path, sha256, rows, loaded_at, load_id, tool_version, replaced
FROM loads
WHERE as_of_date = $as_of AND load_id = (
    SELECT load_id FROM loads WHERE as_of_date = $as_of
    ORDER BY loaded_at DESC, load_id DESC LIMIT 1)
ORDER BY file;
