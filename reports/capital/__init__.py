"""Capital adequacy (DESIGN.md section 5): IFR (default), CFTC net capital, MiCA own funds.

Public API: `capital_statement(con, as_of, config) -> CapitalStatement` (reports.capital.statement);
the checks CAP-01..CAP-03 live in reports.capital.checks; the formulas, pure and Decimal-exact, in
reports.capital.ifr, .cftc and .mica.
"""

from __future__ import annotations

from reports.capital.statement import CapitalStatement, capital_statement

__all__ = ["CapitalStatement", "capital_statement"]
