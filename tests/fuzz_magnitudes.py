"""Magnitude fuzzing of `mir daily` (not part of `make test`: 374 runs, about 15 minutes on 2 cores).

    .venv/bin/python -m tests.fuzz_magnitudes [--out DIR] [--values 1e12,x1e6,...] [--jobs 2]

Generates a 60-account, two-day venue (seed 3), loads day 1 into a database once, then for
every numeric column of day 2 and every value: sets the column to the value (keeping each
cell's sign) or, for `xF`, multiplies it by F, in the first row holding one ("one") and in
every row ("all"); runs `mir daily` on that day from a copy of the day-1 database; prints
`<file>-<column>-<value>-<mode> <exit code>` and, for exit 2 or 4, the error line. Exit 3
(bad input, named) and 0/1 (findings) are what such inputs should give; exit 4 ("internal
error") never. The script exits 1 when any run ended with exit 2 or 4. Found seven such
inputs on 2026-12-05 (README, "Numbers"); none since.
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

COLUMNS = {
    "balances": ["balance"],
    "positions": [
        "quantity",
        "entry_price",
        "isolated_margin",
        "leverage",
        "reported_unrealized_pnl",
    ],
    "prices": ["price"],
    "instruments": ["contract_size"],
    "risk_tiers": [
        "notional_floor",
        "notional_cap",
        "maintenance_margin_rate",
        "maintenance_amount",
        "max_leverage",
    ],
    "custody": ["balance"],
    "movements": ["amount"],
    "capital": ["amount"],
    "volumes": ["traded_notional"],
}
VALUES = "1e12,1e16,9.9e18,1e19,1e21,1e-18,1e-9,x1e6,x1e9,x1e12,x1e-12"
PASSPHRASE = "mir-fuzz-development-key"


def mutate(day: Path, file: str, column: str, value: str, mode: str) -> bool:
    """Rewrite day/<file>.csv with `column` set to (or multiplied by) value; False if no cell."""
    path = day / f"{file}.csv"
    with path.open(newline="") as f:
        rows = list(csv.DictReader(f))
    changed = False
    for row in rows:
        cell = row[column]
        if cell == "":
            continue
        if value.startswith("x"):
            row[column] = format(Decimal(cell) * Decimal(value[1:]), "f")
        else:
            row[column] = ("-" if cell.startswith("-") else "") + format(Decimal(value), "f")
        changed = True
        if mode == "one":
            break
    if changed:
        with path.open("w", newline="") as f:
            writer = csv.DictWriter(f, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=None, help="work folder (default: a temp dir)")
    parser.add_argument("--values", default=VALUES, help=f"comma-separated [default: {VALUES}]")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args(argv)

    from reports.generate import GenerateOptions, generate
    from reports.sign.keys import init_keys

    root = args.out or Path(tempfile.mkdtemp(prefix="mir-fuzz-"))
    root.mkdir(parents=True, exist_ok=True)
    mir = str(Path(sys.executable).with_name("mir"))
    env = {**os.environ, "MIR_FUZZ_PASSPHRASE": PASSPHRASE}
    generate(GenerateOptions(accounts=60, days=2, seed=3, out=root / "venue"))
    day1, day2 = sorted(p for p in (root / "venue").iterdir() if p.is_dir())
    init_keys(root / "keys" / "signer.p12", passphrase=PASSPHRASE.encode(), force=True)
    config = root / "mir.toml"
    config.write_text(
        f'[signing]\npkcs12 = "{root / "keys" / "signer.p12"}"\npassphrase_env = "MIR_FUZZ_PASSPHRASE"\n'
    )
    base = root / "day1.duckdb"
    first = subprocess.run(
        [
            mir,
            "daily",
            str(day1),
            "--out",
            str(root / "out1"),
            "--db",
            str(base),
            "--config",
            str(config),
        ],
        capture_output=True,
        text=True,
        env=env,
    )
    if first.returncode not in (0, 1):
        print(first.stderr, file=sys.stderr)
        return 2

    def run(case: tuple[str, str, str, str]) -> tuple[str, int | None, str]:
        file, column, value, mode = case
        name = f"{file}-{column}-{value}-{mode}"
        work = root / "runs" / name
        shutil.rmtree(work, ignore_errors=True)
        day = work / day2.name
        shutil.copytree(day2, day)
        if not mutate(day, file, column, value, mode):
            return name, None, ""
        shutil.copyfile(base, work / "db.duckdb")
        done = subprocess.run(
            [
                mir,
                "daily",
                str(day),
                "--out",
                str(work / "out"),
                "--db",
                str(work / "db.duckdb"),
                "--config",
                str(config),
            ],
            capture_output=True,
            text=True,
            env=env,
        )
        error = ""
        if done.returncode in (2, 4):
            error = " | ".join(ln for ln in done.stderr.splitlines() if "error" in ln.lower())
        else:
            shutil.rmtree(work, ignore_errors=True)
        return name, done.returncode, error[:400]

    cases = [
        (file, column, value, mode)
        for file, columns in COLUMNS.items()
        for column in columns
        for value in args.values.split(",")
        for mode in ("one", "all")
    ]
    failed = 0
    with ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for name, code, error in pool.map(run, cases):
            print(name, "skipped (no cell)" if code is None else code, error, flush=True)
            failed += code in (2, 4)
    print(f"{len(cases)} runs, {failed} with exit 2 or 4; work folder {root}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
