"""Stress testing (CAP-04, Cover-1/Cover-2, liquidation cascade) and VaR/ES (CAP-05).

Public API (used by the report renderer and summary.json):
    stress_table(con, as_of, config) -> polars.DataFrame   # stress.csv
    stress_results(con, as_of, config) -> list[ScenarioResult]
    cascade(con, as_of, config, scenario) -> CascadeResult
    var_es(con, as_of, config) -> VarResult
"""

from __future__ import annotations

from reports.stress.cascade import CascadeResult, CascadeRound, cascade
from reports.stress.scenarios import STRESS_COLUMNS, ScenarioResult, stress_results, stress_table
from reports.stress.var import VarResult, var_es

__all__ = [
    "STRESS_COLUMNS",
    "CascadeResult",
    "CascadeRound",
    "ScenarioResult",
    "VarResult",
    "cascade",
    "stress_results",
    "stress_table",
    "var_es",
]
