"""Shared fixtures: an in-process CLI runner, a fresh database path, snapshot writers."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest
from click.testing import CliRunner, Result


def _on_threads(connect: Callable[..., Any], threads: int, *, forced: bool) -> Callable[..., Any]:
    """duckdb.connect (`connect`) on `threads` threads: always if `forced`, else unless the
    caller's config names a number of its own."""

    def connect_on(database: Any = ":memory:", *args: Any, **kwargs: Any) -> Any:
        given = kwargs.get("config") or {}
        ours = {"threads": threads}
        kwargs["config"] = {**given, **ours} if forced else {**ours, **given}
        return connect(database, *args, **kwargs)

    return connect_on


def _one_engine_thread() -> None:
    """Every DuckDB connection and Polars query of the suite on one thread, unless a test asks
    for more (SET threads, or a `threads` in connect's config). The suite runs on two pytest
    workers over data of a few rows, where the engines' own threads only contend with the
    other worker for the two cores: CI took 10-12 min on a slow host on 2026-12-07, and this
    cut the time of test_sql and test_seg_checks by 9-10% there."""
    os.environ.setdefault("POLARS_MAX_THREADS", "1")  # read when Polars is first imported
    duckdb.connect = _on_threads(duckdb.connect, 1, forced=False)


_one_engine_thread()


@pytest.fixture
def duckdb_threads(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """Call with n: DuckDB connections opened from then on in the test use n threads."""
    one_thread = duckdb.connect

    def use(threads: int) -> None:
        monkeypatch.setattr(duckdb, "connect", _on_threads(one_thread, threads, forced=True))

    return use


from reports.cli import cli  # noqa: E402  (Polars reads its thread count at import)

REPO = Path(__file__).resolve().parent.parent
SAMPLES = REPO / "samples"


def with_one_balance_changed(day: Path, folder: Path) -> Path:
    """A copy of the snapshot `day` in `folder` whose first balance is 1 more: other data."""
    changed = folder / day.name
    shutil.copytree(day, changed)
    balances = changed / "balances.csv"
    lines = balances.read_text(encoding="utf-8").splitlines()
    account, asset, amount = lines[1].split(",")
    lines[1] = f"{account},{asset},{Decimal(amount) + 1}"
    balances.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return changed


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "mir.duckdb"


@pytest.fixture
def run_mir(db_path: Path) -> Callable[..., Result]:
    """Run `mir ARGS` in-process against the test's own database; returns click's Result."""

    def run(*args: str, db: Path | None = db_path) -> Result:
        argv = [str(a) for a in args]
        env = {"MIR_DB": str(db)} if db is not None else {}
        return CliRunner().invoke(cli, argv, env=env, catch_exceptions=False)

    return run


# --- signing (reports/sign) -------------------------------------------------------------------

SIGNING_PASSPHRASE = "test passphrase, not a secret"


class DevKey:
    """What the dev_key fixture returns: the loaded key (reports.sign.keys.SignerKey) and its files."""

    def __init__(self, key: Any, p12: Path, crt: Path, config: Path) -> None:
        self.key = key
        self.p12 = p12
        self.crt = crt
        self.config = config


@pytest.fixture
def dev_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DevKey:
    """A fresh P-256 development key in tmp_path/keys (signer.p12 + signer.crt), its passphrase in
    $MIR_SIGNING_PASSPHRASE, and tmp_path/mir-signing.toml whose [signing] pkcs12 points at it."""
    from reports.sign.keys import init_keys, load_signer_key

    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    passphrase = SIGNING_PASSPHRASE.encode()
    result = init_keys(tmp_path / "keys" / "signer.p12", passphrase=passphrase, algorithm="p256")
    config = tmp_path / "mir-signing.toml"
    config.write_text(f'[signing]\npkcs12 = "{result.pkcs12_path.as_posix()}"\n', encoding="utf-8")
    key = load_signer_key(result.pkcs12_path, passphrase)
    return DevKey(key, result.pkcs12_path, result.certificate_path, config)


@pytest.fixture(autouse=True)
def _signal_handlers_restored() -> Any:
    """Every test leaves SIGINT's and SIGTERM's handlers as it found them: a handler left
    behind (the daily job's, which only notes a held signal) would change what every later
    test in the same worker sees of a Ctrl-C or SIGTERM."""
    import signal

    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    yield
    after = {s: signal.getsignal(s) for s in before}
    if after != before:
        for signum, handler in before.items():
            if handler is not None:
                signal.signal(signum, handler)
        changed = {signal.Signals(s).name: str(after[s]) for s in before if after[s] != before[s]}
        pytest.fail(f"the test left signal handlers behind: {changed}")


@pytest.fixture
def cover_only_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports rendered with their cover alone, for tests about what surrounds the report
    (the job, its files, modes, signatures, the package), not its pages: still a PDF/A laid
    out by WeasyPrint, signed, carrying its attachments, and packaged as ever; the other 18
    pages took 3-8 s a report on a slow host."""
    from reports.render import pdf as pdf_module

    full = pdf_module.render_pdf

    def cover_only(html: str, attachments: Any, **options: Any) -> Any:
        start, end = html.find('<section class="chapter">'), html.rfind("</body>")
        assert 0 < start < end, "the report's first chapter or its end is not where it was"
        return full(html[:start] + html[end:], attachments, **options)

    monkeypatch.setattr(pdf_module, "render_pdf", cover_only)


@pytest.fixture(scope="session")
def _schema_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """memory_db's schema (tests/snapshots.py) in a database file, made once for the session
    (closed, so that the file may be copied)."""
    from reports.db import init_schema

    path = tmp_path_factory.mktemp("schema") / "schema.duckdb"
    con = duckdb.connect(str(path))
    try:
        init_schema(con)
    finally:
        con.close()
    assert not path.with_name(path.name + ".wal").exists()
    return path


@pytest.fixture
def new_db(tmp_path: Path, _schema_db: Path) -> Iterator[Callable[[], duckdb.DuckDBPyConnection]]:
    """Call for a new database with the whole schema, as memory_db() gives: a copy of the
    session's file (init_schema took 0.1-0.5 s a call)."""
    opened: list[duckdb.DuckDBPyConnection] = []

    def new() -> duckdb.DuckDBPyConnection:
        path = tmp_path / "new-db" / f"{len(opened)}.duckdb"
        path.parent.mkdir(exist_ok=True)
        shutil.copyfile(_schema_db, path)
        opened.append(duckdb.connect(str(path)))
        return opened[-1]

    yield new
    for con in opened:
        con.close()
