"""One benchmark worker: time each stage of the data path on one cached data set.

Run by tests/benchmarks/run.py as a subprocess (so its peak RSS is its own):

    python -m tests.benchmarks.stages --data DIR --work DIR --config mir.toml

Prints one JSON object on its last stdout line: {"stages": {name: seconds}, "rss_after": {name:
peak RSS so far in MiB}, "checks": {check_id: seconds}, "figures": {part: seconds}, ...}.
Stages: load_day1 (empty database), load_day2, checks (the engine, recorded), figures (the
report's figures: segregation, concentration, capital, stress, VaR, previous day), outputs
(CSVs + summary.json), pdf (context + HTML + PDF/A), sign_package (PAdES, manifest, CMS, zip).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _peak_mib() -> float:
    """This process's peak RSS so far, in MiB: VmHWM, the high-water mark of its own memory
    (ru_maxrss keeps the spawning harness's, run.PeakRss); ru_maxrss where /proc is absent."""
    from tests.benchmarks.run import vm_hwm_kib

    kib = vm_hwm_kib()
    if kib is None:
        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # Linux: KiB
    return kib / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--data", type=Path, required=True, help="data set: one YYYY-MM-DD/ per day"
    )
    parser.add_argument("--work", type=Path, required=True, help="scratch directory (emptied)")
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--no-memo", action="store_true", help="A/B: disable reports.memo scopes")
    args = parser.parse_args(argv)
    if args.no_memo:
        import contextlib

        import reports.memo

        reports.memo.day_memo = contextlib.nullcontext  # type: ignore[assignment]

    from reports.checks import engine
    from reports.config import load_config
    from reports.db import connect
    from reports.load import load_snapshot

    config = load_config(args.config)
    days = sorted(p for p in args.data.iterdir() if p.is_dir() and p.name[:4].isdigit())
    day1, day2 = days[-2], days[-1]
    as_of = dt.date.fromisoformat(day2.name)
    if args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True)
    db_path = args.work / "stages.duckdb"
    out_dir = args.work / "out"

    stages: dict[str, float] = {}
    rss_after: dict[str, float] = {}
    extra: dict[str, Any] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = fn()
        stages[name] = round(time.perf_counter() - started, 3)
        rss_after[name] = round(_peak_mib(), 1)
        print(
            f"  {name:<14} {stages[name]:8.2f} s   peak RSS so far {rss_after[name]:8.0f} MiB",
            flush=True,
        )
        return value

    con = connect(db_path)
    try:
        summary1 = timed("load_day1", lambda: load_snapshot(con, day1))
        con.execute("CHECKPOINT")
        summary2 = timed("load_day2", lambda: load_snapshot(con, day2))
        extra["rows_day1"] = summary1.rows
        extra["rows_day2"] = summary2.rows
        extra["rows_by_file_day2"] = {f.name: f.rows for f in summary2.files}

        # every check timed on its own: wrap the engine's run_one (run_checks calls it per check)
        per_check: dict[str, float] = {}
        original = engine.run_one

        def run_one_timed(spec: Any, ctx: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(spec, ctx)
            finally:
                per_check[spec.check_id] = round(time.perf_counter() - started, 3)

        engine.run_one = run_one_timed  # type: ignore[assignment]
        try:
            run = timed("checks", lambda: engine.run_checks(con, as_of, config))
        finally:
            engine.run_one = original  # type: ignore[assignment]
        extra["checks"] = per_check
        extra["check_status"] = {r.check_id: str(r.status) for r in run.results}
        extra["run_status"] = str(run.status)

        _report_stages(con, as_of, config, out_dir, timed, extra)
    finally:
        con.close()
    extra["db_bytes"] = db_path.stat().st_size
    print(
        json.dumps(
            {
                "stages": stages,
                "rss_after": rss_after,
                "peak_rss_mib": round(_peak_mib(), 1),
                **extra,
            }
        )
    )
    return 0


def _report_stages(
    con: Any,
    as_of: dt.date,
    config: Any,
    out_dir: Path,
    timed: Callable[..., Any],
    extra: dict[str, Any],
) -> None:
    """The steps of reports.render.report.write_report, timed one by one, then the package."""
    from reports.render import build
    from reports.render.html import render_html
    from reports.render.pdf import render_pdf
    from reports.render.report import REPORT_PDF, output_files, write_day_manifest
    from reports.sign.cms import sign_manifest
    from reports.sign.keys import load_signer_from_config
    from reports.sign.package import build_package
    from reports.sign.pades import sign_pdf

    key = load_signer_from_config(config.signing)
    when = dt.datetime.now(dt.UTC).replace(microsecond=0)
    out_dir.mkdir(parents=True, exist_ok=True)
    check_run = build.ensure_check_run(con, as_of, config)
    extra["check_run_reused"] = check_run.reused

    # the figures, with a breakdown: wrap the functions gather() calls by module attribute
    parts: dict[str, float] = {}
    import reports.capital as capital_mod
    import reports.checks.segregation as seg_mod
    import reports.concentration as con_mod
    import reports.stress as stress_mod

    patched: list[tuple[Any, str, Any]] = []

    def wrap(module: Any, name: str, label: str) -> None:
        original = getattr(module, name)

        def timed_fn(*a: Any, **k: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*a, **k)
            finally:
                parts[label] = round(parts.get(label, 0.0) + time.perf_counter() - started, 3)

        patched.append((module, name, original))
        setattr(module, name, timed_fn)

    wrap(seg_mod, "segregation_statement", "segregation_statement")
    wrap(con_mod, "concentration_table", "concentration_table")
    wrap(con_mod, "large_exposures", "large_exposures")
    wrap(capital_mod, "capital_statement", "capital_statement (today + previous day)")
    wrap(stress_mod, "stress_results", "stress_results (today + previous day)")
    wrap(stress_mod, "var_es", "var_es (today + previous day)")
    wrap(build, "previous_day", "previous_day (total)")
    from reports.memo import day_memo

    try:
        with day_memo():  # as write_report does
            data = timed("figures", lambda: build.gather(con, as_of, config, check_run))
    finally:
        for module, name, original in patched:
            setattr(module, name, original)
    extra["figures"] = parts

    files = timed("outputs", lambda: output_files(data))
    day_dir = out_dir / as_of.isoformat()
    staging = Path(tempfile.mkdtemp(dir=out_dir, prefix=f".{as_of.isoformat()}.tmp-"))
    for name, payload in files.items():
        (staging / name).write_bytes(payload)

    def pdf() -> Any:
        context = build.build_context(
            data,
            signer_subject=key.subject,
            development_key=key.is_development,
            signing_time=when,
            attachments=tuple(sorted(files)),
        )
        return render_pdf(
            render_html(context), files, title=f"{config.firm.name} {as_of}", created=when
        )

    rendered = timed("pdf", pdf)
    extra["pdf_pages"] = rendered.pages

    def sign_and_package() -> Any:
        sign_pdf(rendered.data, staging / REPORT_PDF, key, signing_time=when)
        manifest = write_day_manifest(staging, data, config, check_run.run_id, timestamped=False)
        sign_manifest(manifest, key, signing_time=when)
        os.replace(staging, day_dir)
        return build_package(out_dir, as_of, lei=config.firm.lei)

    package = timed("sign_package", sign_and_package)
    extra["package_bytes"] = package.size


if __name__ == "__main__":
    raise SystemExit(main())
