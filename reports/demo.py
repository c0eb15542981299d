"""`make demo`: load and check the sample history, run the daily job on its latest day, say where
things are.

Uses the embedded default configuration and a development signing key (made on first use in
keys/, passphrase from $MIR_SIGNING_PASSPHRASE or the demo's own). Exits 0 whenever the job ran,
whatever it found; non-zero only when the job itself could not run.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

DEMO_PASSPHRASE = "mir-demo-development-key"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=Path, default=Path("samples"))
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument("--db", type=Path, default=Path("out/demo/mir.duckdb"))
    args = parser.parse_args(argv)

    from reports.checks.engine import run_checks
    from reports.config import Config
    from reports.daily import run_daily
    from reports.db import open_db
    from reports.errors import MirError
    from reports.load import load_snapshot
    from reports.sign.keys import init_keys

    config = Config()  # embedded defaults, whatever mir.toml may lie around
    days = sorted(p for p in args.samples.iterdir() if p.is_dir() and p.name[:4].isdigit())
    if not days:
        print(f"no snapshot directories in {args.samples}", file=sys.stderr)
        return 2
    os.environ.setdefault(config.signing.passphrase_env, DEMO_PASSPHRASE)
    key = Path(config.signing.pkcs12)
    if not key.exists():
        init_keys(key, passphrase=os.environ[config.signing.passphrase_env].encode())
        print(
            f"made a development signing key: {key} (reports say DEVELOPMENT KEY - NOT FOR SUBMISSION)"
        )
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        with open_db(args.db) as con:
            # the earlier days as their own daily jobs left them: loaded and checked (the
            # report's previous-day figures and capital-ratio history read those runs)
            for day in days[:-1]:
                summary = load_snapshot(con, day)
                checked = run_checks(con, summary.as_of, config)
                print(f"{summary.describe()}; checks: {checked.status}")
        result = run_daily(days[-1], args.out, db_path=args.db, config=config, say=print)
    except MirError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    print()
    print(result.summary_line())
    print(f"  overall status : {result.status}")
    print(f"  report (PDF)   : {result.report_pdf}")
    print(f"  CSVs + summary : {result.day_dir}/")
    print(f"  package        : {result.package}")
    print(f"  run log        : {result.log_path}")
    print(
        f'  database       : {args.db}   (try: .venv/bin/mir sql --db {args.db} "SELECT * FROM v_segregation")'
    )
    print(
        f"  verify it      : .venv/bin/mir verify {result.package} --trust {key.with_suffix('.crt')}"
    )
    print(
        f"  investigate    : .venv/bin/mir queries; .venv/bin/mir query breaches_by_day --db {args.db}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
