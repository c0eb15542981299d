"""A regime's words for its figures in running text: check messages and the PDF."""

from __future__ import annotations

# A regime's name in running text: the regulations' own spelling (MiCA, not MICA; a CAP-01
# message said "(cftc)").
REGIME_NAMES = {"ifr": "IFR", "cftc": "CFTC", "mica": "MiCA"}
# What the capital ratio divides by the requirement, in the regime's words (PDF review of
# 2026-12-07: a CFTC report's ratio row, key figure and trend axis said "own funds").
RATIO_NUMERATORS = {"cftc": "adjusted net capital"}


def regime_name(regime: str) -> str:
    return REGIME_NAMES.get(regime, regime.upper())


def ratio_numerator(regime: str) -> str:
    return RATIO_NUMERATORS.get(regime, "own funds")
