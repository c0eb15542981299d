"""The `mir` command line: a thin layer over the library.

Each command parses options, calls one library function and renders its result. Errors are
mapped to exit codes in one place (`MirGroup.invoke`); `--debug` prints their traceback too,
with the same exit code. A command that ran but must exit non-zero (a breach found) calls `decide_exit(code)`
before it prints its result, then `ctx.exit(code)`: a reader that goes away (`mir daily | logger`
and the logger restarts; `mir verify ZIP | grep -q FAILED`) must not change the exit code.
Heavy imports (duckdb, polars, weasyprint) stay inside the commands so `mir --help` is instant.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import click

from reports import __version__
from reports.errors import (
    ExitCode,
    InputError,
    MirError,
    environment_failure,
    first_line,
    is_failure,
    is_interrupt,
)

# Command modules, each registering its commands on `cli` when imported.
_COMMAND_MODULES = (
    "reports.cli.db_commands",
    "reports.cli.load",
    "reports.cli.generate",
    "reports.cli.check",
    "reports.cli.report",
    "reports.cli.sign",
    "reports.cli.sql",
    "reports.cli.daily",
)


EXIT_CODE_KEY = "mir.exit_code"


def decide_exit(code: int) -> None:
    """Record the exit code the command's outcome calls for, before printing that outcome: if
    the output then fails (a closed pipe), the command still exits with it."""
    click.get_current_context().meta[EXIT_CODE_KEY] = int(code)


def echo(message: str, *, err: bool = False) -> None:
    """click.echo that survives its reader going away: the output is dropped, the command goes on
    (the daily job's progress on a closed stderr must not stop the job; its run log has it all)."""
    try:
        click.echo(message, err=err)
    except OSError:  # EPIPE (BrokenPipeError), or the stream's device gone
        _silence(err=err)


def _silence(*, err: bool) -> None:
    """Point a failed stream at /dev/null, so that nothing written later (nor the interpreter's
    final flush, which would turn the exit code into 120) fails again."""
    import os
    import sys

    stream = sys.stderr if err else sys.stdout
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, stream.fileno())
    finally:
        os.close(devnull)


def _silence_failed_streams() -> None:
    """After a BrokenPipeError: flush what still flushes, silence the stream(s) that fail."""
    import sys

    for stream, err in ((sys.stdout, False), (sys.stderr, True)):
        try:
            stream.flush()
        except OSError:
            _silence(err=err)


class MirGroup(click.Group):
    """The one error handler: MirError -> message on stderr + its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MirError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                _print_traceback()
            try:
                report_error(exc)
            except OSError:  # stderr gone: the exit code still says what happened
                _silence(err=True)
            ctx.exit(int(exc.exit_code))
        except click.exceptions.Abort:
            # Ctrl-C or end of input at a prompt (`mir keys init`): click's own handling
            # prints "Aborted!" and exits 1, "breach found" (README audit of 2026-12-07)
            echo("Interrupted.", err=True)
            ctx.exit(int(ExitCode.INTERNAL))
        except (click.exceptions.Exit, click.ClickException):
            raise
        except BrokenPipeError:
            # `mir sql ... | head`: the reader went away, which is not an error of ours; the
            # exit code is the one the command decided before printing (0 if none)
            _silence_failed_streams()
            ctx.exit(ctx.meta.get(EXIT_CODE_KEY, int(ExitCode.OK)))
        except KeyboardInterrupt:
            echo("Interrupted.", err=True)
            ctx.exit(int(ExitCode.INTERNAL))
        except BaseException as exc:
            # Exception, and Polars' PanicException (a BaseException from its Rust core,
            # which would otherwise end the run with exit 1, "breach found")
            if not is_failure(exc):
                raise  # SystemExit, GeneratorExit
            if is_interrupt(exc):  # DuckDB's own report of a Ctrl-C (CLI review of 2026-12-05)
                echo("Interrupted.", err=True)
                ctx.exit(int(ExitCode.INTERNAL))
            debug = bool(ctx.obj and ctx.obj.get("debug"))
            if debug:
                _print_traceback()
            refused = environment_failure(exc)
            if refused is not None:
                # a full disk (stdout redirected to it, the database's own files), or a file
                # system turned read-only mid-run: not a bug of mir's (reviews of 2026-12-05
                # and, read-only, 2026-12-07: "internal error ... rerun with --debug")
                text = f"{type(exc).__name__}: {first_line(str(exc))}"
                echo(f"error: {refused} ({text})", err=True)
                ctx.exit(int(ExitCode.INTERNAL))
            if type(exc).__name__ == "OutOfMemoryException":  # duckdb's, not imported here
                # DuckDB's working memory bound, or a full disk where it spills (it says
                # "failed to offload"): named, not "internal error ... --debug" (resource
                # audit of 2026-12-07)
                from reports.db import DEFAULT_MEMORY_LIMIT, MEMORY_LIMIT_ENV

                limit = os.environ.get(MEMORY_LIMIT_ENV) or DEFAULT_MEMORY_LIMIT
                echo(
                    f"error: out of memory ({first_line(str(exc))}): DuckDB's working memory "
                    f"is bounded by {MEMORY_LIMIT_ENV}={limit} and larger results spill to "
                    "<database>.tmp/ beside the database: raise the limit, or free disk space "
                    "there",
                    err=True,
                )
                ctx.exit(int(ExitCode.INTERNAL))
            # the first line, cut as every one-line quote of an error is (--debug: the whole)
            first = first_line(str(exc))
            hint = "" if debug else " (rerun with --debug for the traceback)"
            echo(f"error: internal error: {type(exc).__name__}: {first}{hint}", err=True)
            ctx.exit(int(ExitCode.INTERNAL))


def _print_traceback() -> None:
    """--debug: the traceback on stderr; the exit code stays the contract's (CLI review of
    2026-12-05: re-raising made Python exit 1, "breach found", for every error)."""
    import traceback

    try:
        traceback.print_exc()
    except OSError:
        _silence(err=True)


def report_error(exc: MirError) -> None:
    click.echo(f"error: {exc}", err=True)
    if isinstance(exc, InputError):
        for violation in exc.violations:
            click.echo(f"  {violation}", err=True)


@click.group(
    cls=MirGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="mir")
@click.option(
    "--debug", is_flag=True, help="Print the traceback of an error too (same exit codes)."
)
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Margin Isolation Reports: load a venue's daily snapshots, check segregation,
    concentration and capital, and produce signed regulatory packages.

    Exit codes: 0 ok (warnings possible), 1 breach found, 2 usage or configuration error,
    3 bad input (nothing changed), 4 internal, signing or verification error, or a lock
    (database or output folder) held by another run.
    """
    ctx.ensure_object(dict)
    ctx.obj["debug"] = debug


for _module in _COMMAND_MODULES:
    try:
        importlib.import_module(_module)
    except ModuleNotFoundError as exc:  # a command module not written yet in this checkout
        if exc.name != _module:
            raise


def main() -> None:
    cli(prog_name="mir")
