"""Published worked examples shared by several tests (../shared/reference/README.md)."""

from __future__ import annotations

# BTCUSDT-like linear bracket table: (notional floor in USDT, maintenance margin rate).
BTCUSDT_TIERS = [
    ("0", "0.004"),
    ("50000", "0.005"),
    ("250000", "0.01"),
    ("1000000", "0.025"),
    ("10000000", "0.05"),
    ("20000000", "0.10"),
    ("50000000", "0.125"),
    ("100000000", "0.15"),
    ("200000000", "0.25"),
    ("300000000", "0.50"),
]

# Its cumulative maintenance amounts, as published (the cum recursion reproduces all of them).
BTCUSDT_CUMS = [
    "0",
    "50",
    "1300",
    "16300",
    "266300",
    "1266300",
    "2516300",
    "5016300",
    "25016300",
    "100016300",
]
