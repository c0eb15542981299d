"""Margin Isolation Reports (`mir`): regulatory reporting for isolated-margin derivatives venues.

The package is one data path; each stage knows only the stages before it:

    snapshot dir -> reports.load -> DuckDB tables + views (queries/)
                 -> reports.checks -> check_results / check_exceptions
                 -> capital / stress -> render -> sign -> package -> verify

``reports.cli`` parses options and calls one library function per command; nothing imports it.
"""

from __future__ import annotations

__version__ = "0.1.0"
