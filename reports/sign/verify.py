"""`mir verify`: re-check a submission package (or a day directory) end to end.

Checks, each reported as one line (ok / FAILED: reason):
- manifest.json parses and every file it lists is present with its SHA-256 and size;
- nothing the manifest does not list is present, and the contract's output files are all there;
- manifest.json.p7s is a valid detached CMS signature over manifest.json;
- report.pdf carries an intact, valid PAdES signature covering the whole file;
- the PDF and the manifest were signed with the same certificate.
Trust: with --trust CERT the signer must chain to it; without, a self-signed signer is reported
as a warning ("untrusted (self-signed)") and only the signature mathematics is checked.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import zipfile
import zlib
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from reports.errors import UsageError
from reports.sign.keys import is_development_certificate, is_self_signed, load_certificates
from reports.sign.manifest import MANIFEST_NAME, SIGNATURE_NAME, is_safe_name, parse_manifest
from reports.sign.pades import PADES_SUBFILTER

REPORT_PDF = "report.pdf"
# DESIGN.md section 6: what `mir report` writes into <out>/<as_of>/
REQUIRED_FILES = (
    "capital.csv",
    "concentration.csv",
    "exceptions.csv",
    MANIFEST_NAME,
    SIGNATURE_NAME,
    REPORT_PDF,
    "segregation.csv",
    "stress.csv",
    "summary.json",
)
MAX_ENTRY_BYTES = 1 << 30  # a day's package is megabytes; refuse to inflate a zip bomb
DEV_KEY_WARNING = "DEVELOPMENT KEY - NOT FOR SUBMISSION"


@dataclass(frozen=True)
class CheckLine:
    """The outcome of one verification step."""

    name: str
    ok: bool
    detail: str = ""
    warnings: tuple[str, ...] = ()

    def render(self) -> str:
        if not self.ok:
            return f"{self.name}: FAILED: {self.detail}"
        text = f"{self.name}: ok"
        if self.detail:
            text += f" ({self.detail})"
        for warning in self.warnings:
            text += f"; warning: {warning}"
        return text


@dataclass
class VerifyReport:
    """Every check of one package; `ok` when none failed (warnings allowed)."""

    source: str
    checks: list[CheckLine] = field(default_factory=list)
    manifest: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[CheckLine]:
        return [c for c in self.checks if not c.ok]

    @property
    def warnings(self) -> list[str]:
        return [w for c in self.checks for w in c.warnings]

    def lines(self) -> list[str]:
        return [c.render() for c in self.checks]

    def add(self, line: CheckLine) -> None:
        self.checks.append(line)


@dataclass(frozen=True)
class _Signer:
    certificate_sha256: str
    subject: str


@contextmanager
def _quiet_pyhanko() -> Iterator[None]:
    # pyHanko logs a traceback for every untrusted chain; the report line already says it
    loggers = [logging.getLogger(name) for name in ("pyhanko", "pyhanko_certvalidator")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _validation_context(trust: Sequence[x509.Certificate] | None) -> Any:
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    roots = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in trust or ()
    ]
    # only the given roots, never the machine's trust store; no network (no OCSP/CRL fetching)
    return ValidationContext(trust_roots=roots, allow_fetching=False)


def _as_cryptography(cert: Any) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _signer(cert: Any) -> tuple[x509.Certificate, _Signer]:
    certificate = _as_cryptography(cert)
    return certificate, _Signer(
        hashlib.sha256(cert.dump()).hexdigest(), certificate.subject.rfc4514_string()
    )


def _trust_outcome(
    status: Any, cert: x509.Certificate, trust: Sequence[x509.Certificate] | None
) -> tuple[str | None, list[str]]:
    """(problem, warnings): with --trust the signer must chain to it; without, only a warning."""
    if trust is not None:
        if status.trusted:
            return None, []
        subject = cert.subject.rfc4514_string()
        return f"signer {subject} is not trusted by --trust ({status.trust_problem_indic})", []
    why = "self-signed" if is_self_signed(cert) else "no --trust given"
    return None, [f"untrusted ({why})"]


def _check_manifest_signature(
    manifest: bytes, signature: bytes, trust: Sequence[x509.Certificate] | None
) -> tuple[CheckLine, _Signer | None]:
    from asn1crypto import cms
    from pyhanko.sign.validation import async_validate_detached_cms

    name = f"manifest signature ({SIGNATURE_NAME})"
    try:
        content_info = cms.ContentInfo.load(signature)
        if content_info["content_type"].native != "signed_data":
            return CheckLine(name, False, "not a CMS SignedData object"), None
        signed_data = content_info["content"]
        if signed_data["encap_content_info"]["content"].native is not None:
            return CheckLine(name, False, "embeds its content; expected a detached signature"), None
        with _quiet_pyhanko():
            status = asyncio.run(
                async_validate_detached_cms(
                    manifest, signed_data, signer_validation_context=_validation_context(trust)
                )
            )
    except Exception as exc:  # any parse or validation crash on hostile input fails the check
        return CheckLine(name, False, f"invalid CMS signature: {type(exc).__name__}: {exc}"), None
    cert, signer = _signer(status.signing_cert)
    problem, warnings = _trust_outcome(status, cert, trust)
    if not status.intact:
        problem = "manifest.json does not match the signed digest (modified after signing)"
    elif not status.valid:
        problem = "the signature value does not verify with the signer's key"
    if problem:
        return CheckLine(name, False, problem), signer
    if is_development_certificate(cert):
        warnings.append(DEV_KEY_WARNING)
    detail = f"signer {signer.subject}" + (", trusted" if trust is not None else "")
    return CheckLine(name, True, detail, tuple(warnings)), signer


def _pdf_problem(signatures: list[Any], statuses: list[Any]) -> str | None:
    from pyhanko.sign.validation import SignatureCoverageLevel

    for signature, status in zip(signatures, statuses, strict=True):
        field_name = signature.field_name
        subfilter = signature.sig_object.get("/SubFilter")
        timestamp = status.timestamp_validity
        if subfilter != PADES_SUBFILTER:
            return f"signature {field_name} is {subfilter}, not PAdES ({PADES_SUBFILTER[1:]})"
        if not status.intact:
            return f"signature {field_name}: the signed bytes were modified (digest mismatch)"
        if not status.valid:
            return f"signature {field_name}: the signature value does not verify"
        if timestamp is not None and not (timestamp.intact and timestamp.valid):
            return f"signature {field_name}: its timestamp token is broken"
    coverage = statuses[-1].coverage
    if coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return f"the signature does not cover the whole file ({coverage}): bytes were added after signing"
    return None


def _check_pdf_signature(
    pdf: bytes, trust: Sequence[x509.Certificate] | None
) -> tuple[CheckLine, _Signer | None]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    name = f"PDF signature ({REPORT_PDF})"
    try:
        signatures = list(PdfFileReader(io.BytesIO(pdf)).embedded_signatures)
        if not signatures:
            return CheckLine(name, False, "report.pdf carries no signature"), None
        context = _validation_context(trust)
        with _quiet_pyhanko():
            statuses = [
                validate_pdf_signature(s, signer_validation_context=context) for s in signatures
            ]
    except Exception as exc:  # a mangled PDF must fail the check, not crash verify
        return CheckLine(name, False, f"invalid PDF signature: {type(exc).__name__}: {exc}"), None
    last = statuses[-1]
    cert, signer = _signer(last.signing_cert)
    problem, warnings = _trust_outcome(last, cert, trust)
    problem = _pdf_problem(signatures, statuses) or problem
    if problem:
        return CheckLine(name, False, problem), signer
    level = "PAdES B-T" if last.timestamp_validity is not None else "PAdES B-B"
    detail = f"{level}, covers the whole file, signer {signer.subject}"
    if trust is not None:
        detail += ", trusted"
    if last.timestamp_validity is not None:
        detail += f", timestamp {last.timestamp_validity.timestamp.isoformat()}"
    return CheckLine(name, True, detail, tuple(warnings)), signer


def _check_files(
    files: Mapping[str, bytes], manifest: dict[str, Any], report: VerifyReport
) -> None:
    listed: set[str] = set()
    for entry in manifest["files"]:
        name = entry["name"]
        listed.add(name)
        label = f"file {name}"
        data = files.get(name)
        if data is None:
            report.add(CheckLine(label, False, "listed in manifest.json but missing"))
            continue
        digest = hashlib.sha256(data).hexdigest()
        if len(data) != entry["size"]:
            report.add(
                CheckLine(label, False, f"size {len(data)} bytes, manifest says {entry['size']}")
            )
        elif digest != entry["sha256"]:
            report.add(CheckLine(label, False, f"sha256 {digest}, manifest says {entry['sha256']}"))
        else:
            report.add(CheckLine(label, True, f"sha256 {digest[:16]}..., {len(data)} bytes"))
    unlisted = sorted(set(files) - listed - {MANIFEST_NAME, SIGNATURE_NAME})
    if unlisted:
        report.add(
            CheckLine("unlisted files", False, f"not in manifest.json: {', '.join(unlisted)}")
        )
    else:
        report.add(CheckLine("unlisted files", True, "none"))
    missing = [
        n for n in REQUIRED_FILES if n not in listed and n not in (MANIFEST_NAME, SIGNATURE_NAME)
    ]
    if missing:
        report.add(
            CheckLine("required files", False, f"manifest.json does not list {', '.join(missing)}")
        )
    else:
        report.add(CheckLine("required files", True))


def verify_files(
    files: Mapping[str, bytes],
    *,
    trust: Sequence[x509.Certificate] | None = None,
    source: str = "<memory>",
    problems: Sequence[CheckLine] = (),
) -> VerifyReport:
    """Verify a package given as {file name: bytes}; `problems` are container-level failures."""
    report = VerifyReport(source=source, checks=list(problems))
    manifest_bytes = files.get(MANIFEST_NAME)
    if manifest_bytes is None:
        report.add(CheckLine(MANIFEST_NAME, False, "missing"))
        return report
    try:
        manifest = parse_manifest(manifest_bytes)
    except ValueError as exc:
        report.add(CheckLine(MANIFEST_NAME, False, str(exc)))
        manifest = None
    if manifest is not None:
        report.manifest = manifest
        chain = manifest.get("previous_manifest_sha256")
        chain_text = (
            f"previous manifest {chain[:16]}..." if isinstance(chain, str) else "first of its chain"
        )
        report.add(
            CheckLine(
                MANIFEST_NAME,
                True,
                f"as of {manifest.get('as_of')}, {len(manifest['files'])} files, {chain_text}",
            )
        )
        _check_files(files, manifest, report)

    signature = files.get(SIGNATURE_NAME)
    cms_signer: _Signer | None = None
    if signature is None:
        report.add(CheckLine(f"manifest signature ({SIGNATURE_NAME})", False, "missing"))
    else:
        line, cms_signer = _check_manifest_signature(manifest_bytes, signature, trust)
        report.add(line)

    pdf = files.get(REPORT_PDF)
    pdf_signer: _Signer | None = None
    if pdf is None:
        report.add(CheckLine(f"PDF signature ({REPORT_PDF})", False, "report.pdf is missing"))
    else:
        line, pdf_signer = _check_pdf_signature(pdf, trust)
        report.add(line)

    if cms_signer is None or pdf_signer is None:
        report.add(CheckLine("same signer", False, "cannot compare: a signature could not be read"))
    elif cms_signer.certificate_sha256 != pdf_signer.certificate_sha256:
        report.add(
            CheckLine(
                "same signer",
                False,
                f"report.pdf signed by {pdf_signer.subject} ({pdf_signer.certificate_sha256[:16]}...), "
                f"manifest by {cms_signer.subject} ({cms_signer.certificate_sha256[:16]}...)",
            )
        )
    else:
        report.add(
            CheckLine("same signer", True, f"certificate sha256 {cms_signer.certificate_sha256}")
        )
    return report


def read_zip(zip_path: Path) -> tuple[dict[str, bytes], list[CheckLine]]:
    """The zip's members by name, and the container-level problems found while reading it."""
    files: dict[str, bytes] = {}
    problems: list[CheckLine] = []
    try:
        archive = zipfile.ZipFile(zip_path)
    except (zipfile.BadZipFile, OSError) as exc:
        return files, [
            CheckLine("zip archive", False, f"{zip_path.name} is not a readable zip file: {exc}")
        ]
    with archive:
        seen: set[str] = set()
        for info in archive.infolist():
            name = info.filename
            if info.is_dir() or not is_safe_name(name):
                problems.append(
                    CheckLine(f"file {name}", False, "not a plain file name at the top of the zip")
                )
                continue
            if name in seen:
                problems.append(CheckLine(f"file {name}", False, "appears twice in the zip"))
                continue
            seen.add(name)
            if info.file_size > MAX_ENTRY_BYTES:
                problems.append(
                    CheckLine(
                        f"file {name}",
                        False,
                        f"{info.file_size} bytes is too large for a package member",
                    )
                )
                continue
            try:
                files[name] = archive.read(info)
            except (zipfile.BadZipFile, zlib.error, OSError) as exc:  # CRC mismatch, corrupt data
                problems.append(
                    CheckLine(f"file {name}", False, f"cannot be read from the zip: {exc}")
                )
    return files, problems


def trust_certificates(
    trust: str | os.PathLike[str] | Sequence[x509.Certificate] | None,
) -> list[x509.Certificate] | None:
    if trust is None:
        return None
    if isinstance(trust, (str, os.PathLike)):
        return load_certificates(trust)
    return list(trust)


def verify_package(
    zip_path: str | os.PathLike[str],
    trust: str | os.PathLike[str] | Sequence[x509.Certificate] | None = None,
) -> VerifyReport:
    """Verify a `mir package` zip; `trust` is a certificate file (PEM/DER) or certificates."""
    path = Path(zip_path)
    if not path.is_file():
        msg = f"no package at {path}"
        raise UsageError(msg)
    trusted = trust_certificates(trust)
    files, problems = read_zip(path)
    return verify_files(files, trust=trusted, source=str(path), problems=problems)


def read_directory(day_dir: Path) -> dict[str, bytes]:
    """A day directory's regular files by name (sub-folders are an error)."""
    files: dict[str, bytes] = {}
    for path in sorted(day_dir.iterdir()):
        if not path.is_file() or path.is_symlink():
            msg = f"{path} is not a regular file; a day directory holds only the report's output files"
            raise UsageError(msg)
        files[path.name] = path.read_bytes()
    return files


def verify_directory(
    day_dir: str | os.PathLike[str],
    trust: str | os.PathLike[str] | Sequence[x509.Certificate] | None = None,
) -> VerifyReport:
    """Verify a day directory <out>/<as_of>/ as if it were packaged."""
    folder = Path(day_dir)
    if not folder.is_dir():
        msg = f"no day directory at {folder}"
        raise UsageError(msg)
    return verify_files(read_directory(folder), trust=trust_certificates(trust), source=str(folder))
