"""Keys, PAdES signing of a PDF/A-3b, manifest.json and its detached CMS signature."""

from __future__ import annotations

import datetime as dt
import errno
import gc
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import SIGNING_PASSPHRASE
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from reports.config import SigningConfig
from reports.errors import SigningError, UsageError
from reports.sign.cms import sign_manifest
from reports.sign.keys import (
    DEV_ORGANIZATION,
    generate_development_key,
    is_development_certificate,
    load_signer_key,
)
from reports.sign.manifest import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    broken_links_after,
    canonical_json,
    write_manifest,
)
from reports.sign.pades import sign_pdf

UTC = dt.UTC
SIGNED_AT = dt.datetime(2026, 3, 3, 18, 30, tzinfo=UTC)
CSV_ATTACHMENTS = {
    "exceptions.csv": b"check_id,status\nSEG-01,breach\n",
    "segregation.csv": b"asset,excess\nBTC,-1.5\n",
}


def make_pdfa3b(attachments: dict[str, bytes] = CSV_ATTACHMENTS) -> bytes:
    """A one-page PDF/A-3b with the given files embedded as associated files (/AF)."""
    from weasyprint import HTML, Attachment

    created = dt.datetime(2026, 3, 3, tzinfo=UTC)
    files = [
        Attachment(
            string=data.decode(), name=name, relationship="Data", created=created, modified=created
        )
        for name, data in attachments.items()
    ]
    html = "<html lang='en'><head><title>mir test report</title></head><body><p>Segregation statement</p></body></html>"
    # WeasyPrint 70 leaves its sRGB ICC profile file open for PDF/A output (a ResourceWarning,
    # an error under our warning filter); it is not ours to fix, so silence just that here
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = HTML(string=html).write_pdf(pdf_variant="pdf/a-3b", attachments=files)
        gc.collect()
    return pdf


@pytest.fixture(scope="module")
def pdfa3b() -> bytes:
    return make_pdfa3b()


def _timestamper(now: dt.datetime):
    """pyHanko's DummyTimeStamper with its own self-signed TSA certificate (no network)."""
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps import DummyTimeStamper

    key = rsa.generate_private_key(
        public_exponent=65537, key_size=2048
    )  # the dummy TSA is RSA-only
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mir test TSA")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        tsa_key=asn1_keys.PrivateKeyInfo.load(key_der),
        fixed_dt=now,
    )


def _validate(pdf: bytes):
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    reader = PdfFileReader(io.BytesIO(pdf))
    (signature,) = reader.embedded_signatures
    return reader, signature, validate_pdf_signature(signature)


# --- mir keys init ----------------------------------------------------------------------------


def test_keys_init_writes_a_development_key(run_mir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    out = tmp_path / "keys" / "signer.p12"
    result = run_mir("keys", "init", "--out", out)
    assert result.exit_code == 0, result.output
    assert SIGNING_PASSPHRASE not in result.output
    assert "DEVELOPMENT KEY - NOT FOR SUBMISSION" in result.output

    key, cert, _ = pkcs12.load_key_and_certificates(out.read_bytes(), SIGNING_PASSPHRASE.encode())
    assert key is not None and cert is not None
    assert key.key_size == 3072  # type: ignore[union-attr]
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    assert usage.value.content_commitment and usage.value.digital_signature  # nonRepudiation
    assert not usage.value.key_cert_sign
    assert (
        cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == DEV_ORGANIZATION
    )
    assert is_development_certificate(cert)
    assert cert.not_valid_after_utc - cert.not_valid_before_utc >= dt.timedelta(days=365)

    # an end entity, not a CA that could issue certificates (mutation review of 2026-12-07)
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca

    crt = tmp_path / "keys" / "signer.crt"
    assert x509.load_pem_x509_certificate(crt.read_bytes()) == cert
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert stat.S_IMODE(crt.stat().st_mode) == 0o644  # the certificate is public
    fingerprint = hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()
    assert fingerprint in result.output

    with pytest.raises(ValueError):
        pkcs12.load_key_and_certificates(out.read_bytes(), b"wrong passphrase")


def test_keys_init_refuses_to_overwrite_without_force(run_mir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    out = tmp_path / "signer.p12"
    first = run_mir("keys", "init", "--out", out, "--algorithm", "p256")
    assert first.exit_code == 0, first.output
    before = out.read_bytes()

    again = run_mir("keys", "init", "--out", out, "--algorithm", "p256")
    assert again.exit_code == 2
    assert "use --force to replace it" in again.output
    assert out.read_bytes() == before

    forced = run_mir("keys", "init", "--out", out, "--algorithm", "p256", "--force")
    assert forced.exit_code == 0, forced.output
    assert out.read_bytes() != before


@pytest.mark.parametrize("where", ["writing", "renaming"])
def test_a_forced_keys_init_that_fails_part_way_keeps_the_old_pair(
    run_mir, tmp_path, monkeypatch, where
) -> None:
    """The disk fills while the new certificate is written, or Ctrl-C comes between the two
    renames: the old key and certificate stay, a matching pair, and no temporary or set-aside
    file is left (the new .p12 used to be in place already beside the old .crt). Each file is
    synced before either replaces anything."""
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    out = tmp_path / "signer.p12"
    assert run_mir("keys", "init", "--out", out, "--algorithm", "p256").exit_code == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"signer.p12", "signer.crt"}
    name, calls = ("fdopen", 2) if where == "writing" else ("replace", 4)  # 2 set aside first
    real, seen = getattr(os, name), []

    def fails_once(*args: Any, **kwargs: Any) -> Any:
        seen.append(args)
        if len(seen) == calls:
            if where == "writing":
                raise OSError(errno.ENOSPC, "No space left on device")
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(os, name, fails_once)
    forced = run_mir("keys", "init", "--out", out, "--algorithm", "p256", "--force")
    assert forced.exit_code == 4, forced.output
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
    monkeypatch.setattr(os, name, real)
    fsync, synced = os.fsync, []
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), fsync(fd)))
    replaced = run_mir("keys", "init", "--out", out, "--algorithm", "p256", "--force")
    assert replaced.exit_code == 0, replaced.output
    assert len(synced) >= 3  # the two files and their folder
    after = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(after) == set(before) and after["signer.p12"] != before["signer.p12"]
    assert after["signer.crt"] != before["signer.crt"]


def test_keys_init_onto_a_folder_is_a_usage_error_and_replaces_nothing(
    run_mir, tmp_path, monkeypatch
) -> None:
    """A folder where the certificate goes: exit 2 naming it, and the key beside it is not
    replaced (it was, and the run ended as an internal error, exit 4; diff review of
    2026-12-07)."""
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    out = tmp_path / "signer.p12"
    assert run_mir("keys", "init", "--out", out, "--algorithm", "p256").exit_code == 0
    key = out.read_bytes()
    (tmp_path / "signer.crt").unlink()
    (tmp_path / "signer.crt").mkdir()
    forced = run_mir("keys", "init", "--out", out, "--algorithm", "p256", "--force")
    assert forced.exit_code == 2, forced.output
    assert f"{tmp_path / 'signer.crt'} is a folder" in forced.output
    assert out.read_bytes() == key
    assert sorted(p.name for p in tmp_path.iterdir()) == ["signer.crt", "signer.p12"]


def test_keys_init_needs_a_passphrase(run_mir, tmp_path, monkeypatch) -> None:
    """No variable and no terminal: a usage error (exit 2), as a short passphrase is; it was a
    signing error, exit 4 (dialect audit of 2026-12-07)."""
    monkeypatch.delenv("MIR_SIGNING_PASSPHRASE", raising=False)
    result = run_mir("keys", "init", "--out", tmp_path / "signer.p12", "--algorithm", "p256")
    assert result.exit_code == 2, result.output
    assert "MIR_SIGNING_PASSPHRASE" in result.output and "on a terminal" in result.output
    assert not (tmp_path / "signer.p12").exists()


def test_keys_init_reads_the_configured_variable_and_subject(
    run_mir, tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("MIR_SIGNING_PASSPHRASE", raising=False)
    monkeypatch.setenv("VENUE_KEY_PASS", "another secret")
    config = tmp_path / "mir.toml"
    config.write_text(
        f'[signing]\npkcs12 = "{(tmp_path / "k" / "venue.p12").as_posix()}"\npassphrase_env = "VENUE_KEY_PASS"\n'
    )
    result = run_mir(
        "keys",
        "init",
        "--config",
        config,
        "--algorithm",
        "p256",
        "--subject",
        "CN=Example Venue signer",
        "--days",
        "30",
    )
    assert result.exit_code == 0, result.output
    assert "passphrase from $VENUE_KEY_PASS)" in result.output
    key = load_signer_key(tmp_path / "k" / "venue.p12", b"another secret")
    assert key.subject == f"CN=Example Venue signer,O={DEV_ORGANIZATION}"
    assert key.is_development
    assert (tmp_path / "k" / "venue.crt").is_file()


def test_keys_init_rejects_a_bad_subject(run_mir, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    result = run_mir(
        "keys",
        "init",
        "--out",
        tmp_path / "s.p12",
        "--algorithm",
        "p256",
        "--subject",
        "O=No common name",
    )
    assert result.exit_code == 2
    assert "CN=" in result.output


def test_wrong_passphrase_is_a_signing_error_that_hides_it(dev_key) -> None:
    with pytest.raises(SigningError) as caught:
        load_signer_key(dev_key.p12, b"guess-123")
    assert "wrong passphrase" in str(caught.value)
    assert "guess-123" not in str(caught.value)


def test_a_ca_issued_certificate_is_not_a_development_key() -> None:
    now = dt.datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Example CA")])
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(
            x509.Name(
                [
                    x509.NameAttribute(NameOID.COMMON_NAME, "Venue signer"),
                    x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Venue Ltd"),
                ]
            )
        )
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(ca_key, hashes.SHA256())
    )
    assert not is_development_certificate(leaf)
    assert is_development_certificate(
        generate_development_key(algorithm="p256", subject="CN=x,O=Venue Ltd").certificate
    )


# --- PAdES ------------------------------------------------------------------------------------


def test_sign_pdf_makes_an_intact_pades_signature_over_the_whole_file(
    pdfa3b, dev_key, tmp_path
) -> None:
    from pyhanko.sign.validation import SignatureCoverageLevel

    out = tmp_path / "report.pdf"
    info = sign_pdf(pdfa3b, out, dev_key.key, signing_time=SIGNED_AT)
    signed = out.read_bytes()
    assert info.level == "B-B"
    assert info.sha256 == hashlib.sha256(signed).hexdigest()
    assert info.development_key
    # an incremental update: the unsigned document is a prefix of the signed one
    assert signed.startswith(pdfa3b)

    _, signature, status = _validate(signed)
    assert status.intact and status.valid
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.self_reported_timestamp == SIGNED_AT
    assert status.signing_cert.dump() == dev_key.key.certificate.public_bytes(
        serialization.Encoding.DER
    )


def test_signed_pdf_stays_pdfa3b_with_its_associated_files(pdfa3b, dev_key, tmp_path) -> None:
    from pyhanko.pdf_utils.reader import PdfFileReader

    out = tmp_path / "report.pdf"
    sign_pdf(pdfa3b, out, dev_key.key)
    reader = PdfFileReader(io.BytesIO(out.read_bytes()))
    root = reader.root

    # the embedded CSVs survive, as PDF/A-3 associated files with a relationship
    names = root["/Names"]["/EmbeddedFiles"]["/Names"]
    embedded = {names[i]: names[i + 1].get_object() for i in range(0, len(names), 2)}
    assert set(embedded) == set(CSV_ATTACHMENTS)
    for name, filespec in embedded.items():
        assert filespec["/EF"]["/F"].get_object().data == CSV_ATTACHMENTS[name]
        assert filespec["/AFRelationship"] == "/Data"
    associated = {ref.get_object()["/UF"] for ref in root["/AF"]}
    assert associated == set(CSV_ATTACHMENTS)

    # PDF/A identification kept, and the /Info producer equals the XMP one (PDF/A requires it)
    xmp = root["/Metadata"].get_object().data.decode()
    assert 'pdfaid:part="3"' in xmp and 'pdfaid:conformance="B"' in xmp
    producer = str(reader.trailer["/Info"]["/Producer"])
    assert f'pdf:Producer="{producer}"' in xmp

    # invisible signature widget: zero rectangle, print flag set, hidden flags clear
    (field,) = [f.get_object() for f in root["/AcroForm"]["/Fields"]]
    assert [float(x) for x in field["/Rect"]] == [0, 0, 0, 0]
    flags = int(field["/F"])
    assert flags & 4 and not flags & 2 and not flags & 1
    assert "/AP" not in field or not field["/AP"]["/N"].get_object().data.strip()


def test_sign_pdf_b_t_with_a_timestamp(pdfa3b, dev_key, tmp_path) -> None:
    now = dt.datetime.now(UTC).replace(microsecond=0)
    out = tmp_path / "report.pdf"
    info = sign_pdf(pdfa3b, out, dev_key.key, timestamper=_timestamper(now))
    assert info.level == "B-T"
    _, _, status = _validate(out.read_bytes())
    assert status.intact and status.valid
    token = status.timestamp_validity
    assert token is not None and token.intact and token.valid
    assert token.timestamp == now


def test_sign_pdf_from_the_signing_configuration(pdfa3b, dev_key, tmp_path) -> None:
    config = SigningConfig(pkcs12=str(dev_key.p12))
    info = sign_pdf(pdfa3b, tmp_path / "report.pdf", config)
    assert info.certificate_sha256 == dev_key.key.fingerprint_sha256


def test_sign_pdf_without_passphrase_is_a_signing_error(
    pdfa3b, dev_key, tmp_path, monkeypatch
) -> None:
    monkeypatch.delenv("MIR_SIGNING_PASSPHRASE")
    with pytest.raises(SigningError, match="MIR_SIGNING_PASSPHRASE") as caught:
        sign_pdf(pdfa3b, tmp_path / "report.pdf", SigningConfig(pkcs12=str(dev_key.p12)))
    assert not (tmp_path / "report.pdf").exists()
    # no prompt is offered here: the message does not promise one (docs review of 2026-12-05)
    assert "prompt" not in str(caught.value)


def test_a_missing_relative_key_is_named_with_its_absolute_path(tmp_path, monkeypatch) -> None:
    """Docs review of 2026-12-05: a relative [signing] pkcs12 is taken from the current
    directory, and the message named only the relative path."""
    from reports.sign.keys import load_signer_key

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SigningError) as caught:
        load_signer_key("mykeys/firm.p12", b"x")
    assert f"no signing key at mykeys/firm.p12 ({tmp_path / 'mykeys' / 'firm.p12'})" in str(
        caught.value
    )


def test_sign_pdf_rejects_a_naive_signing_time(pdfa3b, dev_key, tmp_path) -> None:
    with pytest.raises(SigningError, match="timezone-aware"):
        sign_pdf(pdfa3b, tmp_path / "report.pdf", dev_key.key, signing_time=dt.datetime(2026, 3, 3))


def _pdfsig(path: Path) -> str:
    completed = subprocess.run(
        ["pdfsig", str(path)], capture_output=True, text=True, check=False, timeout=60
    )
    return completed.stdout + completed.stderr


@pytest.mark.pdf
@pytest.mark.skipif(
    shutil.which("pdfsig") is None, reason="pdfsig not installed (apt-get install poppler-utils)"
)
def test_pdfsig_agrees(pdfa3b, dev_key, tmp_path) -> None:
    out = tmp_path / "report.pdf"
    sign_pdf(pdfa3b, out, dev_key.key)
    text = _pdfsig(out)
    assert "Signature Type: ETSI.CAdES.detached" in text
    assert "Signature Validation: Signature is Valid." in text
    assert "Total document signed" in text

    # pdfsig exits 0 whatever it finds, so read its verdict: a changed byte inside the signed
    # range (the page content stream) is a digest mismatch
    signed = bytearray(out.read_bytes())
    at = signed.index(b"stream", 200) + 20
    signed[at] ^= 0x01
    tampered = tmp_path / "tampered.pdf"
    tampered.write_bytes(bytes(signed))
    text = _pdfsig(tampered)
    assert "Signature Validation: Signature is Valid." not in text
    assert "Digest Mismatch" in text


# --- manifest.json and manifest.json.p7s -------------------------------------------------------

INPUTS = {
    "positions": {"sha256": "b" * 64, "rows": 12},
    "accounts": {"sha256": "a" * 64, "rows": 3},
}


def _day_dir(root: Path, as_of: str) -> Path:
    day = root / as_of
    day.mkdir(parents=True)
    (day / "exceptions.csv").write_bytes(b"check_id,status\n")
    (day / "summary.json").write_text(json.dumps({"as_of": as_of, "run_id": f"run-{as_of}"}))
    (day / "report.pdf").write_bytes(b"%PDF-1.7 stand-in\n")
    return day


def test_manifest_is_canonical_and_deterministic(tmp_path) -> None:
    day = _day_dir(tmp_path / "out", "2026-03-03")
    path = write_manifest(day, inputs=INPUTS, config_sha256="c" * 64, tool_version="0.1.0")
    first = path.read_bytes()
    (day / SIGNATURE_NAME).write_bytes(b"a stale signature")  # neither listed nor kept
    again = write_manifest(
        day, inputs=dict(reversed(INPUTS.items())), config_sha256="c" * 64, tool_version="0.1.0"
    )
    assert again.read_bytes() == first
    assert not (day / SIGNATURE_NAME).exists()

    manifest = json.loads(first)
    assert first == canonical_json(manifest)
    assert first.endswith(b"}\n") and b'\n  "as_of": "2026-03-03",\n' in first
    assert manifest["as_of"] == "2026-03-03"
    assert manifest["run_id"] == "run-2026-03-03"
    assert manifest["config_sha256"] == "c" * 64
    assert manifest["tool_version"] == "0.1.0"
    assert manifest["previous_manifest_sha256"] is None
    assert manifest["inputs"] == [
        {"file": "accounts", "rows": 3, "sha256": "a" * 64},
        {"file": "positions", "rows": 12, "sha256": "b" * 64},
    ]
    assert manifest["files"] == [
        {
            "name": name,
            "sha256": hashlib.sha256((day / name).read_bytes()).hexdigest(),
            "size": (day / name).stat().st_size,
        }
        for name in ("exceptions.csv", "report.pdf", "summary.json")
    ]


def test_manifest_chains_to_the_previous_day(tmp_path, dev_key) -> None:
    out = tmp_path / "out"
    first = write_manifest(_day_dir(out, "2026-03-02"), inputs=INPUTS, config_sha256="c" * 64)
    sign_manifest(first, dev_key.key)
    _day_dir(out, "2026-03-06")  # a later day must not count
    second = write_manifest(_day_dir(out, "2026-03-03"), inputs=INPUTS, config_sha256="c" * 64)
    chained = json.loads(second.read_bytes())
    assert chained["previous_manifest_sha256"] == hashlib.sha256(first.read_bytes()).hexdigest()

    explicit = write_manifest(
        out / "2026-03-03", inputs=INPUTS, config_sha256="c" * 64, previous_manifest_sha256=None
    )
    assert json.loads(explicit.read_bytes())["previous_manifest_sha256"] is None


@pytest.mark.parametrize("damage", ["unsigned", "altered"])
def test_manifest_refuses_to_chain_onto_a_predecessor_that_does_not_verify(
    damage, tmp_path, dev_key
) -> None:
    """The link would vouch for the earlier manifest: it must carry a valid signature."""
    out = tmp_path / "out"
    first = write_manifest(_day_dir(out, "2026-03-02"), inputs=INPUTS, config_sha256="c" * 64)
    if damage == "altered":
        sign_manifest(first, dev_key.key)
        first.write_bytes(first.read_bytes().replace(b'"tool": "mir"', b'"tool": "forged"'))
    with pytest.raises(SigningError, match=r"previous day's manifest .* does not verify"):
        write_manifest(_day_dir(out, "2026-03-03"), inputs=INPUTS, config_sha256="c" * 64)
    assert not (out / "2026-03-03" / MANIFEST_NAME).exists()


def test_broken_links_after_names_the_next_day_only(tmp_path, dev_key) -> None:
    out = tmp_path / "out"
    days = ["2026-03-02", "2026-03-03", "2026-03-04"]
    for day in days:
        sign_manifest(
            write_manifest(_day_dir(out, day), inputs=INPUTS, config_sha256="c" * 64),
            dev_key.key,
        )
    assert broken_links_after(out, dt.date(2026, 3, 2)) == []
    # day 2 re-run with another configuration: a new manifest, day 3 links to the old one
    write_manifest(out / "2026-03-02", inputs=INPUTS, config_sha256="d" * 64)
    assert broken_links_after(out, dt.date(2026, 3, 2)) == [dt.date(2026, 3, 3)]
    assert broken_links_after(out, dt.date(2026, 3, 3)) == []
    assert broken_links_after(out, dt.date(2026, 3, 4)) == []


def test_broken_links_after_reads_a_later_day_kept_only_as_its_package(tmp_path, dev_key) -> None:
    """The next day's day directory deleted, its zip kept: re-running the earlier day still
    names it (before 2026-12-04 only day directories were read, and nothing was named)."""
    import zipfile

    out = tmp_path / "out"
    for day in ("2026-03-02", "2026-03-03"):
        sign_manifest(
            write_manifest(_day_dir(out, day), inputs=INPUTS, config_sha256="c" * 64),
            dev_key.key,
        )
    with zipfile.ZipFile(out / "LEI1_2026-03-03.zip", "w") as archive:
        for name in (MANIFEST_NAME, SIGNATURE_NAME):
            archive.write(out / "2026-03-03" / name, name)
    shutil.rmtree(out / "2026-03-03")
    assert broken_links_after(out, dt.date(2026, 3, 2), "LEI1") == []
    write_manifest(out / "2026-03-02", inputs=INPUTS, config_sha256="d" * 64)
    assert broken_links_after(out, dt.date(2026, 3, 2), "LEI1") == [dt.date(2026, 3, 3)]
    assert broken_links_after(out, dt.date(2026, 3, 2), "OTHER") == []  # not this firm's


def test_manifest_rejects_bad_hashes(tmp_path) -> None:
    day = _day_dir(tmp_path, "2026-03-03")
    with pytest.raises(UsageError, match="SHA-256"):
        write_manifest(
            day, inputs={"accounts": {"sha256": "xyz", "rows": 1}}, config_sha256="c" * 64
        )
    with pytest.raises(UsageError, match="config_sha256"):
        write_manifest(day, inputs=INPUTS, config_sha256="C" * 64)


def test_manifest_signature_is_detached_der_cms_with_the_certificate(tmp_path, dev_key) -> None:
    from asn1crypto import cms

    day = _day_dir(tmp_path, "2026-03-03")
    signature = sign_manifest(
        write_manifest(day, inputs=INPUTS, config_sha256="c" * 64), dev_key.key
    )
    assert signature == day / SIGNATURE_NAME
    content_info = cms.ContentInfo.load(signature.read_bytes())
    assert content_info["content_type"].native == "signed_data"
    signed_data = content_info["content"]
    assert signed_data["encap_content_info"]["content"].native is None  # detached
    certificates = [c.chosen.dump() for c in signed_data["certificates"]]
    assert dev_key.key.certificate.public_bytes(serialization.Encoding.DER) in certificates


def _openssl_verify(day: Path, ca_file: Path) -> subprocess.CompletedProcess[str]:
    # the command README.md gives regulators, verbatim
    command = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER",
        "-in", SIGNATURE_NAME, "-content", MANIFEST_NAME,
        "-CAfile", str(ca_file), "-purpose", "any", "-out", "/dev/null",
    ]  # fmt: skip
    return subprocess.run(command, cwd=day, capture_output=True, text=True, check=False, timeout=60)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl not installed")
def test_openssl_verifies_the_manifest_signature_until_tampered(tmp_path, dev_key) -> None:
    day = _day_dir(tmp_path, "2026-03-03")
    sign_manifest(write_manifest(day, inputs=INPUTS, config_sha256="c" * 64), dev_key.key)
    good = _openssl_verify(day, dev_key.crt)
    assert good.returncode == 0, good.stderr
    assert "Verification successful" in good.stderr

    other = generate_development_key(algorithm="p256")
    other_crt = tmp_path / "other.crt"
    other_crt.write_bytes(other.certificate.public_bytes(serialization.Encoding.PEM))
    assert _openssl_verify(day, other_crt).returncode != 0  # not trusted by someone else's cert

    manifest = day / MANIFEST_NAME
    data = bytearray(manifest.read_bytes())
    data[len(data) // 2] ^= 0x01
    manifest.write_bytes(bytes(data))
    bad = _openssl_verify(day, dev_key.crt)
    assert bad.returncode != 0
    assert "Verification failure" in bad.stderr


def test_an_unreachable_timestamp_authority_is_a_signing_error(pdfa3b, dev_key, tmp_path) -> None:
    # port 9 (discard) on the loopback interface: refused at once, no network needed
    with pytest.raises(SigningError, match="timestamp authority did not answer"):
        sign_pdf(pdfa3b, tmp_path / "report.pdf", dev_key.key, tsa_url="http://127.0.0.1:9/tsa")
    assert not (tmp_path / "report.pdf").exists()


def test_manifest_signature_with_a_timestamp_still_verifies(tmp_path, dev_key) -> None:
    import asyncio

    from asn1crypto import cms
    from pyhanko.sign.validation import async_validate_detached_cms

    now = dt.datetime.now(UTC).replace(microsecond=0)
    day = _day_dir(tmp_path, "2026-03-03")
    manifest = write_manifest(day, inputs=INPUTS, config_sha256="c" * 64)
    signature = sign_manifest(manifest, dev_key.key, timestamper=_timestamper(now))
    signed_data = cms.ContentInfo.load(signature.read_bytes())["content"]
    status = asyncio.run(async_validate_detached_cms(manifest.read_bytes(), signed_data))
    assert status.intact and status.valid
    assert status.timestamp_validity is not None and status.timestamp_validity.timestamp == now
    if shutil.which("openssl"):
        checked = _openssl_verify(day, dev_key.crt)
        assert checked.returncode == 0, checked.stderr


def test_keys_init_refuses_a_short_passphrase(run_mir, tmp_path, monkeypatch) -> None:
    """Security review of 2026-12-06: `mir keys init` accepted the passphrase "a". A passphrase
    too short (or empty) for a new key is a usage error, exit 2 (dialect review of 2026-12-07:
    exit 4, an internal or signing error)."""
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", "short pass")  # 10 characters
    result = run_mir("keys", "init", "--out", tmp_path / "signer.p12", "--algorithm", "p256")
    assert result.exit_code == 2, result.output
    assert "the passphrase has 10 characters; use at least 12" in result.output
    assert not (tmp_path / "signer.p12").exists()
    # characters, not bytes (diff review of 2026-12-06): six two-byte letters are six
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", "\u00e9" * 6)
    result = run_mir("keys", "init", "--out", tmp_path / "signer.p12", "--algorithm", "p256")
    assert result.exit_code == 2, result.output
    assert "the passphrase has 6 characters" in result.output
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", "")
    result = run_mir("keys", "init", "--out", tmp_path / "signer.p12", "--algorithm", "p256")
    assert result.exit_code == 2, result.output
    assert "the passphrase is empty; use at least 12 characters" in result.output
    assert not (tmp_path / "signer.p12").exists()
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", "twelve chars")
    result = run_mir("keys", "init", "--out", tmp_path / "signer.p12", "--algorithm", "p256")
    assert result.exit_code == 0, result.output


# --- mutation review of 2026-12-06 (reports/sign/manifest.py): rules no test held --------------


def test_manifest_keys_are_sorted_at_every_level(tmp_path) -> None:
    """manifest.json is canonical JSON: the keys of the manifest and of every entry in it are
    in sorted order (not only in the order the code happens to build them)."""
    day = _day_dir(tmp_path / "out", "2026-03-03")
    path = write_manifest(day, inputs=INPUTS, config_sha256="c" * 64, lei="LEI1", timestamped=False)
    orders: list[list[str]] = []

    def record(pairs: list[tuple[str, object]]) -> dict[str, object]:
        orders.append([key for key, _ in pairs])
        return dict(pairs)

    json.loads(path.read_bytes(), object_pairs_hook=record)
    assert len(orders) == 1 + len(INPUTS) + 3  # the manifest, its inputs and its files
    assert all(keys == sorted(keys) for keys in orders), orders


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("previous_manifest_sha256", "A" * 64, "previous_manifest_sha256"),
        ("previous_manifest_sha256", "a" * 63, "previous_manifest_sha256"),
        ("timestamped", "yes", "timestamped"),
        ("timestamped", 1, "timestamped"),
    ],
)
def test_parse_manifest_refuses_a_malformed_link_or_timestamped_flag(
    tmp_path, field: str, value: object, says: str
) -> None:
    """The hash chain's link is null or a lower-case hex SHA-256, and `timestamped` (which
    `mir verify` holds the signatures to) is true or false: anything else is not a manifest."""
    from reports.sign.manifest import parse_manifest

    day = _day_dir(tmp_path / "out", "2026-03-03")
    manifest = json.loads(write_manifest(day, inputs=INPUTS, config_sha256="c" * 64).read_bytes())
    assert parse_manifest(canonical_json(manifest)) == manifest
    manifest[field] = value
    with pytest.raises(ValueError, match=says):
        parse_manifest(canonical_json(manifest))


def test_an_empty_tsa_url_argument_overrides_the_configured_tsa(pdfa3b, dev_key, tmp_path) -> None:
    """`tsa_url` given to sign_manifest or sign_pdf overrides [signing] tsa_url, an empty one
    too (no timestamp: CAdES / PAdES B-B): the configured TSA (an unreachable one here) is
    then not contacted."""
    from asn1crypto import cms

    config = SigningConfig(pkcs12=str(dev_key.p12), tsa_url="http://127.0.0.1:9/tsa")
    day = _day_dir(tmp_path / "out", "2026-03-03")
    manifest = write_manifest(day, inputs=INPUTS, config_sha256="c" * 64)
    signature = sign_manifest(manifest, config, tsa_url="")
    (signer_info,) = cms.ContentInfo.load(signature.read_bytes())["content"]["signer_infos"]
    assert not signer_info["unsigned_attrs"]  # no signature timestamp token
    info = sign_pdf(pdfa3b, tmp_path / "report.pdf", config, tsa_url="")
    assert info.level == "B-B"
    with pytest.raises(SigningError, match="timestamp authority did not answer"):
        sign_manifest(manifest, config)  # the configured TSA, when not overridden


# --- mutation review of 2026-12-07 (reports/sign/keys.py, reports/cli/sign.py) ----------------
# Each test below failed under a realistic mutation that the suite let through.


def test_keys_init_asks_on_a_terminal_with_confirmation_and_the_variable_wins(
    tmp_path, monkeypatch
) -> None:
    """README: the passphrase comes from $MIR_SIGNING_PASSPHRASE or a hidden, confirmed prompt
    on a terminal; a mistyped confirmation asks again, and a set variable is never overridden."""
    from click.testing import CliRunner, _NamedTextIOWrapper

    from reports.cli import cli

    monkeypatch.setattr(_NamedTextIOWrapper, "isatty", lambda _self: True)  # a terminal
    monkeypatch.delenv("MIR_SIGNING_PASSPHRASE", raising=False)
    out = tmp_path / "signer.p12"
    args = ["keys", "init", "--out", str(out), "--algorithm", "p256"]
    typed = "mistyped passphrase\nanother passphrase\nthe one typed twice\nthe one typed twice\n"
    asked = CliRunner().invoke(cli, args, input=typed, catch_exceptions=False)
    assert asked.exit_code == 0, asked.output
    assert "do not match" in asked.output
    assert "passphrase from the prompt)" in asked.output
    assert "the one typed twice" not in asked.output  # hidden
    load_signer_key(out, b"the one typed twice")

    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    given = CliRunner().invoke(cli, [*args, "--force"], input="", catch_exceptions=False)
    assert given.exit_code == 0, given.output
    assert "Passphrase for the new key" not in given.output
    assert "passphrase from $MIR_SIGNING_PASSPHRASE)" in given.output
    load_signer_key(out, SIGNING_PASSPHRASE.encode())


def test_keys_init_days_are_a_validity_from_five_minutes_ago(
    run_mir, tmp_path, monkeypatch
) -> None:
    """--days runs up to 100 years (36 500 days), counted from now; the certificate starts five
    minutes early so a signature made at once validates on a machine whose clock lags."""
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    out = tmp_path / "signer.p12"
    result = run_mir("keys", "init", "--out", out, "--algorithm", "p256", "--days", "36500")
    assert result.exit_code == 0, result.output
    cert = x509.load_pem_x509_certificate(out.with_suffix(".crt").read_bytes())
    assert cert.not_valid_after_utc - cert.not_valid_before_utc == dt.timedelta(
        days=36500, minutes=5
    )
    too_long = run_mir(
        "keys", "init", "--out", tmp_path / "x.p12", "--algorithm", "p256", "--days", "36501"
    )
    assert too_long.exit_code == 2, too_long.output
    assert "--days" in too_long.output

    start = dt.datetime(2026, 3, 3, 12, 0, tzinfo=UTC)
    key = generate_development_key(algorithm="p256", days=30, now=start)
    assert key.certificate.not_valid_before_utc == start - dt.timedelta(minutes=5)
    assert key.certificate.not_valid_after_utc == start + dt.timedelta(days=30)


def test_keys_init_keeps_a_given_organisation_and_refuses_a_malformed_subject(
    run_mir, tmp_path, monkeypatch
) -> None:
    """O=mir development key is added only when the subject names no organisation; a subject
    that is not a distinguished name is a usage error (exit 2), not a signing failure."""
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    out = tmp_path / "signer.p12"
    subject = "CN=Venue signer,O=Venue Ltd"
    result = run_mir("keys", "init", "--out", out, "--algorithm", "p256", "--subject", subject)
    assert result.exit_code == 0, result.output
    assert f"subject: {subject}\n" in result.output
    assert load_signer_key(out, SIGNING_PASSPHRASE.encode()).subject == subject

    bad = run_mir(
        "keys", "init", "--out", tmp_path / "b.p12", "--algorithm", "p256", "--subject", "a name"
    )
    assert bad.exit_code == 2, bad.output
    assert "is not a distinguished name like 'CN=Example signer,O=Example Ltd'" in bad.output
    assert not (tmp_path / "b.p12").exists()


def test_keys_init_out_names_a_pkcs12_file_and_never_replaces_a_certificate(
    run_mir, tmp_path, monkeypatch
) -> None:
    """--out must end in .p12 or .pfx (any case): the certificate goes beside it as .crt, so
    --out signer.pem would write the key where a certificate is expected. A certificate already
    there (the one registered with the regulator) is not replaced without --force either."""
    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", SIGNING_PASSPHRASE)
    upper = run_mir("keys", "init", "--out", tmp_path / "u" / "SIGNER.P12", "--algorithm", "p256")
    assert upper.exit_code == 0, upper.output
    assert (tmp_path / "u" / "SIGNER.crt").is_file()

    pem = run_mir("keys", "init", "--out", tmp_path / "signer.pem", "--algorithm", "p256")
    assert pem.exit_code == 2, pem.output
    assert "should end in .p12" in pem.output
    assert not (tmp_path / "signer.pem").exists()

    registered = tmp_path / "k" / "signer.crt"
    registered.parent.mkdir()
    registered.write_bytes(b"the certificate registered with the regulator")
    again = run_mir("keys", "init", "--out", tmp_path / "k" / "signer.p12", "--algorithm", "p256")
    assert again.exit_code == 2, again.output
    assert f"{registered} already exists; use --force" in again.output
    assert registered.read_bytes() == b"the certificate registered with the regulator"
    assert not (tmp_path / "k" / "signer.p12").exists()


@pytest.mark.parametrize(
    ("mode", "who"), [(0o600, None), (0o640, "its group"), (0o604, "any user"), (0o644, "any user")]
)
def test_key_exposure_warning_names_group_and_other_readers(tmp_path, mode, who) -> None:
    """README: `mir daily` warns when the key file can be read by its group or by any user."""
    from reports.sign.keys import key_exposure_warning

    key = tmp_path / "signer.p12"
    key.write_bytes(b"key")
    key.chmod(mode)
    warning = key_exposure_warning(key)
    if who is None:
        assert warning is None
    else:
        assert f"can be read by {who} (mode {mode:04o})" in str(warning)
    assert key_exposure_warning(tmp_path / "missing.p12") is None


def test_a_key_just_expired_or_not_yet_valid_is_refused(tmp_path) -> None:
    """A certificate expired an hour ago is expired: signatures made with it fail `openssl cms
    -verify` and `pdfsig`. One valid only from tomorrow is refused too."""
    from reports.sign.keys import init_keys

    now = dt.datetime.now(UTC)
    passphrase = SIGNING_PASSPHRASE.encode()
    for name, start, says in (
        ("expired", now - dt.timedelta(days=1, hours=1), "expired on"),
        ("future", now + dt.timedelta(days=1), "is not valid before"),
    ):
        made = init_keys(
            tmp_path / f"{name}.p12", passphrase=passphrase, days=1, algorithm="p256", now=start
        )
        with pytest.raises(SigningError, match=says):
            load_signer_key(made.pkcs12_path, passphrase)


def test_an_empty_passphrase_variable_is_named_as_empty(dev_key, monkeypatch) -> None:
    """An empty $MIR_SIGNING_PASSPHRASE (an EnvironmentFile line that lost its value) is said
    to be empty, not reported as a wrong passphrase or a broken key file."""
    from reports.sign.keys import load_signer_from_config

    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", "")
    with pytest.raises(SigningError) as caught:
        load_signer_from_config(SigningConfig(pkcs12=str(dev_key.p12)))
    assert str(caught.value) == (
        "the signing passphrase is empty (environment variable MIR_SIGNING_PASSPHRASE)"
    )


def _self_signed(name: str, key, not_after: dt.datetime, *, issuer=None) -> x509.Certificate:
    """A certificate of `name` for `key`'s public key, signed by `issuer` ((name, key)) or itself."""
    issuer_name, issuer_key = issuer or (name, key)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - dt.timedelta(days=400))
        .not_valid_after(not_after)
        .sign(
            issuer_key,
            None if isinstance(issuer_key, ed25519.Ed25519PrivateKey) else hashes.SHA256(),
        )
    )


def test_a_key_whose_issuer_expired_is_refused(tmp_path) -> None:
    """Every certificate of the key's path counts: a valid signer issued by a CA that expired
    yesterday makes signatures `openssl cms -verify` rejects, so the key is refused."""
    now = dt.datetime.now(UTC)
    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    ca = _self_signed("Expired CA", ca_key, now - dt.timedelta(days=1))
    leaf = _self_signed(
        "Signer", leaf_key, now + dt.timedelta(days=30), issuer=("Expired CA", ca_key)
    )
    bundle = tmp_path / "issued.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"x", leaf_key, leaf, [ca], serialization.BestAvailableEncryption(b"a passphrase")
        )
    )
    with pytest.raises(SigningError, match="the certificate CN=Expired CA expired on"):
        load_signer_key(bundle, b"a passphrase")


def test_of_two_issuer_certificates_the_one_valid_now_is_on_the_path(tmp_path) -> None:
    """A bundle holding the CA's current certificate and its successor (same name and key, valid
    only from next year): the path runs through the one valid now, so the key opens."""
    now = dt.datetime.now(UTC)
    ca_key, leaf_key = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    current = _self_signed("Test CA", ca_key, now + dt.timedelta(days=100))
    successor = _self_signed("Test CA", ca_key, now + dt.timedelta(days=800))  # from day 400
    leaf = _self_signed("Signer", leaf_key, now + dt.timedelta(days=30), issuer=("Test CA", ca_key))
    bundle = tmp_path / "issued.p12"
    bundle.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"x",
            leaf_key,
            leaf,
            [successor, current],
            serialization.BestAvailableEncryption(b"a passphrase"),
        )
    )
    key = load_signer_key(bundle, b"a passphrase")
    assert key.path == (leaf, current)


def test_a_key_of_another_type_is_refused_when_opened(tmp_path) -> None:
    """An Ed25519 key cannot sign the CMS and PAdES signatures: refused when the key is opened
    (`mir daily`'s key stage, before the load), not at the report stage after it."""
    key = ed25519.Ed25519PrivateKey.generate()
    cert = _self_signed("Ed25519 signer", key, dt.datetime.now(UTC) + dt.timedelta(days=30))
    path = tmp_path / "ed25519.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"x", key, cert, None, serialization.BestAvailableEncryption(b"a passphrase")
        )
    )
    with pytest.raises(SigningError, match="unsupported key type Ed25519PrivateKey; use RSA or EC"):
        load_signer_key(path, b"a passphrase")


def test_a_pkcs12_file_without_a_key_or_certificate_is_named_so(tmp_path) -> None:
    """A PKCS#12 file holding only a certificate, or only a key, is refused with that said (not
    an internal error)."""
    key = generate_development_key(algorithm="p256")
    encryption = serialization.BestAvailableEncryption(b"a passphrase")
    for name, private_key, cert in (
        ("cert-only", None, key.certificate),
        ("key-only", key.private_key, None),
    ):
        path = tmp_path / f"{name}.p12"
        path.write_bytes(
            pkcs12.serialize_key_and_certificates(b"x", private_key, cert, None, encryption)
        )
        with pytest.raises(SigningError, match="holds no private key and certificate pair"):
            load_signer_key(path, b"a passphrase")


def test_certificate_lei_reads_the_identifier_in_any_case() -> None:
    """organizationIdentifier LEIXG-<LEI> names the LEI however a CA wrote its letters: the LEI
    compares upper-case with [firm] lei and the manifest's."""
    from reports.sign.keys import certificate_lei

    key = generate_development_key(
        algorithm="p256", subject="CN=s,O=Venue Ltd,2.5.4.97=leixg-5493001kjtiigc8y1r12"
    )
    assert certificate_lei(key.certificate) == "5493001KJTIIGC8Y1R12"


def test_a_subject_naming_the_lei_already_gets_no_second_identifier() -> None:
    """A --subject with its own organizationIdentifier keeps it: the certificate names one
    organizationIdentifier, not the configured LEI beside it a second time."""
    lei = "5493001KJTIIGC8Y1R12"
    key = generate_development_key(
        algorithm="p256", subject=f"CN=s,O=Venue Ltd,2.5.4.97=LEIXG-{lei}", lei=lei
    )
    names = key.certificate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    assert [a.value for a in names] == [f"LEIXG-{lei}"]
    plain = generate_development_key(algorithm="p256", subject="CN=s", lei=lei).certificate
    names = plain.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)
    assert [a.value for a in names] == [f"LEIXG-{lei}"]


def test_load_certificates_reads_pem_bundles_with_text_around_them(tmp_path) -> None:
    """`openssl pkcs12 -nokeys` and `openssl x509 -text` put text before the PEM block; a
    --trust file may hold several certificates (several firms', or a CA and its successor)."""
    from reports.sign.keys import load_certificates

    first, second = (generate_development_key(algorithm="p256").certificate for _ in range(2))
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(
        b"Bag Attributes\n    friendlyName: mir signer\nsubject=CN=x\n"
        + first.public_bytes(serialization.Encoding.PEM)
        + second.public_bytes(serialization.Encoding.PEM)
    )
    assert load_certificates(bundle) == [first, second]
    der = tmp_path / "one.der"
    der.write_bytes(first.public_bytes(serialization.Encoding.DER))
    assert load_certificates(der) == [first]


# --- mutation review of 2026-12-07 (signing, packaging, verification) --------------------------


def test_manifest_lists_the_inputs_by_file_name_whatever_their_hashes(tmp_path) -> None:
    """The inputs are in file-name order, so the same inputs give the same bytes in any order:
    two empty snapshot files share one SHA-256, and a sort by hash would keep them in the
    order they came in."""
    empty = hashlib.sha256(b"").hexdigest()
    inputs = {
        "volumes": {"sha256": empty, "rows": 0},
        "accounts": {"sha256": "f" * 64, "rows": 3},
        "price_history": {"sha256": empty, "rows": 0},
    }
    day = _day_dir(tmp_path / "out", "2026-03-03")
    first = write_manifest(day, inputs=inputs, config_sha256="c" * 64).read_bytes()
    reverse = dict(reversed(inputs.items()))
    again = write_manifest(day, inputs=reverse, config_sha256="c" * 64).read_bytes()
    assert again == first
    listed = [entry["file"] for entry in json.loads(first)["inputs"]]
    assert listed == ["accounts", "price_history", "volumes"]


def test_parse_manifest_refuses_a_file_listed_twice(tmp_path) -> None:
    """A manifest naming one file twice (two hashes for one name) is not a manifest."""
    from reports.sign.manifest import parse_manifest

    day = _day_dir(tmp_path / "out", "2026-03-03")
    manifest = json.loads(write_manifest(day, inputs=INPUTS, config_sha256="c" * 64).read_bytes())
    manifest["files"].append({**manifest["files"][0], "sha256": "0" * 64})
    with pytest.raises(ValueError, match=r"repeated file name 'exceptions\.csv'"):
        parse_manifest(canonical_json(manifest))


def test_broken_links_after_names_a_later_day_whose_package_holds_no_manifest(
    tmp_path, dev_key
) -> None:
    """Re-running a day whose next day is kept only as a package that cannot be read: the link
    cannot be shown to hold, so that day is named (not passed over in silence)."""
    out = tmp_path / "out"
    sign_manifest(
        write_manifest(_day_dir(out, "2026-03-02"), inputs=INPUTS, config_sha256="c" * 64),
        dev_key.key,
    )
    (out / "LEI1_2026-03-03.zip").write_bytes(b"not a zip: damaged in transfer")
    assert broken_links_after(out, dt.date(2026, 3, 2), "LEI1") == [dt.date(2026, 3, 3)]
