"""The check engine: SQL checks in queries/checks/, Polars checks registered in Python."""
