"""`make demo`: load and check the sample history, run the daily job on its latest day, say where
things are.

Uses the embedded default configuration, except for the signing key: a development key of the
demo's own, made on first use in OUT/keys/ with the passphrase DEMO_PASSPHRASE (read from
$MIR_DEMO_SIGNING_PASSPHRASE, which the demo sets when unset). So `make demo` neither needs nor
touches keys/signer.p12, the firm's key or the one `mir keys init` makes there. Exits 0 whenever
the job ran, whatever it found; non-zero only when the job itself could not run.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from reports.config import Config

DEMO_PASSPHRASE = "mir-demo-development-key"
DEMO_PASSPHRASE_ENV = "MIR_DEMO_SIGNING_PASSPHRASE"


def demo_config(out: Path) -> Config:
    """The embedded defaults, signing with the demo's own key under `out`/keys/."""
    from reports.config import Config

    config = Config()  # embedded defaults, whatever mir.toml may lie around
    signing = dataclasses.replace(
        config.signing,
        pkcs12=str(out / "keys" / "signer.p12"),
        passphrase_env=DEMO_PASSPHRASE_ENV,
    )
    return dataclasses.replace(config, signing=signing, source="embedded defaults (demo key)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=Path, default=Path("samples"))
    parser.add_argument("--out", type=Path, default=Path("out/demo"))
    parser.add_argument("--db", type=Path, default=Path("out/demo/mir.duckdb"))
    args = parser.parse_args(argv)

    from reports.checks.engine import run_checks
    from reports.daily import run_daily
    from reports.db import open_db
    from reports.errors import MirError
    from reports.load import load_snapshot
    from reports.sign.keys import init_keys

    config = demo_config(args.out)
    days = sorted(p for p in args.samples.iterdir() if p.is_dir() and p.name[:4].isdigit())
    if not days:
        print(f"no snapshot directories in {args.samples}", file=sys.stderr)
        return 2
    os.environ.setdefault(config.signing.passphrase_env, DEMO_PASSPHRASE)
    key = Path(config.signing.pkcs12)
    try:
        if not key.exists():
            # inside the try: a short $MIR_DEMO_SIGNING_PASSPHRASE is a usage error (exit 2),
            # said as one, not a traceback (review of 2026-12-07)
            init_keys(key, passphrase=os.environ[config.signing.passphrase_env].encode())
            print(
                f"made a development signing key: {key} "
                "(reports say DEVELOPMENT KEY - NOT FOR SUBMISSION)"
            )
        args.out.mkdir(parents=True, exist_ok=True)
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
