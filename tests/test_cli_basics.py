from __future__ import annotations

import click
import pytest

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
