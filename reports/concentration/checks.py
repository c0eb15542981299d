"""The CON checks (DESIGN.md section 5), registered with the engine.

Each check runs its metric SQL (queries/concentration/) and keeps the rows of its graded metric
whose status is warn or breach: the same rows that concentration.csv shows, so the report and the
exceptions cannot disagree. The definitions are in the SQL files' headers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from reports.checks.model import CheckContext, python_check
from reports.concentration import exception_rows

if TYPE_CHECKING:
    import polars as pl


@python_check(
    "CON-01",
    "Open-interest share of a group of connected clients per instrument",
    "breach",
    "Position limits / open-interest concentration (MiFID II Art. 57, 17 CFR Part 150 analogues)",
    "one client group whose share of an instrument's open interest is at or above a threshold",
)
def con_01_oi_share(ctx: CheckContext) -> pl.DataFrame:
    return exception_rows(ctx, "CON-01")


@python_check(
    "CON-02",
    "Herfindahl-Hirschman index of an instrument's open positions by holder",
    "warn",
    "HHI, 0-10,000 (US DoJ/FTC merger guidelines scale) applied to open positions",
    "one instrument whose HHI of gross positions by holder is at or above the threshold",
)
def con_02_hhi(ctx: CheckContext) -> pl.DataFrame:
    return exception_rows(ctx, "CON-02")


@python_check(
    "CON-03",
    "Share of client custody at a single custodian",
    "warn",
    "Safeguarding of client crypto-assets and funds (MiCA Art. 70, 75)",
    "one custodian holding a share of client custody (USD) at or above the threshold",
)
def con_03_custodian_share(ctx: CheckContext) -> pl.DataFrame:
    return exception_rows(ctx, "CON-03")


@python_check(
    "CON-04",
    "Share of client custody in hot wallets",
    "breach",
    "Japan FSA 95% cold-storage rule (Payment Services Act Art. 63-11, Cabinet Office Ordinance)",
    "the firm, when client custody in hot wallets is at or above the threshold of non-bank custody",
)
def con_04_hot_wallet_share(ctx: CheckContext) -> pl.DataFrame:
    return exception_rows(ctx, "CON-04")


@python_check(
    "CON-05",
    "Share of client equity in a single non-stable asset",
    "warn",
    "Collateral concentration (EMIR RTS 153/2013 Art. 42 analogue)",
    "one non-stable asset holding a share of positive client equity (USD) at or above the threshold",
)
def con_05_collateral_share(ctx: CheckContext) -> pl.DataFrame:
    return exception_rows(ctx, "CON-05")


@python_check(
    "CON-06",
    "Large exposures of the firm to a single counterparty",
    "breach",
    "IFR (EU) 2019/2033 Art. 35-37; Basel Framework LEX20",
    # the configured shares, filled in by the report (reports.render.build._row_meaning)
    "one counterparty (custodian of house assets or client group in deficit) at or above "
    "{large_exposure_warn} of own funds (warn) or above {large_exposure_breach} (breach)",
)
def con_06_large_exposures(ctx: CheckContext) -> pl.DataFrame:
    return exception_rows(ctx, "CON-06")
