from __future__ import annotations

import errno
from pathlib import Path

import click
import pytest
from click.testing import Result

from reports.cli import cli


def _commands(group: click.Group) -> list[tuple[str, click.Command]]:
    return sorted(group.commands.items())


@pytest.mark.parametrize("name", [n for n, _ in _commands(cli)])
def test_every_command_has_help(name: str, run_mir) -> None:
    result = run_mir(name, "--help")
    assert result.exit_code == 0, result.output
    command = cli.commands[name]
    assert command.help and len(command.help.strip()) > 20, f"`mir {name}` needs help text"


def _leaf_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found: list[tuple[str, ...]] = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += _leaf_commands(command, (*prefix, name))
        else:
            found.append((*prefix, name))
    return found


def test_an_internal_errors_long_first_line_is_cut_as_every_quoted_error(
    tmp_path, run_mir, monkeypatch
) -> None:
    """An internal error's one line quotes its first 300 characters, marked as cut, as every
    one-line quote of an error does (reports.errors.first_line); the CLI had a first_line of
    its own that printed a 5,000-character line whole (review of 2026-12-07)."""
    result = _load_raising(RuntimeError("x" * 5000), tmp_path, run_mir, monkeypatch)
    assert result.exit_code == 4, result.output
    assert result.stderr.strip() == (
        f"error: internal error: RuntimeError: {'x' * 297}... "
        "(rerun with --debug for the traceback)"
    )


@pytest.mark.parametrize("path", _leaf_commands(cli), ids=" ".join)
def test_every_command_takes_db(path: tuple[str, ...]) -> None:
    """DESIGN.md section 7: every command takes --db (or MIR_DB)."""
    command: click.Command = cli
    for name in path:
        assert isinstance(command, click.Group)
        command = command.commands[name]
    options = {opt for param in command.params for opt in getattr(param, "opts", [])}
    assert "--db" in options, f"`mir {' '.join(path)}` does not take --db"


def test_init_is_idempotent(run_mir, db_path) -> None:
    for _ in range(2):
        result = run_mir("init")
        assert result.exit_code == 0, result.output
    import duckdb

    con = duckdb.connect(str(db_path), read_only=True)
    tables = {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }
    assert {
        "accounts",
        "positions",
        "movements",
        "loads",
        "check_results",
        "check_exceptions",
    } <= tables


def test_init_honours_mir_db_env(tmp_path, run_mir) -> None:
    target = tmp_path / "sub" / "venue.duckdb"
    result = run_mir("init", db=target)
    assert result.exit_code == 0, result.output
    assert target.exists()


def test_schema_matches_the_snapshot_contract(run_mir, db_path) -> None:
    """Every column of reports.spec is a column of its table, with the declared type."""
    import duckdb

    from reports.spec import FILES

    run_mir("init")
    con = duckdb.connect(str(db_path), read_only=True)
    for spec in FILES.values():
        cols = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ?",
                [spec.name],
            ).fetchall()
        )
        assert cols.pop("as_of_date") == "DATE"
        assert list(cols) == list(spec.column_names), spec.name
        for col in spec.columns:
            assert cols[col.name] == col.sql_type, (spec.name, col.name)


def test_memory_limit_defaults_and_honours_the_environment(
    tmp_path, run_mir, monkeypatch: pytest.MonkeyPatch
) -> None:
    from reports.db import connect

    def limit(path) -> str:
        con = connect(path)
        try:
            return con.execute("SELECT current_setting('memory_limit')").fetchall()[0][0]
        finally:
            con.close()

    monkeypatch.delenv("MIR_MEMORY_LIMIT", raising=False)
    assert limit(tmp_path / "a.duckdb") == "2.0 GiB"
    monkeypatch.setenv("MIR_MEMORY_LIMIT", "3GiB")
    assert limit(tmp_path / "b.duckdb") == "3.0 GiB"
    monkeypatch.setenv("MIR_MEMORY_LIMIT", "plenty")
    result = run_mir("init", db=tmp_path / "c.duckdb")
    assert result.exit_code == 2
    assert "MIR_MEMORY_LIMIT" in result.output and "plenty" in result.output


def test_a_path_that_cannot_be_created_is_a_usage_error_not_an_internal_one(
    tmp_path, run_mir, monkeypatch
) -> None:
    """A file where the folder of --db or --out should be: exit 2 naming it (it was exit 4,
    "internal error: FileExistsError")."""
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    result = run_mir("init", "--db", str(blocker / "x.duckdb"))
    assert result.exit_code == 2, result.output
    assert "cannot create the folder of the database" in result.output
    assert f"({blocker})" in result.output
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", "a passphrase for the test")
    result = run_mir("keys", "init", "--out", str(blocker / "signer.p12"))
    assert result.exit_code == 2, result.output
    assert f"cannot write {blocker / 'signer.p12'}" in result.output


def test_generate_report_and_keys_refuse_bad_arguments_with_exit_2(tmp_path, run_mir) -> None:
    """Review of 2026-12-04: a negative seed, a start date near the year 9999, an --out that
    cannot be created, a key validity of 100 million days ended in "internal error" (exit 4)."""
    blocker = tmp_path / "afile"
    blocker.write_text("not a folder")
    for args, fragment in (
        (
            (
                "generate",
                "--accounts",
                "40",
                "--days",
                "1",
                "--seed",
                "-5",
                "--out",
                tmp_path / "g",
            ),
            "--seed",
        ),
        (
            (
                "generate",
                "--accounts",
                "40",
                "--days",
                "1",
                "--seed",
                "1",
                "--start",
                "9999-08-31",
                "--out",
                tmp_path / "g",
            ),
            "runs past the year 9999",
        ),
        (
            ("generate", "--accounts", "40", "--days", "1", "--seed", "1", "--out", blocker / "g"),
            "cannot create the output directory",
        ),
        (
            (
                "generate",
                "--accounts",
                "100000000000",
                "--days",
                "1",
                "--seed",
                "1",
                "--out",
                tmp_path / "g",
            ),
            "--accounts",
        ),
        (("keys", "init", "--out", tmp_path / "k" / "s.p12", "--days", "100000000"), "--days"),
    ):
        result = run_mir(*args)
        assert result.exit_code == 2, (args, result.output)
        assert fragment in result.output, (args, result.output)


def test_debug_keeps_the_exit_codes(tmp_path, run_mir) -> None:
    """CLI review of 2026-12-05: --debug re-raised every error, so Python exited 1 ("breach
    found") for a usage error, bad input or an internal error alike."""
    db = tmp_path / "x.duckdb"
    assert run_mir("init", db=db).exit_code == 0
    for args in (("check", "--as-of", "2026-03-09"), ("sql", "SELECT * FROM nope")):
        plain = run_mir(*args, db=db)
        debug = run_mir("--debug", *args, db=db)
        assert plain.exit_code == debug.exit_code == 2, (args, debug.output)
        assert "Traceback (most recent call last)" in debug.stderr
        assert "Traceback" not in plain.stderr


def _load_raising(error: BaseException, tmp_path, run_mir, monkeypatch) -> Result:
    """`mir load` of an empty day whose load raises `error` (as DuckDB or a signal would)."""
    import reports.load

    def raising(*_args: object, **_kwargs: object) -> None:
        raise error

    monkeypatch.setattr(reports.load, "load_snapshot", raising)
    snap = tmp_path / "2026-03-02"
    snap.mkdir()
    return run_mir("load", str(snap), db=tmp_path / "x.duckdb")


@pytest.mark.parametrize("signal", [RuntimeError("Query interrupted"), KeyboardInterrupt()])
def test_an_interrupted_load_says_interrupted_not_internal_error(
    tmp_path, run_mir, monkeypatch, signal: BaseException
) -> None:
    """CLI review of 2026-12-05: outside `mir daily`, DuckDB's report of a Ctrl-C printed
    "internal error: RuntimeError: Query interrupted (rerun with --debug ...)". Ctrl-C itself
    (KeyboardInterrupt) reaching the error handler is exit 4 too (DESIGN section 7), not
    Python's 130 nor 1 ("breach found"; mutation review of 2026-12-06)."""
    result = _load_raising(signal, tmp_path, run_mir, monkeypatch)
    assert result.exit_code == 4, result.output
    assert result.stderr.strip() == "Interrupted."


def test_ctrl_c_at_the_passphrase_prompt_is_exit_4_not_1(tmp_path, run_mir, monkeypatch) -> None:
    """README audit of 2026-12-07: Ctrl-C (or end of input) at `mir keys init`'s passphrase
    prompt made click.prompt raise Abort, which printed "Aborted!" and exited 1, "breach
    found". Ctrl-C is "Interrupted.", exit 4, as on every command (README, `mir sql`)."""
    import types

    import reports.cli.sign

    def aborted(*_args: object, **_kwargs: object) -> str:
        raise click.exceptions.Abort  # what click.prompt raises on Ctrl-C or EOF

    # a terminal to prompt on (without one, no variable is a usage error, exit 2)
    terminal = types.SimpleNamespace(stdin=types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(reports.cli.sign, "sys", terminal)
    monkeypatch.setattr(click, "prompt", aborted)
    monkeypatch.delenv("MIR_SIGNING_PASSPHRASE", raising=False)
    result = run_mir("keys", "init", "--out", str(tmp_path / "keys" / "signer.p12"))
    assert result.exit_code == 4, result.output
    assert result.stderr.strip() == "Interrupted."
    assert not (tmp_path / "keys").exists()


def test_a_database_path_naming_another_kind_of_file_is_a_usage_error(tmp_path, run_mir) -> None:
    """CLI review of 2026-12-05: DuckDB opens an existing CSV or Parquet file given as --db as
    an in-memory database with a view over it: `mir load` "loaded" into nothing (exit 0) and
    `mir daily` passed every day without a previous close. Now exit 2, and the file untouched."""
    for name, data in (("res.parquet", b"PAR1" + b"\0" * 64), ("accounts.csv", b"a,b\n1,2\n")):
        other = tmp_path / name
        other.write_bytes(data)
        for args in (("init",), ("sql", "SELECT 1")):
            result = run_mir(*args, db=other)
            assert result.exit_code == 2, (args, result.output)
            assert f"{other} is not a DuckDB database" in result.stderr
        assert other.read_bytes() == data
    real = tmp_path / "real.duckdb"
    assert run_mir("init", db=real).exit_code == 0
    assert run_mir("sql", "SELECT 1 AS x", db=real).exit_code == 0


def test_a_database_mir_did_not_make_is_left_unchanged(tmp_path, run_mir) -> None:
    """CLI review of 2026-12-05: `mir init` on a DuckDB file with its own `positions` table
    crashed (exit 4, internal BinderException), while `mir sql` told the user to run `mir init`;
    a table named like a derived one would have been dropped. mir now refuses such a database."""
    import duckdb

    other = tmp_path / "other.duckdb"
    con = duckdb.connect(str(other))
    con.execute("CREATE TABLE positions (x INTEGER); CREATE TABLE position_values (y INTEGER)")
    con.execute("INSERT INTO position_values VALUES (7)")
    con.close()
    for args in (("init",), ("check", "--as-of", "2026-03-02")):
        result = run_mir(*args, db=other)
        assert result.exit_code == 2, (args, result.output)
        assert "is a DuckDB database mir did not make (it holds position_values, positions" in (
            result.stderr
        )
    result = run_mir("sql", "SELECT y FROM position_values", db=other)
    assert result.exit_code == 0 and "not made by mir" in result.stderr
    con = duckdb.connect(str(other), read_only=True)
    assert con.execute("SELECT * FROM position_values").fetchall() == [(7,)]
    assert con.execute("SELECT count(*) FROM duckdb_tables()").fetchall() == [(2,)]
    con.close()


def test_a_database_holding_only_views_or_an_empty_file_is_not_mirs(tmp_path, run_mir) -> None:
    """A DuckDB file with views but no tables is not mir's either; nor is an empty CSV file,
    which DuckDB opens as an in-memory database with views over it (it has no first bytes to
    tell): `mir init` into it would "succeed" and write nothing anywhere. The empty file is
    named as such, not as a database mir did not make; so is an empty file of any other name,
    which DuckDB refuses with its own words."""
    import duckdb

    views = tmp_path / "views.duckdb"
    con = duckdb.connect(str(views))
    con.execute("CREATE VIEW positions AS SELECT 1 AS x")
    con.close()
    before = views.read_bytes()
    result = run_mir("init", db=views)
    assert result.exit_code == 2, result.output
    assert "mir did not make" in result.stderr
    assert views.read_bytes() == before
    for name in ("accounts.csv", "positions.parquet", "mir.duckdb"):
        empty = tmp_path / name
        empty.write_bytes(b"")
        result = run_mir("init", db=empty)
        assert result.exit_code == 2, (name, result.output)
        assert f"{empty} is an empty file, not a DuckDB database" in result.stderr, name
        assert empty.read_bytes() == b""


def test_duckdb_draws_no_progress_bar_on_stdout(tmp_path) -> None:
    """Diff review of 2026-12-05: a query past 2 s drew DuckDB's progress bar on stdout, even
    into a file, where `mir daily` promises one summary line. Checked in a process of its own
    with stdout a file, as a scheduled job has it (pytest's capture hides DuckDB's default)."""
    import subprocess
    import sys

    out = tmp_path / "stdout.txt"
    program = (
        "from pathlib import Path; from reports.db import connect; "
        f"con = connect(Path({str(tmp_path / 'x.duckdb')!r})); "
        "print(con.execute(\"SELECT current_setting('enable_progress_bar')\").fetchall())"
    )
    with out.open("w") as handle:
        subprocess.run([sys.executable, "-c", program], stdout=handle, check=True)
    assert out.read_text().strip() == "[(False,)]"


# --- mutation review of 2026-12-06 (daily job) ------------------------------------------------


def test_a_full_disk_is_exit_4_not_a_usage_error(tmp_path, run_mir, monkeypatch) -> None:
    """A full disk (ENOSPC) is no bug of mir's, and no usage error either: it is named as such
    ("no space left on the device written to") and exits 4, as internal errors do."""
    import errno

    full = OSError(errno.ENOSPC, "No space left on device")
    result = _load_raising(full, tmp_path, run_mir, monkeypatch)
    assert result.exit_code == 4, result.output
    assert "error: no space left on the device written to (OSError:" in result.stderr


def test_duckdb_out_of_memory_names_the_limit(tmp_path, run_mir, monkeypatch) -> None:
    """DuckDB out of memory (MIR_MEMORY_LIMIT reached, or its spill disk full: "failed to
    offload") printed "internal error: OutOfMemoryException ... (rerun with --debug for the
    traceback)": exit 4 still, naming the limit and where it spills (resource audit of
    2026-12-07)."""
    import duckdb

    monkeypatch.setenv("MIR_MEMORY_LIMIT", "16MB")
    oom = duckdb.OutOfMemoryException(
        "Out of Memory Error: failed to offload data block of size 64.0 KiB (64.0 KiB/90.0 KiB "
        "used).\n\nPossible solutions:"
    )
    result = _load_raising(oom, tmp_path, run_mir, monkeypatch)
    assert result.exit_code == 4, result.output
    assert "error: out of memory (Out of Memory Error: failed to offload" in result.stderr
    assert "MIR_MEMORY_LIMIT=16MB" in result.stderr and "<database>.tmp/" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize(
    "full",
    [
        OSError(errno.EDQUOT, "Disk quota exceeded"),
        RuntimeError("IO Error: Could not write file: Disk quota exceeded"),
    ],
    ids=["edquot", "quota_in_text"],
)
def test_a_quota_exceeded_is_named_like_a_full_disk(
    tmp_path, run_mir, monkeypatch, full: BaseException
) -> None:
    """A user's disk quota reached (EDQUOT, or DuckDB's error quoting it) is the full disk it
    is for mir: named so, exit 4, not "internal error ... rerun with --debug" (mutation review
    of 2026-12-07)."""
    result = _load_raising(full, tmp_path, run_mir, monkeypatch)
    assert result.exit_code == 4, result.output
    assert "error: no space left on the device written to (" in result.stderr
    assert "Disk quota exceeded" in result.stderr
    assert "internal error" not in result.stderr


@pytest.mark.parametrize(
    "read_only",
    [
        OSError(errno.EROFS, "Read-only file system", "out/mir-daily.jsonl"),
        RuntimeError(
            "TransactionContext Error: Failed to commit: Cannot open file "
            '"/srv/mir/mir.duckdb.wal": Read-only file system'
        ),
    ],
    ids=["erofs", "duckdb"],
)
def test_a_read_only_file_system_is_named_not_an_internal_error(
    tmp_path, run_mir, monkeypatch, read_only: BaseException
) -> None:
    """A file system that turned read-only during a run (ext4's errors=remount-ro; OUT or the
    database's write-ahead log) printed "internal error: OSError: [Errno 30] Read-only file
    system ... (rerun with --debug for the traceback)" (disk review of 2026-12-07): exit 4
    still, named as the full disk is, with the path the system refused."""
    result = _load_raising(read_only, tmp_path, run_mir, monkeypatch)
    assert result.exit_code == 4, result.output
    assert "error: the file system written to is read-only (" in result.stderr
    assert "Read-only file system" in result.stderr
    assert ("out/mir-daily.jsonl" in result.stderr) or ("mir.duckdb.wal" in result.stderr)
    assert "internal error" not in result.stderr


def test_an_internal_error_shows_its_first_line_and_debug_its_traceback(
    tmp_path, run_mir, monkeypatch
) -> None:
    """An unexpected exception is one line naming its type and first line, with the hint to
    rerun with --debug; --debug prints its traceback instead of the hint; exit 4 either way
    (mutation review of 2026-12-07)."""
    bug = IndexError("list index out of range\nsecond line of the error")
    plain = _load_raising(bug, tmp_path, run_mir, monkeypatch)
    snap = tmp_path / "2026-03-02"
    assert plain.exit_code == 4, plain.output
    assert plain.stderr.strip() == (
        "error: internal error: IndexError: list index out of range "
        "(rerun with --debug for the traceback)"
    )
    debug = run_mir("--debug", "load", str(snap), db=tmp_path / "x.duckdb")
    assert debug.exit_code == 4, debug.output
    assert "Traceback (most recent call last)" in debug.stderr
    assert debug.stderr.strip().splitlines()[-1] == (
        "error: internal error: IndexError: list index out of range"
    )


@pytest.mark.parametrize("path", _leaf_commands(cli), ids=" ".join)
def test_every_commands_help_names_mir_db(path: tuple[str, ...], run_mir) -> None:
    """DESIGN.md section 7: every command takes --db or MIR_DB; its --help says so ("[env var:
    MIR_DB]", click's mark): with the variable no longer shown, nothing in the help told an
    analyst that `MIR_DB` picks the database (mutation review of 2026-12-07)."""
    result = run_mir(*path, "--help")
    assert result.exit_code == 0, result.output
    assert "[env var: MIR_DB]" in " ".join(result.output.split()), result.output


def test_the_daily_help_cron_example_is_the_readmes_and_pages_on_a_non_zero_exit() -> None:
    """Scheduling audit of 2026-12-07: the cron line of `mir daily --help` and the README sent
    every output to the log, so cron mailed nothing and a breach (exit 1) or a failed run
    (2, 3, 4) alerted no one. The help shows the README's line, which pages on any exit but 0."""
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    in_readme = [line for line in readme.splitlines() if line.startswith("30 1 * * * mir ")]
    in_help = [
        line.strip()
        for line in (cli.commands["daily"].help or "").splitlines()
        if line.strip().startswith("30 1 * * * mir ")
    ]
    assert in_readme and in_help == in_readme
    assert '2>&1; rc=$?; [ $rc = 0 ] || /usr/local/bin/page-compliance "' in in_readme[0]


def test_an_installed_wheels_layout_finds_the_queries_and_templates(tmp_path) -> None:
    """DESIGN.md section 2: packaging must find queries/ and templates/ from an installed wheel
    too. The wheel's layout is the package with pyproject's force-include copies inside it
    (reports/_queries, reports/_templates) and no checkout around it: `mir init` and a view
    must work there, reading the copies (coverage audit of 2026-12-07: nothing tested it)."""
    import os
    import shutil
    import subprocess
    import sys
    import tomllib

    repo = Path(__file__).resolve().parent.parent
    with (repo / "pyproject.toml").open("rb") as handle:
        build = tomllib.load(handle)["tool"]["hatch"]["build"]["targets"]["wheel"]
    assert build["packages"] == ["reports"]
    site = tmp_path / "site"
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(repo / "reports", site / "reports", ignore=ignore)
    for source, target in build["force-include"].items():
        shutil.copytree(repo / source, site / target, ignore=ignore)
    script = (
        "import sys; from pathlib import Path; from reports import paths; "
        "print(paths.queries_dir()); print(paths.templates_dir()); "
        "from reports.cli import main; sys.argv = ['mir', *sys.argv[1:]]; main()"
    )
    env = {**os.environ, "PYTHONPATH": str(site), "MIR_DB": str(tmp_path / "mir.duckdb")}
    env.pop("MIR_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-c", script, "init"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    found = done.stdout.splitlines()[:2]
    assert found == [str(site / "reports" / "_queries"), str(site / "reports" / "_templates")]
    assert (site / "reports" / "_templates" / "report.html.j2").is_file()


def test_the_stages_import_only_the_stages_before_them() -> None:
    """DESIGN.md section 2: nothing below cli imports it; the loader knows nothing of rendering,
    the checks nothing of signing, and the generator writes snapshot directories only (it could
    be a separate tool). Read from every module's imports, at any depth (coverage audit of
    2026-12-07: nothing tested it)."""
    import ast

    package = Path(__file__).resolve().parent.parent / "reports"
    forbidden = {
        "": {"reports.cli"},
        "load": {"reports.render", "reports.sign", "reports.checks", "reports.daily"},
        "checks": {"reports.render", "reports.sign", "reports.daily"},
        "capital": {"reports.render", "reports.sign", "reports.daily"},
        "concentration": {"reports.render", "reports.sign", "reports.daily"},
        "stress": {"reports.render", "reports.sign", "reports.daily"},
        "generate": {
            "reports.db",
            "reports.load",
            "reports.checks",
            "reports.render",
            "reports.sign",
        },
    }
    problems = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).parts
        if parts[0] == "cli":
            continue
        module = ".".join(("reports", *parts)).removesuffix(".py").removesuffix(".__init__")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = module.split(".")[: len(module.split(".")) - node.level + 1]
                    if path.name != "__init__.py":
                        anchor = anchor[:-1]
                    base = ".".join([*anchor, base] if base else anchor)
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            else:
                continue
            stage = parts[0] if len(parts) > 1 else ""
            for rule in ("", stage):
                for name in names:
                    if any(name == f or name.startswith(f + ".") for f in forbidden.get(rule, ())):
                        problems.append(f"{module} imports {name}")
    assert problems == []
