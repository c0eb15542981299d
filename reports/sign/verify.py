"""`mir verify`: re-check a submission package (or a day directory) end to end.

Checks, each reported as one line (ok / FAILED: reason):
- manifest.json parses and every file it lists is present with its SHA-256 and size;
- nothing the manifest does not list is present, and the contract's output files are all there;
- manifest.json.p7s is a valid detached CMS signature over manifest.json;
- report.pdf carries an intact, valid PAdES signature covering the whole file;
- the PDF and the manifest were signed with the same certificate;
- the hash chain: previous_manifest_sha256 is the SHA-256 of the manifest of the package (or day
  directory) that precedes it, found beside it (same name prefix, the latest earlier date) or
  given with --previous; not found, the link is reported unchecked (a warning);
- summary.json is of the manifest's day and run (as_of, run_id), and report.pdf embeds exactly
  the package's CSVs and summary.json, byte for byte;
- a package named <prefix>_<YYYY-MM-DD>.zip is the package of that date;
- the zip itself: plain, regular, unique top-level entries; nothing inflated beyond 64 entries
  or 1 GiB in all (a zip bomb), encrypted or unreadable entries fail, never crash.
A signer certificate whose KeyUsage allows neither digitalSignature nor nonRepudiation fails;
one without the extension is not restricted (RFC 5280).
Trust: with --trust CERT the signer must chain to it; without, a self-signed signer is reported
as a warning ("untrusted (self-signed)") and only the signature mathematics is checked.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import io
import json
import logging
import os
import re
import stat
import struct
import zipfile
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from reports.errors import UsageError
from reports.sign.keys import (
    certificate_fingerprint,
    certificate_lei,
    certification_path,
    is_development_certificate,
    is_self_signed,
    issued_by,
    load_certificates,
)
from reports.sign.manifest import (
    KEPT_PACKAGE_NAME,
    LOCAL_HEADER_BYTES,
    MANIFEST_NAME,
    PACKAGE_NAME,
    SIGNATURE_NAME,
    ZIP_READ_ERRORS,
    find_previous_manifest,
    is_safe_name,
    member_stream_problem,
    parse_manifest,
    read_manifest_at,
)
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
# A day's package is megabytes: refuse to inflate a zip bomb (per entry, in all, in number)
MAX_ENTRY_BYTES = 1 << 30
# manifest.json and summary.json are kilobytes; each is parsed before any signature is checked
# (a security review of 2026-12-06: a 64 MB manifest in a 205 KB zip took 445 MB to verify);
# so is the manifest's detached signature, held whole to be parsed (a verify review of
# 2026-12-07: up to 1 GiB was accepted)
MAX_JSON_BYTES = 1 << 24
MAX_PACKAGE_BYTES = 1 << 30
MAX_ENTRIES = 64
SUMMARY_JSON = "summary.json"
DEV_KEY_WARNING = "DEVELOPMENT KEY - NOT FOR SUBMISSION"


@dataclass(frozen=True)
class MemberDigest:
    """A package member's SHA-256 and size, taken while `read_zip` inflated it: the bytes of a
    member no check reads (all but HELD_MEMBERS) are not kept (review of 2026-12-07: a package
    with a 300 MiB member took 650 MB to verify)."""

    sha256: str
    size: int

    @classmethod
    def of(cls, data: bytes | MemberDigest) -> MemberDigest:
        if isinstance(data, MemberDigest):
            return data
        return cls(hashlib.sha256(data).hexdigest(), len(data))


# the members whose bytes the checks read (parsed, or validated by pyHanko); the CSVs are
# compared with the PDF's copies by their SHA-256
HELD_MEMBERS = frozenset({MANIFEST_NAME, SIGNATURE_NAME, SUMMARY_JSON, REPORT_PDF})
Files = Mapping[str, bytes | MemberDigest]


def _held(files: Files, name: str) -> bytes | None:
    """The bytes of member `name` (one of HELD_MEMBERS), None when it is absent."""
    data = files.get(name)
    if isinstance(data, MemberDigest):  # read_zip keeps the bytes of every one of HELD_MEMBERS
        msg = f"{name}: its bytes were not kept"
        raise TypeError(msg)
    return data


@dataclass(frozen=True)
class CheckLine:
    """The outcome of one verification step."""

    name: str
    ok: bool
    detail: str = ""
    warnings: tuple[str, ...] = ()
    # nothing to check it against (ok: it does not fail the package): "NOT CHECKED", not "ok"
    # (a user review of 2026-12-06 read "hash chain: ok ...; warning: not checked")
    checked: bool = True

    def render(self) -> str:
        return printable(self._text())

    def _text(self) -> str:
        if not self.ok:
            return f"{self.name}: FAILED: {self.detail}"
        text = f"{self.name}: {'ok' if self.checked else 'NOT CHECKED'}"
        if self.detail:
            text += f" ({self.detail})"
        for warning in self.warnings:
            text += f"; warning: {warning}"
        return text


# C0 and C1 control characters (a terminal acts on them): shown as escapes instead
_CONTROLS = {code: f"\\x{code:02x}" for code in (*range(0x20), *range(0x7F, 0xA0))}


def printable(text: str) -> str:
    """`text` with its control characters escaped: a package's member names and the messages
    quoting them reach the terminal (a security review of 2026-12-06: a crafted name moved the
    cursor and printed "all checks passed" over the failures)."""
    return text.translate(_CONTROLS)


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
class Predecessor:
    """The package or day directory a manifest's hash chain should link to."""

    source: str  # how it is named in the report
    manifest: bytes | None  # its manifest.json; None when it has none
    # its manifest.json.p7s, checked when `signed` (what `mir verify` reads from the package or
    # day directory it links to; `mir package` checks its predecessor's signature itself)
    signature: bytes | None = None
    signed: bool = False


@dataclass(frozen=True)
class _Signer:
    certificate_sha256: str
    subject: str
    lei: str | None = None  # the LEI its certificate names (certificate_lei), if any
    trusted: bool = False  # --trust vouches for the certificate (a chain to one of its anchors)
    # the signature verifies (intact and valid): pyhanko decides no trust for one that does
    # not, so `trusted` is then False whatever --trust holds
    verified: bool = True


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


def _validation_context(
    trust: Sequence[x509.Certificate] | None, at: dt.datetime | None = None
) -> Any:
    """pyHanko's validation context: certificates judged at `at` (default: now)."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko_certvalidator import ValidationContext

    roots = [
        asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER)) for c in trust or ()
    ]
    # only the given roots, never the machine's trust store; no network (no OCSP/CRL fetching)
    return ValidationContext(trust_roots=roots, allow_fetching=False, moment=at or _now())


_JUDGED_AT = "; certificates judged at the timestamp's time"


def _token_certificates(signed_data: Any) -> list[x509.Certificate]:
    """The certificates the signature's timestamp tokens carry (the TSA's and its chain)."""
    found = []
    for signer_info in signed_data["signer_infos"]:
        for attribute in signer_info["unsigned_attrs"] or ():
            if attribute["type"].native == "signature_time_stamp_token":
                for token in attribute["values"]:
                    found += _embedded_certificates(token["content"])
    return found


def _same_key(a: x509.Certificate, b: x509.Certificate) -> bool:
    der = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    return a.public_key().public_bytes(*der) == b.public_key().public_bytes(*der)


def _tsa_problem(
    timestamp: Any,
    signer: x509.Certificate,
    signed_data: Any,
    trust: Sequence[x509.Certificate] | None,
) -> str | None:
    """Why a timestamp token's TSA does not establish the signing time, beyond pyHanko's chain
    test (which ignores an anchor's dates and constraints): without --trust, or not chained to
    it; a certificate of the TSA's path outside its validity now; an issuer on it that is not a
    CA; or the signer's own key anywhere on it. (Diff review of 2026-12-05: the holder of an
    expired signing key minted a TSA certificate under that key, --trust signer.crt being the
    anchor, backdated a token into the key's validity, and the package verified; an expired
    self-signed TSA counted as trusted.)"""
    if trust is None:
        return "a TSA not checked (no --trust given)"
    if not timestamp.trusted:
        return "a TSA that --trust does not cover"
    now = _now()
    tsa = _as_cryptography(timestamp.signing_cert)
    if not _timestamping_only(tsa):
        # RFC 3161 2.3: the TSA's certificate carries the timeStamping extended key usage,
        # critical and alone; pyHanko skips the check for a certificate in --trust (second diff
        # review of 2026-12-05: a rotated signer's new certificate, trusted beside the old,
        # backdated a token for the old, expired key)
        return "a TSA certificate without the critical timeStamping extended key usage alone"
    path = _anchored_path(tsa, [*_token_certificates(signed_data), *trust], trust, now)
    if path is None:
        return "a TSA whose chain does not reach a --trust certificate"
    for index, certificate in enumerate(path):
        subject = certificate.subject.rfc4514_string()
        if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
            return f"a TSA whose certificate {subject} is not valid now"
        if _same_key(certificate, signer):
            return "a TSA certified with the signer's own key (it cannot vouch for that key)"
        if index and not _is_ca(certificate):
            return f"a TSA certified by {subject}, which is not a CA"
    return None


def _der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def _anchored_path(
    certificate: x509.Certificate,
    pool: Sequence[x509.Certificate],
    trust: Sequence[x509.Certificate],
    now: dt.datetime,
    depth: int = 0,
) -> list[x509.Certificate] | None:
    """`certificate` and its issuers up to the first --trust certificate, or None when no chain
    of `pool` reaches one. Every issuer whose key signed the child is tried (a --trust one
    first, then one valid now, then the latest): an issuing CA in --trust anchors the chain
    whatever the token carries above it, and a renewed or cross-signed copy of a CA in the
    token does not hide the trusted one (third diff review of 2026-12-05; EU trusted lists
    publish issuing CAs)."""
    anchors = {_der(c) for c in trust}
    if _der(certificate) in anchors:
        return [certificate]
    if depth >= 8 or certificate.issuer == certificate.subject:
        return None
    candidates = {
        _der(c): c
        for c in pool
        if c.subject == certificate.issuer
        and _der(c) != _der(certificate)
        and issued_by(certificate, c)
    }
    ranked = sorted(
        candidates.values(),
        key=lambda c: (
            _der(c) in anchors,
            c.not_valid_before_utc <= now <= c.not_valid_after_utc,
            c.not_valid_after_utc,
        ),
        reverse=True,
    )
    for issuer in ranked:
        rest = _anchored_path(issuer, pool, trust, now, depth + 1)
        if rest is not None:
            return [certificate, *rest]
    return None


def _timestamping_only(certificate: x509.Certificate) -> bool:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    except x509.ExtensionNotFound:
        return False
    return extension.critical and list(extension.value) == [
        x509.oid.ExtendedKeyUsageOID.TIME_STAMPING
    ]


def _is_ca(certificate: x509.Certificate) -> bool:
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value
    except x509.ExtensionNotFound:
        return False
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return constraints.ca
    return constraints.ca and usage.key_cert_sign


def _unproven(
    timestamp: Any,
    signer: x509.Certificate,
    signed_data: Any,
    trust: Sequence[x509.Certificate] | None,
) -> str:
    """Why a signature's timestamp does not set the time its certificates are judged at."""
    if timestamp is None:
        return "the signature carries no timestamp"
    if not (timestamp.intact and timestamp.valid):
        return "its timestamp token is broken"
    why = _tsa_problem(timestamp, signer, signed_data, trust)
    return f"its timestamp is by {why}" if why else "its timestamp is outside the validity"


def _judged_at(
    timestamp: Any,
    signer: x509.Certificate,
    signed_data: Any,
    trust: Sequence[x509.Certificate] | None,
) -> dt.datetime | None:
    """The time a signature's certificates are judged at when it is not now: that of an intact
    timestamp token from a TSA that --trust establishes (`_tsa_problem`), which proves the
    signature existed then (ETSI EN 319 102-1's best signature time; `openssl cms -verify
    -attime` does the same by hand). An archived package thereby keeps verifying after its
    signing certificate expires (review of 2026-12-05: a regulator re-checking last year's
    package got "expired"). The TSA's own certificates are judged now."""
    if timestamp is None or not (timestamp.intact and timestamp.valid):
        return None
    if _tsa_problem(timestamp, signer, signed_data, trust) is not None:
        return None
    return timestamp.timestamp


def _as_cryptography(cert: Any) -> x509.Certificate:
    return x509.load_der_x509_certificate(cert.dump())


def _signer(cert: Any) -> tuple[x509.Certificate, _Signer]:
    certificate = _as_cryptography(cert)
    return certificate, _Signer(
        hashlib.sha256(cert.dump()).hexdigest(),
        certificate.subject.rfc4514_string(),
        certificate_lei(certificate),
    )


def _lei_line(
    manifest: dict[str, Any] | None,
    signer: _Signer | None,
    named_lei: str | None = None,
    *,
    trust_given: bool,
) -> CheckLine | None:
    """Whether the signing certificate is the firm's whose LEI the manifest names: failed when
    the certificate names another LEI, not checked when it names none (a security review of
    2026-12-06: with --trust holding several firms' certificates, firm B's key signed a
    package naming firm A's LEI and verified). Not checked either without --trust
    (`trusted` False): the certificate is then only the package's own, which anyone can make
    naming any LEI (review of 2026-12-07: "signer LEI: ok" for a self-made certificate), nor
    with a --trust that does not vouch for the certificate (`signer.trusted` False: "another
    firm's key" was claimed of a certificate nobody vouched for)."""
    lei = manifest.get("lei") if manifest is not None else None
    where = "the manifest"
    if not isinstance(lei, str):
        # a manifest from before 2026-12-05 names no LEI: the package's name does (a diff
        # review of 2026-12-06: another firm's key passed with the manifest's "lei" left out)
        lei, where = named_lei, "the package's name"
    if signer is None:
        return None
    name = "signer LEI"
    # why nothing vouches for the certificate (review of 2026-12-07: a manifest altered after
    # the firm's own key signed it read "its certificate is not one --trust vouches for" beside
    # a --trust holding that very certificate)
    unvouched = (
        "without --trust"
        if not trust_given
        else "its signature does not verify"
        if not signer.verified
        else "its certificate is not one --trust vouches for"
    )
    if lei is None:
        if signer.lei is None:
            return None
        return CheckLine(
            name,
            True,
            f"the signing certificate names {signer.lei}",
            ("neither the manifest nor the package's name names the firm to compare it with",),
            checked=False,
        )
    if signer.lei is None:
        return CheckLine(
            name,
            True,
            f"{where} names {lei}",
            (
                "the signing certificate names no LEI (organizationIdentifier LEIXG-<LEI>): "
                "only --trust holding this firm's own certificate shows that the firm signed",
            ),
            checked=False,
        )
    if signer.lei != lei:
        # without --trust the certificate is only what the package carries: what it shows is
        # that the package contradicts itself, not whose key it was (review of 2026-12-07)
        why = (
            "another firm's key signed this package"
            if signer.trusted
            else f"the package contradicts itself on whose it is ({unvouched}, who signed "
            "is not checked)"
        )
        return CheckLine(
            name,
            False,
            f"the signing certificate names LEI {signer.lei}, {where} {lei}: {why}",
        )
    if not signer.trusted:
        shown = (
            "nothing shows that its holder signed this manifest"
            if trust_given and not signer.verified
            else "nothing shows that certificate is that firm's"
        )
        return CheckLine(
            name,
            True,
            f"the package's own signing certificate claims {lei}, as {where} does; "
            f"{unvouched}, {shown}",
            checked=False,
        )
    return CheckLine(name, True, f"the signing certificate names {lei}, as {where} does")


def _now() -> dt.datetime:
    """The validation time: now, as `openssl cms -verify` and `pdfsig` judge (tests move it)."""
    return dt.datetime.now(dt.UTC)


def _embedded_certificates(signed_data: Any) -> list[x509.Certificate]:
    """The certificates a CMS SignedData carries (the signer's and the chain it brings)."""
    found = []
    for choice in signed_data["certificates"] or ():
        if choice.name == "certificate":
            found.append(_as_cryptography(choice.chosen))
    return found


def _validity_problem(
    cert: x509.Certificate,
    signed_data: Any,
    trust: Sequence[x509.Certificate] | None,
    signed_at: dt.datetime | None,
    at: dt.datetime | None = None,
    unproven: str = "the signature carries no timestamp",
) -> str | None:
    """A certificate of the signer's path (the signer, the issuers the signature or --trust
    brings, the anchor included) outside its validity now, or a signing time outside the
    signer's validity (security review of 2026-12-05: `mir verify --trust` accepted a package
    signed with an expired or not-yet-valid certificate, which openssl cms -verify and pdfsig
    refuse: pyHanko does not check a trust anchor's dates). `at`: the trusted timestamp's
    time (`_judged_at`), instead of now; `unproven`: why no timestamp set that time, named in
    the message (third diff review of 2026-12-05: it pointed to a warning not shown)."""
    now = at or _now()
    others = [*_embedded_certificates(signed_data), *(trust or ())]
    for certificate in certification_path(cert, others, now):
        subject = certificate.subject.rfc4514_string()
        if now > certificate.not_valid_after_utc:
            why = (
                "before the trusted timestamp's time"
                if at is not None
                else f"and no timestamp proves an earlier signing: {unproven}; openssl cms "
                "-verify and pdfsig refuse it too"
            )
            return (
                f"certificate {subject} expired on "
                f"{certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC ({why})"
            )
        if now < certificate.not_valid_before_utc:
            return (
                f"certificate {subject} is not valid before "
                f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC"
            )
    if signed_at is not None and not (
        cert.not_valid_before_utc <= signed_at <= cert.not_valid_after_utc
    ):
        return (
            f"signed at {signed_at:%Y-%m-%d %H:%M} UTC, outside the validity of the signer's "
            f"certificate ({cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{cert.not_valid_after_utc:%Y-%m-%d})"
        )
    return None


def _timestamp_outcome(
    timestamp: Any,
    cert: x509.Certificate,
    trust: Sequence[x509.Certificate] | None,
    signed_data: Any,
) -> tuple[str | None, list[str], str]:
    """(problem, warnings, detail) of a signature's timestamp token (None: no token, B-B).
    A broken token fails; a time outside the signer certificate's validity fails; a token by
    a TSA that --trust does not cover is a warning, and its time is shown as the TSA's claim
    (security review of 2026-12-05: a rogue TSA's 2020 timestamp was shown as the package's
    time, and the manifest's token was never checked)."""
    if timestamp is None:
        return None, [], ""
    if not (timestamp.intact and timestamp.valid):
        return "its timestamp token is broken (modified, or not signed by its TSA)", [], ""
    when = timestamp.timestamp
    if not (cert.not_valid_before_utc <= when <= cert.not_valid_after_utc):
        return (
            f"its timestamp {when.isoformat()} is outside the validity of the signer's "
            f"certificate ({cert.not_valid_before_utc:%Y-%m-%d} to "
            f"{cert.not_valid_after_utc:%Y-%m-%d})",
            [],
            "",
        )
    why = _tsa_problem(timestamp, cert, signed_data, trust)
    if why is None:
        return None, [], f", timestamp {when.isoformat()} (TSA trusted)"
    return (
        None,
        [f"timestamp by {why}: its time is the TSA's claim"],
        f", timestamp {when.isoformat()} (untrusted TSA)",
    )


def _key_usage_settings() -> Any:
    """No key-usage demand in pyHanko's validation (its default requires nonRepudiation, which
    rejects a CA-issued signing certificate carrying digitalSignature only): `_key_usage_problem`
    decides instead, as RFC 5280 and `openssl cms -verify` do."""
    from pyhanko.sign.validation.settings import KeyUsageConstraints

    return KeyUsageConstraints(key_usage=set())


def _key_usage_problem(cert: x509.Certificate) -> str | None:
    """A signer certificate whose KeyUsage extension allows neither digitalSignature nor
    nonRepudiation (contentCommitment) may not sign; without the extension it may (RFC 5280
    4.2.1.3: no restriction)."""
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if usage.digital_signature or usage.content_commitment:
        return None
    subject = cert.subject.rfc4514_string()
    return f"signer {subject}: its key usage allows neither digitalSignature nor nonRepudiation"


def _trust_outcome(
    status: Any, cert: x509.Certificate, trust: Sequence[x509.Certificate] | None
) -> tuple[str | None, list[str]]:
    """(problem, warnings): with --trust the signer must chain to it; without, only a warning."""
    if trust is not None:
        if status.trusted:
            return None, []
        # the fingerprints: a development key made again has the same subject as the one
        # registered (user review of 2026-12-06: two certificates, one name, no way to tell)
        subject = cert.subject.rfc4514_string()
        given = ", ".join(certificate_fingerprint(t)[:16] + "..." for t in trust[:3])
        if len(trust) > 3:
            given += f" and {len(trust) - 3} more"
        return (
            f"signer {subject} (certificate sha256 {certificate_fingerprint(cert)[:16]}...) is "
            f"not trusted by --trust (sha256 {given}): {status.trust_problem_indic}",
            [],
        )
    why = "self-signed" if is_self_signed(cert) else "no --trust given"
    return None, [f"untrusted ({why})"]


def check_manifest_signature(manifest: bytes, signature: bytes) -> CheckLine:
    """Whether `signature` is an intact, valid detached CMS signature over `manifest` (no trust
    decision): the check `mir verify` makes, for the hash chain's predecessor."""
    return _check_manifest_signature(manifest, signature, None, check_validity=False)[0]


def _check_manifest_signature(
    manifest: bytes,
    signature: bytes,
    trust: Sequence[x509.Certificate] | None,
    *,
    check_validity: bool = True,
    stamped: bool = False,
) -> tuple[CheckLine, _Signer | None]:
    """`stamped`: the manifest says its signatures carry timestamps (`_missing_timestamp`).
    `check_validity=False`: the integrity of an earlier day's manifest, which the hash chain
    links to, whatever its certificate's dates: keys rotate, and the key of an earlier day may
    have expired since (final review of 2026-12-05: an expired predecessor's key blocked the
    next day's report)."""
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

        def validate(at: dt.datetime | None) -> Any:
            with _quiet_pyhanko():
                return asyncio.run(
                    async_validate_detached_cms(
                        manifest,
                        signed_data,
                        signer_validation_context=_validation_context(trust, at),
                        ts_validation_context=_validation_context(trust),
                        key_usage_settings=_key_usage_settings(),
                    )
                )

        status = validate(None)
        at = _judged_at(
            status.timestamp_validity, _as_cryptography(status.signing_cert), signed_data, trust
        )
        if at is not None:
            status = validate(at)
    except Exception as exc:  # any parse or validation crash on hostile input fails the check
        return CheckLine(name, False, f"invalid CMS signature: {type(exc).__name__}: {exc}"), None
    cert, signer = _signer(status.signing_cert)
    problem, warnings = _trust_outcome(status, cert, trust)
    signer = replace(
        signer,
        trusted=trust is not None and problem is None,
        verified=bool(status.intact and status.valid),
    )
    validity = (
        _validity_problem(
            cert,
            signed_data,
            trust,
            status.signer_reported_dt,
            at,
            _unproven(status.timestamp_validity, cert, signed_data, trust),
        )
        if check_validity
        else None
    )
    problem = validity or _key_usage_problem(cert) or problem
    if not status.intact:
        problem = "manifest.json does not match the signed digest (modified after signing)"
    elif not status.valid:
        problem = "the signature value does not verify with the signer's key"
    stamp_problem, stamp_warnings, stamp_detail = _timestamp_outcome(
        status.timestamp_validity, cert, trust, signed_data
    )
    problem = problem or stamp_problem or _missing_timestamp(status, stamped)
    if problem:
        return CheckLine(name, False, problem), signer
    if is_development_certificate(cert):
        warnings.append(DEV_KEY_WARNING)
    level = "CAdES B-T" if status.timestamp_validity is not None else "CAdES B-B"
    detail = f"{level}, signer {signer.subject}" + (", trusted" if trust is not None else "")
    detail += stamp_detail + (_JUDGED_AT if at is not None else "")
    return CheckLine(name, True, detail, (*warnings, *stamp_warnings)), signer


def _pdf_problem(signatures: list[Any], statuses: list[Any]) -> str | None:
    from pyhanko.sign.validation import SignatureCoverageLevel

    for signature, status in zip(signatures, statuses, strict=True):
        field_name = signature.field_name
        subfilter = signature.sig_object.get("/SubFilter")
        if subfilter != PADES_SUBFILTER:
            return f"signature {field_name} is {subfilter}, not PAdES ({PADES_SUBFILTER[1:]})"
        if not status.intact:
            return f"signature {field_name}: the signed bytes were modified (digest mismatch)"
        if not status.valid:
            return f"signature {field_name}: the signature value does not verify"
    coverage = statuses[-1].coverage
    if coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return f"the signature does not cover the whole file ({coverage}): bytes were added after signing"
    return None


def _missing_timestamp(status: Any, stamped: bool) -> str | None:
    if stamped and status.timestamp_validity is None:
        return (
            "carries no timestamp token, though the signed manifest says its signatures were "
            "timestamped (removed after signing?)"
        )
    return None


def _check_pdf_signature(
    pdf: bytes, trust: Sequence[x509.Certificate] | None, *, stamped: bool = False
) -> tuple[CheckLine, _Signer | None]:
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    name = f"PDF signature ({REPORT_PDF})"
    try:
        signatures = list(PdfFileReader(io.BytesIO(pdf)).embedded_signatures)
        if not signatures:
            return CheckLine(name, False, "report.pdf carries no signature"), None
        if len(signatures) > 1:
            # `mir report` signs once; only the last signature would be judged (a security
            # review of 2026-12-06: an untrusted signer's revision under the trusted one passed)
            fields = ", ".join(str(s.field_name) for s in signatures)
            return (
                CheckLine(
                    name,
                    False,
                    f"report.pdf carries {len(signatures)} signatures ({fields}); a mir report "
                    "carries exactly one",
                ),
                None,
            )

        def validate(signature: Any, at: dt.datetime | None) -> Any:
            with _quiet_pyhanko():
                return validate_pdf_signature(
                    signature,
                    signer_validation_context=_validation_context(trust, at),
                    ts_validation_context=_validation_context(trust),
                    key_usage_settings=_key_usage_settings(),
                )

        statuses = [validate(s, None) for s in signatures]
        at = _judged_at(
            statuses[-1].timestamp_validity,
            _as_cryptography(statuses[-1].signing_cert),
            signatures[-1].signed_data,
            trust,
        )
        if at is not None:
            statuses[-1] = validate(signatures[-1], at)
    except Exception as exc:  # a mangled PDF must fail the check, not crash verify
        return CheckLine(name, False, f"invalid PDF signature: {type(exc).__name__}: {exc}"), None
    last = statuses[-1]
    cert, signer = _signer(last.signing_cert)
    problem, warnings = _trust_outcome(last, cert, trust)
    stamp_problems = []
    for signature, status in zip(signatures, statuses, strict=True):
        stamp = _timestamp_outcome(
            status.timestamp_validity,
            _as_cryptography(status.signing_cert),
            trust,
            signature.signed_data,
        )
        if stamp[0] is not None:
            stamp_problems.append(f"signature {signature.field_name}: {stamp[0]}")
    _, stamp_warnings, stamp_detail = _timestamp_outcome(
        last.timestamp_validity, cert, trust, signatures[-1].signed_data
    )
    problem = (
        _pdf_problem(signatures, statuses)
        or next(iter(stamp_problems), None)
        or _validity_problem(
            cert,
            signatures[-1].signed_data,
            trust,
            last.signer_reported_dt,
            at,
            _unproven(last.timestamp_validity, cert, signatures[-1].signed_data, trust),
        )
        or _key_usage_problem(cert)
        or _missing_timestamp(last, stamped)
        or problem
    )
    if problem:
        return CheckLine(name, False, problem), signer
    if is_development_certificate(cert):  # as on the manifest's line (security review, 12-06)
        warnings = [*warnings, DEV_KEY_WARNING]
    level = "PAdES B-T" if last.timestamp_validity is not None else "PAdES B-B"
    detail = f"{level}, covers the whole file, signer {signer.subject}"
    if trust is not None:
        detail += ", trusted"
    detail += stamp_detail + (_JUDGED_AT if at is not None else "")
    return CheckLine(name, True, detail, (*warnings, *stamp_warnings)), signer


def _check_files(
    files: Files,
    manifest: dict[str, Any],
    report: VerifyReport,
    unreadable: Collection[str] = (),
) -> None:
    listed: set[str] = set()
    for entry in manifest["files"]:
        name = entry["name"]
        listed.add(name)
        label = f"file {name}"
        data = files.get(name)
        if data is None:
            if name not in unreadable:  # (an unreadable one has its line already: read_zip)
                report.add(CheckLine(label, False, "listed in manifest.json but missing"))
            continue
        member = MemberDigest.of(data)
        digest, size = member.sha256, member.size
        if size != entry["size"]:
            report.add(CheckLine(label, False, f"size {size} bytes, manifest says {entry['size']}"))
        elif digest != entry["sha256"]:
            report.add(CheckLine(label, False, f"sha256 {digest}, manifest says {entry['sha256']}"))
        else:
            report.add(CheckLine(label, True, f"sha256 {digest[:16]}..., {size} bytes"))
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


def _summary_line(
    files: Files, manifest: dict[str, Any], unreadable: Collection[str] = ()
) -> CheckLine:
    """summary.json is the summary of the manifest's day and run (not another day's)."""
    name = "summary matches manifest"
    data = _held(files, SUMMARY_JSON)
    if data is None:
        return CheckLine(name, False, f"{SUMMARY_JSON} {_absent(SUMMARY_JSON, unreadable)}")
    try:
        summary = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        return CheckLine(name, False, f"{SUMMARY_JSON} is not valid JSON: {exc}")
    if not isinstance(summary, dict):
        return CheckLine(name, False, f"{SUMMARY_JSON} is not a JSON object")
    for key in ("as_of", "run_id"):
        expected = manifest.get(key)
        if expected is not None and summary.get(key) != expected:
            return CheckLine(
                name,
                False,
                f"{SUMMARY_JSON} has {key} {summary.get(key)!r}, manifest.json {expected!r}",
            )
    # the inputs too (outputs review of 2026-12-05: the line said ok when they differed)
    listed = manifest.get("inputs")
    if isinstance(listed, list):
        signed = {
            i.get("file"): {"sha256": i.get("sha256"), "rows": i.get("rows")}
            for i in listed
            if isinstance(i, dict)
        }
        summarised = summary.get("inputs")
        if not isinstance(summarised, dict):
            return CheckLine(name, False, f"{SUMMARY_JSON} has no inputs object")
        for file in sorted(set(signed) | set(summarised), key=str):
            theirs, ours = summarised.get(file), signed.get(file)
            if (
                not isinstance(theirs, dict)
                or ours is None
                or any(theirs.get(k) != ours[k] for k in ("sha256", "rows"))
            ):
                return CheckLine(
                    name,
                    False,
                    f"input {file}: {SUMMARY_JSON} has {theirs!r}, manifest.json {ours!r}",
                )
    return CheckLine(
        name,
        True,
        f"as of {manifest.get('as_of')}, run {manifest.get('run_id')}, "
        f"{len(listed) if isinstance(listed, list) else 0} inputs",
    )


def pdf_attachments(pdf: bytes) -> dict[str, bytes]:
    """The files embedded in a PDF (its EmbeddedFiles name tree, one level of kids), by name."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    root = PdfFileReader(io.BytesIO(pdf)).root
    found: dict[str, bytes] = {}
    if "/Names" not in root or "/EmbeddedFiles" not in root["/Names"]:
        return found
    tree = root["/Names"]["/EmbeddedFiles"]
    nodes = [tree, *(kid.get_object() for kid in tree.get("/Kids", ()))]
    for node in nodes:
        names = node.get("/Names", ())
        for i in range(0, len(names) - 1, 2):
            spec = names[i + 1].get_object()
            found[str(names[i])] = spec["/EF"]["/F"].get_object().data
    return found


def _attachments_line(files: Files, unreadable: Collection[str] = ()) -> CheckLine:
    """report.pdf embeds exactly the package's CSVs and summary.json, byte for byte (a PDF of
    another day or run would carry other figures than the files beside it)."""
    name = "report.pdf attachments"
    pdf = _held(files, REPORT_PDF)
    if pdf is None:
        return CheckLine(name, False, f"{REPORT_PDF} {_absent(REPORT_PDF, unreadable)}")
    damaged = sorted(n for n in unreadable if n.endswith(".csv") or n == SUMMARY_JSON)
    if damaged:
        # present, but their bytes cannot be compared (a user review of 2026-12-06: a CSV
        # damaged in the zip was called absent, "the package holds" the others)
        return CheckLine(
            name,
            False,
            f"cannot compare {', '.join(damaged)} with the PDF's copies: not readable from the zip",
        )
    try:
        embedded = pdf_attachments(pdf)
    except Exception as exc:  # a mangled PDF fails the check, not verify
        return CheckLine(name, False, f"cannot read the embedded files: {type(exc).__name__}")
    expected = sorted(n for n in files if n.endswith(".csv") or n == SUMMARY_JSON)
    if sorted(embedded) != expected:
        return CheckLine(
            name,
            False,
            f"embeds {', '.join(sorted(embedded)) or 'nothing'}; the package holds "
            f"{', '.join(expected)}",
        )
    # by SHA-256 and size: read_zip keeps no CSV's bytes (MemberDigest)
    differ = [n for n in expected if MemberDigest.of(embedded[n]) != MemberDigest.of(files[n])]
    if differ:
        verb = "differs" if len(differ) == 1 else "differ"
        return CheckLine(
            name, False, f"the embedded {', '.join(differ)} {verb} from the package's files"
        )
    return CheckLine(name, True, f"{len(expected)} files, identical to the package's")


def _chain_line(
    manifest: dict[str, Any],
    previous: Predecessor | None,
    trust: Sequence[x509.Certificate] | None = None,
) -> CheckLine:
    """Does previous_manifest_sha256 name the manifest of the package that precedes this one?"""
    name = "hash chain"
    link = manifest.get("previous_manifest_sha256")
    if previous is None:
        if link is None:
            return CheckLine(name, True, "first of its chain; no earlier package beside it")
        return CheckLine(
            name,
            True,
            f"links to manifest {link[:16]}...",
            ("no earlier package beside this one to check the link against (pass --previous)",),
            checked=False,
        )
    if previous.manifest is None:
        return CheckLine(name, False, f"{previous.source} holds no readable {MANIFEST_NAME}")
    actual = hashlib.sha256(previous.manifest).hexdigest()
    if link is None:
        return CheckLine(
            name, False, f"this manifest starts a chain, but {previous.source} precedes it"
        )
    if link != actual:
        return CheckLine(
            name,
            False,
            f"links to manifest {link[:16]}..., but {previous.source} holds manifest "
            f"{actual[:16]}... (that day was re-run or altered after this one was made, or this one links to a later day whose package is missing here)",
        )
    if previous.signed:
        # the link vouches for the earlier manifest only if that manifest is the firm's: its
        # own signature intact (and trusted under --trust); a security review of 2026-12-06
        # chained to a predecessor re-signed by an attacker and read "hash chain: ok"
        if previous.signature is None:
            return CheckLine(name, False, f"{previous.source} holds no {SIGNATURE_NAME}")
        line, _ = _check_manifest_signature(
            previous.manifest, previous.signature, trust, check_validity=False
        )
        if not line.ok:
            return CheckLine(
                name,
                False,
                f"links to the manifest of {previous.source}, whose own signature fails: "
                f"{line.detail}",
            )
        signed = ", its signature intact" + (" and trusted" if trust is not None else "")
        return CheckLine(
            name,
            True,
            f"links to the manifest of {previous.source}{signed}",
            _skipped_days(manifest, previous.manifest),
        )
    return CheckLine(
        name,
        True,
        f"links to the manifest of {previous.source}",
        _skipped_days(manifest, previous.manifest),
    )


def _skipped_days(manifest: dict[str, Any], previous: bytes) -> tuple[str, ...]:
    """A warning when the earlier manifest is of a date more than one day before this one's:
    the days between have no package in the chain (onboarding audit of 2026-12-07: a day
    stored but never reported read "hash chain: ok" with nothing to show the gap). A venue
    that reports only on business days sees it on Mondays: it is a warning, not a failure."""
    try:
        earlier = json.loads(previous).get("as_of")
        gap = (dt.date.fromisoformat(manifest["as_of"]) - dt.date.fromisoformat(earlier)).days
    except (ValueError, TypeError, AttributeError, KeyError):
        return ()  # a date that does not read is another line's failure
    if gap <= 1:
        return ()
    return (
        f"the chain skips {gap - 1} day(s) between {earlier} and {manifest['as_of']}: no "
        "package of those dates is linked",
    )


def verify_files(
    files: Files,
    *,
    trust: Sequence[x509.Certificate] | None = None,
    source: str = "<memory>",
    problems: Sequence[CheckLine] = (),
    previous: Predecessor | None = None,
    unreadable: Collection[str] = (),
    named_lei: str | None = None,
) -> VerifyReport:
    """Verify a package given as {file name: bytes, or its MemberDigest for a member not in
    HELD_MEMBERS}; `problems` are container-level failures;
    `previous` is the package its hash chain should link to (None: not found); `unreadable`
    the members present whose bytes could not be read (each has its line in `problems`)."""
    report = VerifyReport(source=source, checks=list(problems))
    manifest_bytes = _held(files, MANIFEST_NAME)
    if manifest_bytes is None:
        if MANIFEST_NAME not in unreadable:
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
        report.add(_chain_line(manifest, previous, trust))
        _check_files(files, manifest, report, unreadable)
        report.add(_summary_line(files, manifest, unreadable))
        report.add(_attachments_line(files, unreadable))

    # the manifest signs whether its signatures were timestamped: a token stripped from the
    # .p7s (which no hash covers) is then found
    stamped = manifest is not None and manifest.get("timestamped") is True
    signature = _held(files, SIGNATURE_NAME)
    cms_signer: _Signer | None = None
    if signature is None:
        report.add(
            CheckLine(
                f"manifest signature ({SIGNATURE_NAME})",
                False,
                _absent(SIGNATURE_NAME, unreadable).removeprefix("is "),
            )
        )
    else:
        line, cms_signer = _check_manifest_signature(
            manifest_bytes, signature, trust, stamped=stamped
        )
        report.add(line)

    pdf = _held(files, REPORT_PDF)
    pdf_signer: _Signer | None = None
    if pdf is None:
        report.add(
            CheckLine(
                f"PDF signature ({REPORT_PDF})",
                False,
                f"{REPORT_PDF} {_absent(REPORT_PDF, unreadable)}",
            )
        )
    else:
        line, pdf_signer = _check_pdf_signature(pdf, trust, stamped=stamped)
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
    lei_line = _lei_line(report.manifest, cms_signer, named_lei, trust_given=trust is not None)
    if lei_line is not None:
        report.add(lei_line)
    return report


def read_zip(
    zip_path: Path,
) -> tuple[dict[str, bytes | MemberDigest], list[CheckLine], set[str]]:
    """The zip's members by name (the bytes of HELD_MEMBERS, the MemberDigest of the others),
    the container-level problems found while reading it, and the names of the members present
    whose bytes were not taken (damaged, too large, not a file). Each member is inflated once,
    in chunks, checked and hashed in the same pass (member_stream_problem)."""
    files: dict[str, bytes | MemberDigest] = {}
    problems: list[CheckLine] = []
    unreadable: set[str] = set()
    try:
        archive = zipfile.ZipFile(zip_path)
    except ZIP_READ_ERRORS as exc:
        return (
            files,
            [CheckLine("zip archive", False, f"{zip_path.name} is not a readable zip file: {exc}")],
            unreadable,
        )
    with archive, zip_path.open("rb") as raw:
        layout = _layout_problem(zip_path, archive)
        if layout is not None:
            problems.append(
                CheckLine(
                    "zip archive",
                    False,
                    f"not laid out as `mir package` writes a package ({layout}): other zip "
                    "tools may extract other files than the ones verified here",
                )
            )
        entries = archive.infolist()
        total = sum(info.file_size for info in entries)
        if len(entries) > MAX_ENTRIES or total > MAX_PACKAGE_BYTES:
            return (
                files,
                [
                    CheckLine(
                        "zip archive",
                        False,
                        f"{len(entries)} entries of {total:,} bytes in all: not a package (at "
                        f"most {MAX_ENTRIES} entries and {MAX_PACKAGE_BYTES:,} bytes); nothing "
                        "was inflated",
                    )
                ],
                unreadable,
            )
        seen: set[str] = set()
        for info in entries:
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
            kind = stat.S_IFMT(info.external_attr >> 16)
            if kind not in (0, stat.S_IFREG):  # 0: no Unix mode recorded (a plain file)
                unreadable.add(name)
                problems.append(
                    CheckLine(
                        f"file {name}",
                        False,
                        "not a regular file in the zip (a symbolic link or a special file: "
                        "unzip would not extract its bytes as a file)",
                    )
                )
                continue
            small = name in (MANIFEST_NAME, SIGNATURE_NAME, SUMMARY_JSON)
            limit = MAX_JSON_BYTES if small else MAX_ENTRY_BYTES
            if info.file_size > limit:
                unreadable.add(name)
                problems.append(
                    CheckLine(
                        f"file {name}",
                        False,
                        f"{info.file_size} bytes is too large for a package member",
                    )
                )
                continue
            digest = hashlib.sha256()
            held: list[bytes] = []
            take = held.append if name in HELD_MEMBERS else digest.update
            try:
                stream = member_stream_problem(raw, info, take)
            except ZIP_READ_ERRORS as exc:
                stream = str(exc)
            if stream is not None:
                unreadable.add(name)
                problems.append(
                    CheckLine(f"file {name}", False, f"cannot be read from the zip: {stream}")
                )
                continue
            files[name] = (
                b"".join(held)
                if name in HELD_MEMBERS
                else MemberDigest(digest.hexdigest(), info.file_size)
            )
    return files, problems, unreadable


# A zip's end-of-central-directory record without a comment (reports.sign.manifest: the
# local file header's fixed part).
_END_RECORD_BYTES = 22
_DIRECTORY_ENTRY_BYTES = 46  # a central directory entry before its name, extra field, comment
_ZIP_VERSION = 20  # the version needed to extract what Python's zipfile writes (2.0)


def _layout_problem(zip_path: Path, archive: zipfile.ZipFile) -> str | None:
    """Why the zip is not laid out as `mir package` writes one, or None: its members back to
    back from the first byte, each local header naming what the central directory names with no
    extra field or data descriptor, the central directory right after them, and the end record
    at the end of the file with no comment. Zip readers differ on anything else (a security
    review of 2026-12-06: a forged copy put in front of the genuine package verified, while a
    streaming reader extracted the forgery; a Unicode-path extra field made unzip swap two
    files), so a package that is not laid out so is refused rather than read one way."""
    if archive.comment:
        return "it carries a zip comment"
    entries = sorted(archive.infolist(), key=lambda info: info.header_offset)
    size = zip_path.stat().st_size
    expected = 0
    with zip_path.open("rb") as handle:
        for info in entries:
            if info.header_offset != expected:
                where = "before its first member" if expected == 0 else f"before {info.filename}"
                return f"{info.header_offset - expected:+,} bytes {where}"
            handle.seek(info.header_offset)
            header = handle.read(LOCAL_HEADER_BYTES)
            if len(header) < LOCAL_HEADER_BYTES or header[:4] != b"PK\x03\x04":
                return f"no local header where the directory puts {info.filename}"
            name_length = int.from_bytes(header[26:28], "little")
            extra_length = int.from_bytes(header[28:30], "little")
            name = handle.read(name_length)
            encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
            if name != info.filename.encode(encoding, errors="replace") or name_length != len(name):
                return f"the local header of {info.filename} names another file"
            if extra_length or info.extra:
                return f"{info.filename} carries extra fields"
            if info.flag_bits & 0x8:
                return f"{info.filename} has a data descriptor"
            # the zip version needed to extract it, in both headers: 2.0 as Python writes it
            # (review of 2026-12-07: one needing 5.2 verified, and unzip 6.0 skipped it)
            needed = (int.from_bytes(header[4:6], "little"), info.extract_version)
            if max(needed) > _ZIP_VERSION or needed[0] != needed[1]:
                return f"{info.filename} needs zip version {max(needed) / 10:.1f}"
            # what Python reads from the directory, other readers from the local header (a diff
            # review of 2026-12-06: a local header saying STORED over the directory's DEFLATE
            # made unzip extract a forged capital.csv from a package that verified)
            local = (
                int.from_bytes(header[6:8], "little"),  # flags
                int.from_bytes(header[8:10], "little"),  # method
                int.from_bytes(header[14:18], "little"),  # CRC-32
                int.from_bytes(header[18:22], "little"),  # compressed size
                int.from_bytes(header[22:26], "little"),  # size
            )
            central = (
                info.flag_bits,
                info.compress_type,
                info.CRC,
                info.compress_size,
                info.file_size,
            )
            if local != central:
                return f"the local header of {info.filename} disagrees with the directory"
            expected = info.header_offset + LOCAL_HEADER_BYTES + name_length + info.compress_size
        directory = getattr(archive, "start_dir", expected)
        if directory != expected:
            return f"{directory - expected:+,} bytes between the last member and the directory"
        handle.seek(max(0, size - _END_RECORD_BYTES))
        end = handle.read(_END_RECORD_BYTES)
    if len(end) < _END_RECORD_BYTES or end[:4] != b"PK\x05\x06":
        return "bytes after its end record"
    directory_size = int.from_bytes(end[12:16], "little")
    directory_offset = int.from_bytes(end[16:20], "little")
    if directory_offset + directory_size != size - _END_RECORD_BYTES:
        return "bytes between its directory and its end record"
    # one disk, and as many entries as Python read, whose lengths add up to the directory's
    # size: Python reads a name that runs past the directory as the bytes that are there, unzip
    # fails it (review of 2026-12-07: both verified)
    disks, counts = struct.unpack("<HH", end[4:8]), struct.unpack("<HH", end[8:12])
    if disks != (0, 0) or counts != (len(entries), len(entries)):
        return "its end record names other disks or another number of entries"
    with zip_path.open("rb") as handle:
        handle.seek(directory_offset)
        directory = handle.read(directory_size)
    at = 0
    for _ in entries:
        head = directory[at : at + _DIRECTORY_ENTRY_BYTES]
        if len(head) < _DIRECTORY_ENTRY_BYTES or head[:4] != b"PK\x01\x02":
            return "its directory's entries are not where their lengths put them"
        at += _DIRECTORY_ENTRY_BYTES + sum(struct.unpack("<HHH", head[28:34]))
    if at != directory_size:
        return "its directory's entries do not add up to its size"
    return None


def _absent(name: str, unreadable: Collection[str]) -> str:
    """Why a package member's bytes are not there: damaged in the zip, or not in it at all."""
    return "cannot be read from the zip" if name in unreadable else "is missing"


def trust_certificates(
    trust: str | os.PathLike[str] | Sequence[x509.Certificate] | None,
) -> list[x509.Certificate] | None:
    if trust is None:
        return None
    if isinstance(trust, (str, os.PathLike)):
        return load_certificates(trust)
    return list(trust)


def _manifest_fields(files: Files, *keys: str) -> list[str | None]:
    """The manifest's text fields `keys` (None for one absent, or for all when the manifest is
    missing or invalid), from one parse."""
    try:
        manifest = parse_manifest(_held(files, MANIFEST_NAME) or b"")
    except ValueError:
        return [None] * len(keys)
    return [value if isinstance(value := manifest.get(key), str) else None for key in keys]


def _manifest_as_of(files: Files) -> str | None:
    return _manifest_fields(files, "as_of")[0]


def predecessor_at(path: str | os.PathLike[str]) -> Predecessor:
    """The package (zip) or day directory at `path`, as a hash chain's predecessor."""
    where = Path(path)
    if not where.is_dir() and not where.is_file():
        msg = f"no package or day directory at {where}"
        raise UsageError(msg)
    return Predecessor(where.name, *read_manifest_at(where), signed=True)


def _previous_package(path: Path, as_of: str | None) -> Predecessor | None:
    """The package beside `path` with the same name prefix and the latest date before as_of
    (never `path` itself: a package named for an earlier day than its manifest's is no
    predecessor of its own, its name line fails)."""
    named = PACKAGE_NAME.fullmatch(path.name)
    if named is None or as_of is None:
        return None
    earlier = []
    for sibling in path.parent.iterdir():
        other = PACKAGE_NAME.fullmatch(sibling.name)
        if (
            other is not None
            and sibling.name != path.name
            and other["prefix"] == named["prefix"]
            and other["as_of"] < as_of
            and sibling.is_file()
        ):
            earlier.append((other["as_of"], sibling))
    return predecessor_at(max(earlier)[1]) if earlier else None


def _name_line(path: Path, as_of: str | None, lei: str | None = None) -> CheckLine | None:
    """A package named <prefix>_<date>.zip must be the package of that date, and of that
    firm when its manifest names the LEI (manifests from before 2026-12-05 do not); so must a
    package kept aside as <prefix>_<date>.<UTC stamp>.zip (history review of 2026-12-05: a
    day's package copied under another day's kept name passed)."""
    named = _package_name(path)
    if as_of is None:
        return None
    if named is None:  # a renamed copy: said, not silently left out (user review of 2026-12-06)
        return CheckLine(
            "package name",
            True,
            path.name,
            (f"the name is not <LEI>_{as_of}.zip: no date or LEI in it to compare",),
            checked=False,
        )
    if named["as_of"] != as_of:
        return CheckLine(
            "package name",
            False,
            f"{path.name} is named for {named['as_of']}, its manifest is as of {as_of}",
        )
    if lei is not None and named["prefix"] != lei:
        return CheckLine(
            "package name",
            False,
            f"{path.name} is named for {named['prefix']}, its manifest is of LEI {lei}",
        )
    return CheckLine("package name", True, path.name)


def verify_package(
    zip_path: str | os.PathLike[str],
    trust: str | os.PathLike[str] | Sequence[x509.Certificate] | None = None,
    previous: str | os.PathLike[str] | None = None,
) -> VerifyReport:
    """Verify a `mir package` zip; `trust` is a certificate file (PEM/DER) or certificates;
    `previous` the package (or day directory) its hash chain links to, by default the one beside
    it with the same name prefix and the latest earlier date."""
    path = Path(zip_path)
    if not path.is_file():
        msg = f"no package at {path}"
        raise UsageError(msg)
    trusted = trust_certificates(trust)
    files, problems, unreadable = read_zip(path)
    as_of, lei = _manifest_fields(files, "as_of", "lei")
    predecessor = (
        predecessor_at(previous) if previous is not None else _previous_package(path, as_of)
    )
    name_line = _name_line(path, as_of, lei)
    if name_line is not None:
        problems = [name_line, *problems]  # the package first, then its members
    return verify_files(
        files,
        trust=trusted,
        source=str(path),
        problems=problems,
        previous=predecessor,
        unreadable=unreadable,
        named_lei=_named_prefix(path),
    )


def _package_name(path: Path) -> re.Match[str] | None:
    """A package's name <prefix>_<date>.zip (or a kept one, with its stamp), parsed."""
    return PACKAGE_NAME.fullmatch(path.name) or KEPT_PACKAGE_NAME.fullmatch(path.name)


def _named_prefix(path: Path) -> str | None:
    """The firm's prefix (its LEI) in a package's name <prefix>_<date>.zip, if it has one."""
    named = _package_name(path)
    return None if named is None else named["prefix"]


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
    previous: str | os.PathLike[str] | None = None,
) -> VerifyReport:
    """Verify a day directory <out>/<as_of>/ as if it were packaged; its hash chain against
    `previous`, by default the latest earlier day directory beside it."""
    folder = Path(day_dir)
    if not folder.is_dir():
        msg = f"no day directory at {folder}"
        raise UsageError(msg)
    files = read_directory(folder)
    as_of = _manifest_as_of(files)
    predecessor = None
    if previous is not None:
        predecessor = predecessor_at(previous)
    elif as_of is not None:
        with contextlib.suppress(ValueError):
            # the firm's prefix, from this day's own package beside the directory, if any
            prefixes = {
                m["prefix"]
                for sibling in folder.parent.glob(f"*_{as_of}.*")
                if (m := PACKAGE_NAME.fullmatch(sibling.name)) is not None
            }
            lei = prefixes.pop() if len(prefixes) == 1 else None
            found = find_previous_manifest(folder.parent, dt.date.fromisoformat(as_of), lei)
            if found is not None:
                predecessor = Predecessor(
                    found.path.name, found.manifest, found.signature, signed=True
                )
    return verify_files(
        files, trust=trust_certificates(trust), source=str(folder), previous=predecessor
    )
