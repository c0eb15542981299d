"""Signing keys: the development key of `mir keys init`, loading a PKCS#12 signer, passphrases.

A real submission is signed with a key whose certificate a CA (ideally a qualified trust service)
issued to the firm. For development and tests `mir keys init` makes a self-signed certificate whose
subject says so (O=mir development key); `is_development_certificate` lets the report cover say
"DEVELOPMENT KEY - NOT FOR SUBMISSION" and `mir verify` warn about it.

The passphrase comes from the environment variable named by ``[signing] passphrase_env``
(default MIR_SIGNING_PASSPHRASE) or, in the CLI, a hidden prompt; it is never printed or logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from reports.config import SigningConfig
from reports.errors import SigningError, UsageError
from reports.outdir import fsync_dir

if TYPE_CHECKING:
    from pyhanko.sign.signers import SimpleSigner

DEV_ORGANIZATION = "mir development key"
DEFAULT_SUBJECT = f"CN=mir development signer,O={DEV_ORGANIZATION}"
DEFAULT_DAYS = 365
KeyAlgorithm = Literal["rsa3072", "p256"]
KEY_ALGORITHMS: tuple[KeyAlgorithm, ...] = ("rsa3072", "p256")

SigningPrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class SignerKey:
    """A private key and its certificate (plus any chain certificates), ready to sign."""

    private_key: SigningPrivateKey
    certificate: x509.Certificate
    chain: tuple[x509.Certificate, ...] = ()
    source: str = "<memory>"

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def fingerprint_sha256(self) -> str:
        return certificate_fingerprint(self.certificate)

    @property
    def is_development(self) -> bool:
        return is_development_certificate(self.certificate)

    @property
    def path(self) -> tuple[x509.Certificate, ...]:
        """The certificate and its issuers in the chain (certification_path)."""
        return certification_path(self.certificate, self.chain)

    def pyhanko_signer(self) -> SimpleSigner:
        """The same key as a pyHanko signer (PAdES and CMS both sign through it)."""
        from asn1crypto import keys as asn1_keys
        from asn1crypto import x509 as asn1_x509
        from pyhanko.sign.signers import SimpleSigner
        from pyhanko_certvalidator.registry import SimpleCertificateStore

        key_der = self.private_key.private_bytes(
            serialization.Encoding.DER,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        chain = [
            asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))
            for c in self.chain
        ]
        return SimpleSigner(
            signing_cert=asn1_x509.Certificate.load(
                self.certificate.public_bytes(serialization.Encoding.DER)
            ),
            signing_key=asn1_keys.PrivateKeyInfo.load(key_der),
            cert_registry=SimpleCertificateStore.from_certs(chain),
        )


@dataclass(frozen=True)
class KeyInitResult:
    """What `mir keys init` wrote."""

    pkcs12_path: Path
    certificate_path: Path
    subject: str
    fingerprint_sha256: str
    not_after: dt.datetime
    algorithm: KeyAlgorithm
    replaced: list[Path] = field(default_factory=list)


def certificate_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 of the DER certificate, lower-case hex (what `openssl x509 -fingerprint -sha256` shows)."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def is_self_signed(cert: x509.Certificate) -> bool:
    """Issuer equals subject and the certificate's own key verifies its signature."""
    if cert.issuer != cert.subject:
        return False
    try:
        cert.verify_directly_issued_by(cert)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def is_development_certificate(cert: x509.Certificate) -> bool:
    """True for `mir keys init` certificates and any other self-signed certificate.

    No regulator accepts a self-signed signature as a firm's; the report cover uses this to print
    "DEVELOPMENT KEY - NOT FOR SUBMISSION".
    """
    organizations = [
        a.value for a in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)
    ]
    return DEV_ORGANIZATION in organizations or is_self_signed(cert)


# The shortest passphrase `mir keys init` accepts for a new key.
MIN_PASSPHRASE_CHARACTERS = 12

# ETSI EN 319 412-1 (5.1.4): an organizationIdentifier naming a legal entity identifier.
LEI_IDENTIFIER_PREFIX = "LEIXG-"


def certificate_lei(cert: x509.Certificate) -> str | None:
    """The LEI a certificate's subject names (organizationIdentifier LEIXG-<LEI>), or None."""
    for attribute in cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER):
        value = str(attribute.value)
        if value.upper().startswith(LEI_IDENTIFIER_PREFIX):
            return value[len(LEI_IDENTIFIER_PREFIX) :].upper()
    return None


def with_lei(name: x509.Name, lei: str) -> x509.Name:
    """`name` naming `lei` (organizationIdentifier LEIXG-<LEI>), unless it names an
    organizationIdentifier already."""
    if name.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER):
        return name
    identifier = x509.RelativeDistinguishedName(
        [x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, LEI_IDENTIFIER_PREFIX + lei)]
    )
    return x509.Name([identifier, *name.rdns])


def parse_subject(subject: str) -> x509.Name:
    """An RFC 4514 subject ("CN=...,O=..."); O=mir development key is added when no O is given."""
    try:
        name = x509.Name.from_rfc4514_string(subject)
    except ValueError as exc:
        msg = f"--subject {subject!r} is not a distinguished name like 'CN=Example signer,O=Example Ltd': {exc}"
        raise UsageError(msg) from None
    if not name.get_attributes_for_oid(NameOID.COMMON_NAME):
        msg = f"--subject {subject!r} needs a common name (CN=...)"
        raise UsageError(msg)
    if not name.get_attributes_for_oid(NameOID.ORGANIZATION_NAME):
        # RFC 4514 lists the most specific name first; the organisation goes above the CN
        organization = x509.RelativeDistinguishedName(
            [x509.NameAttribute(NameOID.ORGANIZATION_NAME, DEV_ORGANIZATION)]
        )
        name = x509.Name([organization, *name.rdns])
    return name


def generate_development_key(
    *,
    subject: str = DEFAULT_SUBJECT,
    days: int = DEFAULT_DAYS,
    algorithm: KeyAlgorithm = "rsa3072",
    now: dt.datetime | None = None,
    lei: str | None = None,
) -> SignerKey:
    """A fresh key and a self-signed certificate fit for PAdES and CMS signing; `lei`: the
    firm's LEI, named in the subject (organizationIdentifier LEIXG-<LEI>; `mir verify` then
    holds packages naming another LEI to fail).

    KeyUsage is digitalSignature + nonRepudiation (contentCommitment), critical: what PAdES
    validators (pyHanko's default) require of a document signer. No extended key usage, so
    `openssl cms -verify -purpose any` and S/MIME checks both accept it.
    """
    if days < 1:
        msg = f"--days must be at least 1, got {days}"
        raise UsageError(msg)
    name = parse_subject(subject)
    if lei is not None:
        name = with_lei(name, lei)
    private_key: SigningPrivateKey
    if algorithm == "rsa3072":
        private_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    elif algorithm == "p256":
        private_key = ec.generate_private_key(ec.SECP256R1())
    else:
        msg = f"unknown key algorithm {algorithm!r}; expected one of {', '.join(KEY_ALGORITHMS)}"
        raise UsageError(msg)
    start = (now or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    public_key = private_key.public_key()
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        # a little slack so a signature made right away validates on a machine whose clock lags
        .not_valid_before(start - dt.timedelta(minutes=5))
        .not_valid_after(start + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(private_key, hashes.SHA256())
    )
    return SignerKey(private_key=private_key, certificate=certificate)


def pkcs12_bytes(key: SignerKey, passphrase: bytes) -> bytes:
    """The key and certificate as PKCS#12, encrypted with the best algorithm cryptography offers
    (PBES2 / AES-256, readable by OpenSSL 3 and pyHanko)."""
    if not passphrase:
        msg = "refusing to write a PKCS#12 file with an empty passphrase"
        raise SigningError(msg)
    return pkcs12.serialize_key_and_certificates(
        name=b"mir signer",
        key=key.private_key,
        cert=key.certificate,
        cas=list(key.chain) or None,
        encryption_algorithm=serialization.BestAvailableEncryption(passphrase),
    )


def _write_pair(files: list[tuple[Path, bytes, int]]) -> None:
    """Write each (path, bytes, mode) as a whole, all or none: every file is written to a
    temporary name beside its target and synced, the earlier files are moved aside, the new
    ones renamed into place, the folders synced and only then the earlier files removed. A
    failure anywhere (a full disk, a rename refused, Ctrl-C) puts the earlier files back: with
    --force a failure used to leave the new key beside the old certificate, a pair that does
    not match; and without the syncs a power cut could leave a key file empty under its final
    name (review of 2026-12-07)."""
    for path, _, _ in files:
        if path.is_dir():
            msg = f"{path} is a folder; name the file to write (the key's .p12 and its .crt)"
            raise UsageError(msg)
    staged: list[tuple[str, Path]] = []
    aside: list[tuple[Path, Path]] = []  # (the earlier file moved aside, its path)
    placed: list[Path] = []
    try:
        for path, data, mode in files:
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
            except OSError as exc:  # a folder that cannot be made or written: the user's path
                msg = f"cannot write {path}: {exc.strerror or exc} ({exc.filename})"
                raise UsageError(msg) from exc
            staged.append((tmp, path))
            with os.fdopen(fd, "wb") as handle:
                os.fchmod(handle.fileno(), mode)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
        for _, path in staged:
            if path.exists():
                old = path.with_name(f".{path.name}.old-{os.getpid()}")
                os.replace(path, old)
                aside.append((old, path))
        for tmp, path in staged:
            os.replace(tmp, path)
            placed.append(path)
        for folder in {path.parent for _, path in staged}:
            fsync_dir(folder)
    except BaseException:
        for tmp, _ in staged:
            Path(tmp).unlink(missing_ok=True)
        earlier = {path for _, path in aside}
        for path in placed:
            if path not in earlier:  # a file that was not there before
                path.unlink(missing_ok=True)
        for old, path in aside:
            os.replace(old, path)
        raise
    for old, _ in aside:
        old.unlink(missing_ok=True)


def certificate_path_for(pkcs12_path: Path) -> Path:
    """keys/signer.p12 -> keys/signer.crt (PEM), for --trust and openssl -CAfile."""
    return pkcs12_path.with_suffix(".crt")


def init_keys(
    out: str | os.PathLike[str],
    *,
    passphrase: bytes,
    subject: str = DEFAULT_SUBJECT,
    days: int = DEFAULT_DAYS,
    algorithm: KeyAlgorithm = "rsa3072",
    force: bool = False,
    now: dt.datetime | None = None,
    lei: str | None = None,
) -> KeyInitResult:
    """`mir keys init`: write a development key as PKCS#12 and its certificate as PEM beside it.
    `now`: the start of its validity (tests that sign at a fixed earlier time)."""
    p12_path = Path(out)
    crt_path = certificate_path_for(p12_path)
    if p12_path.suffix.lower() not in (".p12", ".pfx"):
        msg = f"--out {p12_path} should end in .p12 (the certificate is written beside it as .crt)"
        raise UsageError(msg)
    existing = [p for p in (p12_path, crt_path) if p.exists()]
    if existing and not force:
        msg = f"{existing[0]} already exists; use --force to replace it (the old key is then lost)"
        raise UsageError(msg)
    # a passphrase too short for a new key is the user's choice to correct: a usage error
    # (exit 2), not a signing error (exit 4; until 2026-12-07)
    safe = "the PKCS#12 file is only as safe as its passphrase"
    if not passphrase:
        msg = (
            f"the passphrase is empty; use at least {MIN_PASSPHRASE_CHARACTERS} characters ({safe})"
        )
        raise UsageError(msg)
    characters = len(passphrase.decode("utf-8", errors="replace"))
    if characters < MIN_PASSPHRASE_CHARACTERS:
        # a security review of 2026-12-06: "a" was accepted
        msg = (
            f"the passphrase has {characters} characters; use at least "
            f"{MIN_PASSPHRASE_CHARACTERS} ({safe})"
        )
        raise UsageError(msg)
    key = generate_development_key(
        subject=subject, days=days, algorithm=algorithm, now=now, lei=lei
    )
    # the key file is private to its owner; the certificate is public
    _write_pair(
        [
            (p12_path, pkcs12_bytes(key, passphrase), 0o600),
            (crt_path, key.certificate.public_bytes(serialization.Encoding.PEM), 0o644),
        ]
    )
    return KeyInitResult(
        pkcs12_path=p12_path,
        certificate_path=crt_path,
        subject=key.subject,
        fingerprint_sha256=key.fingerprint_sha256,
        not_after=key.certificate.not_valid_after_utc,
        algorithm=algorithm,
        replaced=existing,
    )


def passphrase_from_env(signing: SigningConfig) -> bytes | None:
    """The passphrase from the configured environment variable, or None when it is unset."""
    value = os.environ.get(signing.passphrase_env)
    return None if value is None else value.encode("utf-8")


def read_passphrase(signing: SigningConfig, *, prompt: Callable[[], str] | None = None) -> bytes:
    """The environment variable wins; else `prompt` (the CLI passes a hidden prompt on a TTY)."""
    passphrase = passphrase_from_env(signing)
    if passphrase is None and prompt is not None:
        passphrase = prompt().encode("utf-8")
    if passphrase is None:
        # only `mir keys init` asks on a terminal; the other commands read the variable (docs
        # review of 2026-12-05: the message promised a prompt that `mir daily` never shows)
        msg = (
            f"no signing passphrase: set the environment variable {signing.passphrase_env} "
            "(named by [signing] passphrase_env)"
        )
        raise SigningError(msg)
    if not passphrase:
        msg = f"the signing passphrase is empty (environment variable {signing.passphrase_env})"
        raise SigningError(msg)
    return passphrase


def load_signer_key(path: str | os.PathLike[str], passphrase: bytes) -> SignerKey:
    """Open a PKCS#12 file; a wrong passphrase or a broken file is a SigningError (exit 4)."""
    p12_path = Path(path)
    if not p12_path.is_file():
        # a relative [signing] pkcs12 is taken from the current directory, not the config
        # file's: the absolute path says where it was looked for (docs review of 2026-12-05)
        where = f"{p12_path}" if p12_path.is_absolute() else f"{p12_path} ({p12_path.absolute()})"
        msg = (
            f"no signing key at {where}; run `mir keys init --out {p12_path}` for a development "
            "key, or set [signing] pkcs12 to the firm's PKCS#12 file"
        )
        raise SigningError(msg)
    try:
        private_key, certificate, extra = pkcs12.load_key_and_certificates(
            p12_path.read_bytes(), passphrase
        )
    except ValueError:
        # cryptography says "Invalid password or PKCS12 data"; the passphrase itself is never shown
        msg = f"cannot open {p12_path}: wrong passphrase or not a PKCS#12 file"
        raise SigningError(msg) from None
    if private_key is None or certificate is None:
        msg = f"{p12_path} holds no private key and certificate pair"
        raise SigningError(msg)
    if not isinstance(private_key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        msg = f"{p12_path}: unsupported key type {type(private_key).__name__}; use RSA or EC keys"
        raise SigningError(msg)
    _check_validity(p12_path, certification_path(certificate, extra), dt.datetime.now(dt.UTC))
    return SignerKey(
        private_key=private_key, certificate=certificate, chain=tuple(extra), source=str(p12_path)
    )


def certification_path(
    certificate: x509.Certificate,
    others: Iterable[x509.Certificate],
    now: dt.datetime | None = None,
) -> tuple[x509.Certificate, ...]:
    """The certificate and, from `others` (a PKCS#12 file's extra certificates), its issuer, that
    one's issuer and so on, as far as they are there: what a verifier checks. Certificates in the
    file off that path (an old root kept in the bundle) do not count (found in review). An issuer
    is a certificate of the issuer's name whose key verifies the child's signature; of several
    (a renewed CA beside its expired predecessor), the one valid now, else the latest."""
    now = now or dt.datetime.now(dt.UTC)
    pool = list(others)
    path = [certificate]
    while path[-1].issuer != path[-1].subject:
        child = path[-1]
        candidates = [c for c in pool if c.subject == child.issuer and issued_by(child, c)]
        if not candidates:
            break
        issuer = max(
            candidates,
            key=lambda c: (c.not_valid_before_utc <= now <= c.not_valid_after_utc,
                           c.not_valid_after_utc),
        )  # fmt: skip
        pool.remove(issuer)
        path.append(issuer)
    return tuple(path)


def issued_by(child: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Whether `issuer`'s key signed `child` (and names it as issuer)."""
    try:
        child.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_validity(
    p12_path: Path, certificates: tuple[x509.Certificate, ...], now: dt.datetime
) -> None:
    """A certificate of the key's path (its own or an issuer's) outside its validity period is a
    SigningError: the package would carry a signature that `openssl cms -verify` and `pdfsig`
    reject ("certificate has expired"), while the job said it was fine (found in review)."""
    for certificate in certificates:
        subject = certificate.subject.rfc4514_string()
        if now > certificate.not_valid_after_utc:
            msg = (
                f"{p12_path}: the certificate {subject} expired on "
                f"{certificate.not_valid_after_utc:%Y-%m-%d %H:%M} UTC; a signature made with it "
                "fails verification. Renew it (`mir keys init --force` for a development key)"
            )
            raise SigningError(msg)
        if now < certificate.not_valid_before_utc:
            msg = (
                f"{p12_path}: the certificate {subject} is not valid before "
                f"{certificate.not_valid_before_utc:%Y-%m-%d %H:%M} UTC (is this machine's "
                "clock right?)"
            )
            raise SigningError(msg)


def key_exposure_warning(path: str | os.PathLike[str]) -> str | None:
    """A warning when the PKCS#12 file at `path` may be read by other users than its owner
    (a security review of 2026-12-06: never said; the passphrase is then the key's only guard).
    Not refused: a mounted secret (Kubernetes' default mode 0644) is readable so by design."""
    try:
        mode = Path(path).stat().st_mode
    except OSError:
        return None
    if not mode & 0o044:
        return None
    who = "any user" if mode & 0o004 else "its group"
    return (
        f"warning: the signing key {path} can be read by {who} (mode {mode & 0o777:04o}); "
        f"`chmod 600 {path}` unless a secret store mounts it so"
    )


def load_signer_from_config(
    signing: SigningConfig, *, passphrase: bytes | None = None
) -> SignerKey:
    """The configured PKCS#12 signer; the passphrase defaults to the configured environment variable."""
    return load_signer_key(
        signing.pkcs12, passphrase if passphrase is not None else read_passphrase(signing)
    )


def load_certificates(path: str | os.PathLike[str]) -> list[x509.Certificate]:
    """Certificates from a PEM (one or more) or DER file, e.g. `mir verify --trust signer.crt`."""
    cert_path = Path(path)
    try:
        data = cert_path.read_bytes()
    except OSError as exc:
        msg = f"cannot read the certificate file {cert_path}: {exc.strerror or exc}"
        raise UsageError(msg) from None
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificates(data)
        return [x509.load_der_x509_certificate(data)]
    except ValueError:
        msg = f"{cert_path} is not a PEM or DER X.509 certificate"
        raise UsageError(msg) from None
