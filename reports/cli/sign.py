"""`mir keys init`, `mir package`, `mir verify`: keys, submission packages and their verification."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from reports.cli import cli, decide_exit, echo
from reports.cli.options import as_of_option, config_option, db_option, out_option, quiet_option
from reports.errors import ExitCode, UsageError, VerificationError


@cli.group("keys", short_help="Manage the signing key.")
def keys_group() -> None:
    """Manage the signing key: `mir keys init` makes a self-signed development key.

    A real submission is signed with the firm's own certificate (set [signing] pkcs12 in mir.toml);
    the passphrase always comes from the environment variable named by [signing] passphrase_env.
    """


@keys_group.command("init", short_help="Create a self-signed DEVELOPMENT key.")
@db_option(used=False)
@config_option
@click.option(
    "--out",
    "out_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="PKCS#12 file to write [default: [signing] pkcs12, keys/signer.p12]; the certificate "
    "(PEM) is written beside it as .crt.",
)
@click.option(
    "--subject",
    default=None,
    help="Certificate subject, e.g. 'CN=Example signer,O=Example Ltd' "
    "[default: CN=mir development signer,O=mir development key].",
)
@click.option(
    "--days",
    type=click.IntRange(min=1, max=36_500),
    default=365,
    show_default=True,
    help="Validity in days (at most 100 years).",
)
@click.option(
    "--algorithm",
    type=click.Choice(["rsa3072", "p256"]),
    default="rsa3072",
    show_default=True,
    help="Key type: RSA 3072 bits or ECDSA P-256.",
)
@click.option("--force", is_flag=True, help="Replace an existing key and certificate.")
@quiet_option
def keys_init_command(
    db: str | None,
    config_path: str | None,
    out_path: str | None,
    subject: str | None,
    days: int,
    algorithm: str,
    force: bool,
    quiet: bool,
) -> None:
    """Create a self-signed DEVELOPMENT signing key (not for submission to a regulator).

    Writes a PKCS#12 file protected by the passphrase in $MIR_SIGNING_PASSPHRASE (or the variable
    named by [signing] passphrase_env); when it is unset and this is a terminal, asks for it. The
    passphrase needs at least 12 characters (a shorter one is a usage error, exit 2).
    The certificate has KeyUsage digitalSignature + nonRepudiation, and names the firm's LEI
    ([firm] lei) as organizationIdentifier LEIXG-<LEI> when one is configured. Refuses to
    overwrite an existing key without --force. `--db` is accepted like on every command and not used.
    """
    from reports.config import UNKNOWN_LEI, load_config
    from reports.sign.keys import DEFAULT_SUBJECT, init_keys, passphrase_from_env, read_passphrase

    config = load_config(config_path)
    prompt = None
    if sys.stdin is not None and sys.stdin.isatty():  # <&-: None

        def prompt() -> str:
            return str(
                click.prompt(
                    "Passphrase for the new key", hide_input=True, confirmation_prompt=True
                )
            )

    source = (
        f"${config.signing.passphrase_env}"
        if passphrase_from_env(config.signing) is not None
        else "the prompt"
    )
    # an empty variable is judged with the length (init_keys: exit 2), not as a signing error
    passphrase = passphrase_from_env(config.signing)
    if passphrase is None and prompt is None:
        # no variable and no terminal to ask on: the user's to supply, as a short one is (exit
        # 2; a signing error, exit 4, until 2026-12-07)
        msg = (
            f"no passphrase for the new key: set the environment variable "
            f"{config.signing.passphrase_env} (named by [signing] passphrase_env), or run "
            "`mir keys init` on a terminal to be asked for it"
        )
        raise UsageError(msg)
    if passphrase is None:
        passphrase = read_passphrase(config.signing, prompt=prompt)
    result = init_keys(
        out_path or config.signing.pkcs12,
        passphrase=passphrase,
        subject=subject or DEFAULT_SUBJECT,
        days=days,
        algorithm=algorithm,  # type: ignore[arg-type]
        force=force,
        # the firm's LEI in the certificate (organizationIdentifier LEIXG-<LEI>): `mir verify`
        # fails a package naming another LEI (security review of 2026-12-06)
        lei=None if config.firm.lei == UNKNOWN_LEI else config.firm.lei,
    )
    if not quiet:
        click.echo(
            f"key written: {result.pkcs12_path} ({result.algorithm}, PKCS#12, passphrase from {source})"
        )
        click.echo(f"certificate: {result.certificate_path}")
        click.echo(f"subject: {result.subject}")
        click.echo(f"sha256 fingerprint: {result.fingerprint_sha256}")
        click.echo(f"valid until: {result.not_after.isoformat()}")
        click.echo(
            "DEVELOPMENT KEY - NOT FOR SUBMISSION: sign real packages with the firm's certificate."
        )


@cli.command("package", short_help="Zip a day's outputs for the regulator.")
@db_option(used=False)
@config_option
@as_of_option()
@out_option
@click.option("--force", is_flag=True, help="Replace an existing package.")
@click.option(
    "--trust",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Require the signer to chain to this certificate (PEM or DER).",
)
@quiet_option
def package_command(
    db: str | None,
    config_path: str | None,
    as_of: dt.date,
    out_dir: str,
    force: bool,
    trust: str | None,
    quiet: bool,
) -> None:
    """Zip OUT/<as_of>/ as OUT/<LEI>_<as_of>.zip for the regulator.

    Re-hashes every file against manifest.json and checks both signatures first, and refuses
    when anything is missing, unlisted or altered. An existing package is never replaced without
    --force. The zip is deterministic (sorted names, fixed dates). `--db` is accepted like on
    every command and not used.
    """
    from reports.config import load_config
    from reports.sign.manifest import broken_link_message, broken_links_after
    from reports.sign.package import build_package

    config = load_config(config_path)
    result = build_package(out_dir, as_of, lei=config.firm.lei, force=force, trust=trust)
    if not quiet:
        action = "replaced" if result.replaced else "written"
        click.echo(
            f"package {action}: {result.path} ({len(result.files)} files, {result.size} bytes)"
        )
        click.echo(f"sha256: {result.sha256}")
    # warnings on stderr, under --quiet too (a chain link `mir verify` will fail among them)
    for warning in dict.fromkeys(result.report.warnings):
        echo(f"warning: {warning}", err=True)
    for later in broken_links_after(Path(out_dir), as_of, config.firm.lei):
        echo(broken_link_message(later, as_of, "mir report` and `mir package --force"), err=True)


@cli.command("verify", short_help="Re-check a submission package.")
@click.argument("zip_path", metavar="ZIP", type=click.Path(dir_okay=False))
@click.option(
    "--trust",
    type=click.Path(exists=True, dir_okay=False),
    default=None,
    help="Certificate (PEM or DER) the signers must chain to; without it a self-signed signer is "
    "a warning and only the signature mathematics is checked.",
)
@click.option(
    "--previous",
    type=click.Path(exists=True),
    default=None,
    help="The package (zip) or day directory this one's hash chain links to; by default the "
    "package beside it with the same name prefix and the latest earlier date.",
)
@db_option(used=False)
@quiet_option
def verify_command(
    zip_path: str, trust: str | None, previous: str | None, db: str | None, quiet: bool
) -> None:
    """Re-check a submission package: file hashes and sizes against manifest.json, no unlisted
    files, summary.json against the manifest, the CSVs embedded in report.pdf, the CMS signature
    of manifest.json, the PAdES signature of report.pdf, same signer, the signer's LEI, the hash
    chain to the previous day's package, and that the zip's name carries its date and LEI.

    Prints one line per check (ok / NOT CHECKED / FAILED: reason; -q only the last two and
    warnings). Exit 0 when all pass (warnings and NOT CHECKED allowed, e.g. a chain link with no
    earlier package to check it against), 4 when any fails (a ZIP
    that is not a readable zip, a --previous without a manifest included), 2 when ZIP or
    --previous is missing or --trust is missing, unreadable or not a certificate. `--db` is
    accepted like on every command and not used.
    """
    from reports.sign.verify import printable, verify_package

    report = verify_package(zip_path, trust=trust, previous=previous)
    decide_exit(ExitCode.OK if report.ok else VerificationError.exit_code)
    for line in report.checks:
        # -q keeps what needs a look: failures, warnings, and what could not be checked
        if not quiet or not line.ok or line.warnings or not line.checked:
            click.echo(line.render())
    if not report.ok:
        failed = printable(", ".join(dict.fromkeys(line.name for line in report.failures)))
        msg = f"{zip_path}: verification FAILED ({failed})"
        raise VerificationError(msg)
    if not quiet:
        # without --trust anyone's key could have signed it (a tamper audit of 2026-12-07: a
        # package re-made under a self-made key naming the firm's LEI read "all checks passed")
        who = (
            ""
            if trust is not None
            else " (integrity only: without --trust, who signed is not checked)"
        )
        click.echo(f"{zip_path}: all checks passed{who}")
