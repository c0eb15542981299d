"""The `mir` command line: a thin layer over the library.

Each command parses options, calls one library function and renders its result. Errors are
mapped to exit codes in one place (`MirGroup.invoke`); `--debug` re-raises them with a
traceback. A command that ran but must exit non-zero (a breach found) calls `ctx.exit(code)`.
Heavy imports (duckdb, polars, weasyprint) stay inside the commands so `mir --help` is instant.
"""

from __future__ import annotations

import importlib
from typing import Any

import click

from reports import __version__
from reports.errors import ExitCode, InputError, MirError

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


class MirGroup(click.Group):
    """The one error handler: MirError -> message on stderr + its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except MirError as exc:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            report_error(exc)
            ctx.exit(int(exc.exit_code))
        except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort):
            raise
        except BrokenPipeError:
            # `mir queries | head`: the reader went away; not an error of ours
            import os
            import sys

            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            ctx.exit(int(ExitCode.OK))
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            ctx.exit(int(ExitCode.INTERNAL))
        except BaseException as exc:
            # Exception, and Polars' PanicException (a BaseException from its Rust core,
            # which would otherwise end the run with exit 1, "breach found")
            if not isinstance(exc, Exception) and type(exc).__name__ != "PanicException":
                raise  # SystemExit, GeneratorExit
            if ctx.obj and ctx.obj.get("debug"):
                raise
            first = str(exc).splitlines()[0] if str(exc) else ""
            click.echo(
                f"error: internal error: {type(exc).__name__}: {first} "
                "(rerun with --debug for the traceback)",
                err=True,
            )
            ctx.exit(int(ExitCode.INTERNAL))


def report_error(exc: MirError) -> None:
    click.echo(f"error: {exc}", err=True)
    if isinstance(exc, InputError):
        for violation in exc.violations:
            click.echo(f"  {violation}", err=True)


@click.group(
    cls=MirGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100}
)
@click.version_option(__version__, prog_name="mir")
@click.option("--debug", is_flag=True, help="Show tracebacks instead of one-line errors.")
@click.pass_context
def cli(ctx: click.Context, debug: bool) -> None:
    """Margin Isolation Reports: load a venue's daily snapshots, check segregation,
    concentration and capital, and produce signed regulatory packages.

    Exit codes: 0 ok (warnings possible), 1 breach found, 2 usage or configuration error,
    3 bad input (nothing changed), 4 internal, signing or verification error.
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
