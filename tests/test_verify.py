"""`mir package` and `mir verify`: a package from a fake day directory, then tampering of every kind."""

from __future__ import annotations

import datetime as dt
import gc
import hashlib
import io
import json
import shutil
import stat
import struct
import tempfile
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from reports.errors import SigningError, VerificationError
from reports.sign.cms import sign_manifest
from reports.sign.keys import SignerKey, generate_development_key
from reports.sign.manifest import MANIFEST_NAME, SIGNATURE_NAME, write_manifest
from reports.sign.package import build_package, deterministic_zip
from reports.sign.pades import sign_pdf
from reports.sign.verify import REQUIRED_FILES, verify_package

AS_OF = "2026-03-03"
LEI = "5493001KJTIIGC8Y1R12"
CSVS = {
    "exceptions.csv": b"check_id,status,entity_type,entity_id\nSEG-01,breach,asset,BTC\n",
    "segregation.csv": b"asset,client_requirement,held,excess\nBTC,10.5,9,-1.5\n",
    "concentration.csv": b"check_id,entity_id,value\n",
    "capital.csv": b"line,item,amount\n1,own_funds,1000000.00\n",
    "stress.csv": b"scenario,cover1_usd,cover2_usd,total_shortfall_usd,insurance_fund_usd,status\n",
}
INPUTS = {"accounts": {"sha256": "a" * 64, "rows": 3}}


def summary_json(as_of: str) -> bytes:
    return (
        json.dumps(
            {"as_of": as_of, "run_id": "r-1", "status": "breach", "inputs": INPUTS}, indent=2
        )
        + "\n"
    ).encode()


def _pdfa3b(as_of: str = AS_OF) -> bytes:
    """A PDF/A-3b embedding the CSVs and the summary.json of `as_of`, as `mir report` does."""
    from weasyprint import HTML, Attachment

    when = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    files = [
        Attachment(
            string=data.decode(), name=name, relationship="Data", created=when, modified=when
        )
        for name, data in {**CSVS, "summary.json": summary_json(as_of)}.items()
    ]
    with (
        warnings.catch_warnings()
    ):  # WeasyPrint 70 leaks its ICC profile file handle (ResourceWarning)
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = HTML(string="<html lang='en'><title>t</title><p>report</p></html>").write_pdf(
            pdf_variant="pdf/a-3b", attachments=files
        )
        gc.collect()
    return pdf


@pytest.fixture(scope="module")
def signer() -> SignerKey:
    return generate_development_key(algorithm="p256")


@pytest.fixture(scope="module")
def unsigned_pdf() -> bytes:
    return _pdfa3b()


@pytest.fixture(scope="module")
def signed_pdf(unsigned_pdf, signer, tmp_path_factory) -> bytes:
    out = tmp_path_factory.mktemp("pdf") / "report.pdf"
    sign_pdf(unsigned_pdf, out, signer)
    return out.read_bytes()


_DAY_PDFS: dict[tuple[str, int], bytes] = {}


def day_pdf(signer: SignerKey, as_of: str) -> bytes:
    """The signed PDF of another day than AS_OF (its own summary.json embedded), made once."""
    key = (as_of, id(signer))
    if key not in _DAY_PDFS:
        with tempfile.TemporaryDirectory() as folder:
            out = Path(folder) / "report.pdf"
            sign_pdf(_pdfa3b(as_of), out, signer)
            _DAY_PDFS[key] = out.read_bytes()
    return _DAY_PDFS[key]


def make_day(
    out: Path,
    signer: SignerKey,
    pdf: bytes,
    *,
    manifest_signer: SignerKey | None = None,
    as_of: str = AS_OF,
    lei: str | None = None,
) -> Path:
    """A fake `mir report` output: signed PDF, CSVs, summary.json, manifest.json(.p7s)."""
    day = out / as_of
    day.mkdir(parents=True)
    (day / "report.pdf").write_bytes(pdf)
    for name, data in CSVS.items():
        (day / name).write_bytes(data)
    (day / "summary.json").write_bytes(summary_json(as_of))
    manifest = write_manifest(day, inputs=INPUTS, config_sha256="c" * 64, lei=lei)
    sign_manifest(manifest, manifest_signer or signer)
    return day


@pytest.fixture
def crt(tmp_path, signer) -> Path:
    path = tmp_path / "signer.crt"
    path.write_bytes(signer.certificate.public_bytes(serialization.Encoding.PEM))
    return path


def _write_config(path: Path) -> Path:
    path.write_text(f'[firm]\nlei = "{LEI}"\n')
    return path


@pytest.fixture(scope="module")
def _packaged_day(signer, signed_pdf, tmp_path_factory) -> tuple[Path, Path]:
    """A day made by make_day (out) and, apart from it, the same out after `mir package`
    (packaged): made once for the module, copied by out and package."""
    from click.testing import CliRunner

    from reports.cli import cli

    root = tmp_path_factory.mktemp("packaged")
    out, packaged = root / "out", root / "packaged"
    make_day(out, signer, signed_pdf)
    shutil.copytree(out, packaged)
    config = _write_config(root / "mir.toml")
    result = CliRunner().invoke(
        cli,
        ["package", "--as-of", AS_OF, "--out", str(packaged), "--config", str(config)],
        env={"MIR_DB": str(root / "mir.duckdb")},
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    return out, packaged


@pytest.fixture
def out(tmp_path, _packaged_day) -> Path:
    """The test's own copy of a day made by make_day (signer, signed_pdf)."""
    root = tmp_path / "out"
    shutil.copytree(_packaged_day[0], root)
    return root


@pytest.fixture
def config(tmp_path) -> Path:
    return _write_config(tmp_path / "mir.toml")


@pytest.fixture
def package(out, config, _packaged_day) -> Path:
    """`mir package` of out: out is now the test's copy of the module's packaged day (the same
    day, then packaged once for the module; the package took 0.1 s a test)."""
    shutil.rmtree(out)
    shutil.copytree(_packaged_day[1], out)
    return out / f"{LEI}_{AS_OF}.zip"


def _members(zip_path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(zip_path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _rezip(zip_path: Path, members: dict[str, bytes]) -> Path:
    """Rewrite the package with other members: what someone editing the zip would produce."""
    zip_path.write_bytes(deterministic_zip(members, dt.date.fromisoformat(AS_OF)))
    return zip_path


def _failed_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if ": FAILED: " in line]


# --- a good package ---------------------------------------------------------------------------


def test_package_then_verify_passes(package, crt, run_mir) -> None:
    assert package.is_file()
    assert sorted(_members(package)) == sorted(REQUIRED_FILES)

    result = run_mir("verify", package)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert not _failed_lines(result.output)
    assert "file report.pdf: ok" in "\n".join(lines)
    assert any(
        line.startswith("manifest signature (manifest.json.p7s): ok")
        and "untrusted (self-signed)" in line
        for line in lines
    )
    assert any(
        line.startswith("PDF signature (report.pdf): ok (PAdES B-B, covers the whole file")
        for line in lines
    )
    assert any(line.startswith("same signer: ok") for line in lines)
    assert "DEVELOPMENT KEY - NOT FOR SUBMISSION" in result.output
    # the last line too: without --trust anyone's key could have signed (tamper audit, 12-07)
    assert lines[-1].endswith(
        "all checks passed (integrity only: without --trust, who signed is not checked)"
    ), lines[-1]

    trusted = run_mir("verify", package, "--trust", crt)
    assert trusted.exit_code == 0, trusted.output
    assert "untrusted" not in trusted.output
    assert trusted.output.splitlines()[-1].endswith(": all checks passed"), trusted.output
    assert "trusted" in trusted.output
    # both signature lines say a development key signed (security review of 2026-12-06: the
    # PDF's line did not)
    for label in ("manifest signature (manifest.json.p7s): ok", "PDF signature (report.pdf): ok"):
        (line,) = [ln for ln in trusted.output.splitlines() if ln.startswith(label)]
        assert line.endswith("; warning: DEVELOPMENT KEY - NOT FOR SUBMISSION"), line


def test_verify_refuses_a_signer_outside_its_validity(
    package, crt, signer, run_mir, monkeypatch
) -> None:
    """Security review of 2026-12-05: `mir verify --trust signer.crt` accepted a package whose
    signing certificate had expired (or was not yet valid), which `openssl cms -verify` and
    `pdfsig` refuse: pyHanko does not check a trust anchor's dates."""
    import reports.sign.verify as verify_module

    certificate = signer.certificate
    for when, says in (
        (certificate.not_valid_after_utc + dt.timedelta(days=1), "expired on"),
        (certificate.not_valid_before_utc - dt.timedelta(days=1), "is not valid before"),
    ):
        monkeypatch.setattr(verify_module, "_now", lambda when=when: when)
        for args in ((), ("--trust", crt)):
            result = run_mir("verify", package, *args)
            assert result.exit_code == 4, result.output
            failed = _failed_lines(result.output)
            assert any(line.startswith("manifest signature") and says in line for line in failed)
            assert any(line.startswith("PDF signature") and says in line for line in failed)


def test_the_chain_link_check_accepts_a_predecessor_whose_key_expired_since(
    tmp_path, signer, signed_pdf, monkeypatch
) -> None:
    """Final review of 2026-12-05: the integrity check of the previous day's manifest (the
    hash chain's link) judged its certificate's dates, so a key that expired after signing
    yesterday's package blocked today's report. Keys rotate: the link checks integrity only."""
    import reports.sign.verify as verify_module
    from reports.sign.manifest import find_previous_manifest
    from reports.sign.verify import check_manifest_signature

    day = make_day(tmp_path / "out", signer, signed_pdf)
    later = signer.certificate.not_valid_after_utc + dt.timedelta(days=1)
    monkeypatch.setattr(verify_module, "_now", lambda: later)
    line = check_manifest_signature(
        (day / MANIFEST_NAME).read_bytes(), (day / SIGNATURE_NAME).read_bytes()
    )
    assert line.ok, line
    # the next day's manifest links to it (manifest._require_signed vouches for it)
    next_day = tmp_path / "out" / "2026-03-04"
    next_day.mkdir()
    (next_day / "summary.json").write_bytes(summary_json("2026-03-04"))
    previous = find_previous_manifest(tmp_path / "out", dt.date(2026, 3, 4), None)
    assert previous is not None
    manifest = write_manifest(next_day, inputs=INPUTS, config_sha256="c" * 64, run_id="r-1")
    assert json.loads(manifest.read_bytes())["previous_manifest_sha256"] == previous.sha256
    # while the package itself, checked now, says its certificate expired
    assert not verify_module.verify_directory(day).ok


def test_a_signing_time_outside_the_signers_validity_fails(signer) -> None:
    from reports.sign.verify import _validity_problem

    certificate = signer.certificate
    no_chain = {"certificates": None}
    assert _validity_problem(certificate, no_chain, None, None) is None
    inside = certificate.not_valid_before_utc + dt.timedelta(seconds=1)
    assert _validity_problem(certificate, no_chain, None, inside) is None
    before = certificate.not_valid_before_utc - dt.timedelta(days=2)
    problem = _validity_problem(certificate, no_chain, None, before)
    assert problem is not None and "outside the validity of the signer's certificate" in problem


def _stamped_day(
    root: Path,
    signer: SignerKey,
    unsigned: bytes,
    stamper: Any,
    at: dt.datetime | None,
    *,
    timestamped: bool | None = None,
) -> Path:
    """A day directory signed by `signer` at `at` (None: now), both signatures timestamped by
    `stamper`; `timestamped` is what the manifest records."""
    day = root / AS_OF
    day.mkdir(parents=True)
    sign_pdf(unsigned, day / "report.pdf", signer, timestamper=stamper, signing_time=at)
    for name, data in CSVS.items():
        (day / name).write_bytes(data)
    (day / "summary.json").write_bytes(summary_json(AS_OF))
    manifest = write_manifest(day, inputs=INPUTS, config_sha256="c" * 64, timestamped=timestamped)
    sign_manifest(manifest, signer, timestamper=stamper, signing_time=at)
    return day


def _timestamped_day(
    root: Path,
    signer: SignerKey,
    unsigned: bytes,
    when: dt.datetime,
    *,
    timestamped: bool | None = None,
    signing_time: dt.datetime | None = None,
) -> Any:
    """A day directory whose PDF and manifest signatures carry timestamps of a test TSA at
    `when` (signed at `signing_time`, default now); `timestamped` is what the manifest records.
    Returns the TSA's certificate."""
    from test_sign import _timestamper

    stamper = _timestamper(when)
    _stamped_day(root, signer, unsigned, stamper, signing_time, timestamped=timestamped)
    return x509.load_der_x509_certificate(stamper.tsa_cert.dump())


def test_a_trusted_timestamp_keeps_an_archived_package_verifying_after_its_key_expired(
    tmp_path, unsigned_pdf
) -> None:
    """Review of 2026-12-05: a regulator re-checking an archived package got "expired" once the
    signing certificate had expired, timestamped or not. A timestamp from a TSA that --trust
    covers proves when the signature was made: the certificates are judged at that time
    (ETSI EN 319 102-1's best signature time); without it, now."""
    from reports.sign.keys import generate_development_key
    from reports.sign.verify import verify_directory

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    signed = now - dt.timedelta(days=15)
    # valid from 20 days ago for 10 days: expired 10 days ago, valid when it signed
    old = generate_development_key(algorithm="p256", now=now - dt.timedelta(days=20), days=10)
    tsa = _timestamped_day(tmp_path / "t", old, unsigned_pdf, signed, signing_time=signed)
    day = tmp_path / "t" / AS_OF

    archived = verify_directory(day, trust=[old.certificate, tsa])
    assert archived.ok, [str(c) for c in archived.failures]
    for line in archived.checks:
        if "signature (" in line.name:
            assert "certificates judged at the timestamp's time" in line.detail, line
    # the TSA not trusted: its time is only a claim, and the certificate is judged now
    # (the failure names why: third diff review of 2026-12-05)
    for trust, why in (
        ([old.certificate], "its timestamp is by a TSA that --trust does not cover"),
        (None, "its timestamp is by a TSA not checked (no --trust given)"),
    ):
        failed = verify_directory(day, trust=trust).failures
        assert {c.name.split(" ")[0] for c in failed} == {"manifest", "PDF"}, failed
        assert all("expired on" in c.detail and why in c.detail for c in failed), failed
    # no timestamp at all (B-B): expired
    plain = make_day(tmp_path / "plain", old, _signed_at(unsigned_pdf, old, signed, tmp_path))
    failed = verify_directory(plain, trust=[old.certificate, tsa]).failures
    assert {c.name.split(" ")[0] for c in failed} >= {"manifest", "PDF"}, failed
    assert any(
        "no timestamp proves an earlier signing: the signature carries no timestamp" in c.detail
        for c in failed
    )


def _stamper_under(signer: SignerKey, when: dt.datetime) -> Any:
    """A DummyTimeStamper at `when` whose TSA certificate the signer's own key issued (what the
    holder of an expired signing key can make), valid around now."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "minted TSA")]))
        .issuer_name(signer.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=300))
        .not_valid_after(now + dt.timedelta(days=300))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(signer.private_key, hashes.SHA256())
    )
    return _stamper(cert, key, when)


def test_a_timestamp_cannot_revive_an_expired_key_through_its_own_or_an_expired_tsa(
    tmp_path, unsigned_pdf
) -> None:
    """Diff review of 2026-12-05: the holder of an expired signing key minted a TSA certificate
    under that key, backdated a token into its validity and signed a package today: with
    --trust signer.crt (the TSA's anchor too) it verified, certificates judged at the forged
    time. An expired TSA counted as trusted too. Neither establishes the signing time now."""
    from reports.sign.keys import generate_development_key
    from reports.sign.verify import verify_directory

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    old = generate_development_key(algorithm="p256", now=now - dt.timedelta(days=100), days=80)
    backdated = now - dt.timedelta(days=60)  # inside the key's validity
    stamper = _stamper_under(old, backdated)
    day = _stamped_day(tmp_path / "minted", old, unsigned_pdf, stamper, backdated)
    failed = verify_directory(day, trust=[old.certificate]).failures
    assert {c.name.split(" ")[0] for c in failed} == {"manifest", "PDF"}, failed
    # refused through the expired signer certificate it chains to (or the signer's own key)
    assert all("its timestamp is by a TSA" in c.detail for c in failed), failed
    # an honest TSA whose certificate has expired since (valid from 61 to 30 days ago)
    tsa = _timestamped_day(tmp_path / "e", old, unsigned_pdf, backdated, signing_time=backdated)
    assert tsa.not_valid_after_utc < now
    expired = tmp_path / "e" / AS_OF
    failed = verify_directory(expired, trust=[old.certificate, tsa]).failures
    assert {c.name.split(" ")[0] for c in failed} == {"manifest", "PDF"}, failed
    assert all("expired on" in c.detail and "is not valid now" in c.detail for c in failed), failed


def _signed_at(unsigned: bytes, signer: SignerKey, when: dt.datetime, tmp_path: Path) -> bytes:
    out = tmp_path / "signed-at.pdf"
    sign_pdf(unsigned, out, signer, signing_time=when)
    return out.read_bytes()


def _without_timestamp(signature: bytes) -> bytes:
    """The CMS signature with its unsigned attributes (the timestamp token) removed: the signed
    digest and the signature value stay valid."""
    from asn1crypto import cms

    info = cms.ContentInfo.load(signature)
    signer_info = info["content"]["signer_infos"][0]
    assert signer_info["unsigned_attrs"].native is not None
    signer_info["unsigned_attrs"] = None
    return info.dump(force=True)


def test_a_timestamp_stripped_from_the_manifest_signature_is_found(
    tmp_path, signer, unsigned_pdf, crt
) -> None:
    """Review of 2026-12-05: removing the timestamp token from manifest.json.p7s (B-T to B-B)
    went unnoticed, since no hash covers the .p7s. The manifest now signs whether its
    signatures were timestamped."""
    from reports.sign.verify import verify_directory

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    _timestamped_day(tmp_path / "t", signer, unsigned_pdf, now, timestamped=True)
    day = tmp_path / "t" / AS_OF
    assert json.loads((day / MANIFEST_NAME).read_bytes())["timestamped"] is True
    assert verify_directory(day, trust=crt).ok
    signature = day / SIGNATURE_NAME
    signature.write_bytes(_without_timestamp(signature.read_bytes()))
    failed = verify_directory(day, trust=crt).failures
    assert [c.name.split(" ")[0] for c in failed] == ["manifest"], failed
    assert "carries no timestamp token" in failed[0].detail
    # a manifest that does not say so (older packages, B-B by design) is judged as before
    _timestamped_day(tmp_path / "u", signer, unsigned_pdf, now)
    other = tmp_path / "u" / AS_OF
    assert "timestamped" not in json.loads((other / MANIFEST_NAME).read_bytes())
    (other / SIGNATURE_NAME).write_bytes(_without_timestamp((other / SIGNATURE_NAME).read_bytes()))
    assert verify_directory(other, trust=crt).ok


def test_timestamps_are_checked_and_an_untrusted_tsa_is_only_a_claim(
    tmp_path, signer, unsigned_pdf, crt
) -> None:
    """Security review of 2026-12-05: a rogue TSA's timestamp was shown as the package's time,
    and the manifest signature's token was never looked at."""
    from reports.sign.verify import verify_directory

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    tsa = _timestamped_day(tmp_path / "ok", signer, unsigned_pdf, now)
    day = tmp_path / "ok" / AS_OF
    report = verify_directory(day, trust=crt)
    assert report.ok, [str(c) for c in report.failures]
    lines = {c.name.split(" ")[0]: c for c in report.checks}
    for name in ("manifest", "PDF"):
        line = lines[name]
        assert f"timestamp {now.isoformat()} (untrusted TSA)" in line.detail, line
        assert any("TSA that --trust does not cover" in w for w in line.warnings), line
    assert lines["manifest"].detail.startswith("CAdES B-T")
    # without --trust (second diff review of 2026-12-05: "timestamp by not checked ...")
    bare = {c.name.split(" ")[0]: c for c in verify_directory(day).checks}
    assert any(
        w.startswith("timestamp by a TSA not checked (no --trust given)")
        for w in bare["manifest"].warnings
    ), bare["manifest"]
    # the TSA among the trusted certificates: its time is established
    both = verify_directory(day, trust=[signer.certificate, tsa])
    assert both.ok, [str(c) for c in both.failures]
    detail = {c.name.split(" ")[0]: c.detail for c in both.checks}
    assert f"timestamp {now.isoformat()} (TSA trusted)" in detail["PDF"]
    assert f"timestamp {now.isoformat()} (TSA trusted)" in detail["manifest"]
    # a timestamp from before the signer's certificate existed fails both signatures
    early = signer.certificate.not_valid_before_utc - dt.timedelta(days=3)
    _timestamped_day(tmp_path / "early", signer, unsigned_pdf, early)
    failed = verify_directory(tmp_path / "early" / AS_OF, trust=crt).failures
    assert {c.name.split(" ")[0] for c in failed} == {"manifest", "PDF"}
    assert all("outside the validity of the signer's certificate" in c.detail for c in failed)


def test_the_signed_lei_binds_the_package_name(tmp_path, signer, signed_pdf, run_mir) -> None:
    """Security review of 2026-12-05: nothing signed named the firm, so a package renamed
    OTHERFIRM..._<date>.zip verified (and escaped its own hash chain)."""
    out = tmp_path / "out"
    make_day(out, signer, signed_pdf, lei=LEI)
    config = tmp_path / "mir.toml"
    config.write_text(f'[firm]\nlei = "{LEI}"\n')
    assert run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config).exit_code == 0
    package = out / f"{LEI}_{AS_OF}.zip"
    assert json.loads(_members(package)["manifest.json"])["lei"] == LEI
    assert run_mir("verify", package).exit_code == 0
    renamed = tmp_path / f"OTHERFIRM00000000000X_{AS_OF}.zip"
    shutil.copy(package, renamed)
    result = run_mir("verify", renamed)
    assert result.exit_code == 4, result.output
    assert any(
        f"is named for OTHERFIRM00000000000X, its manifest is of LEI {LEI}" in line
        for line in _failed_lines(result.output)
    )
    # `mir package` under another LEI refuses the day rather than make such a zip
    other = tmp_path / "other.toml"
    other.write_text('[firm]\nlei = "UNKNOWNLEI"\n')
    refused = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", other, "--force")
    assert refused.exit_code == 2, refused.output  # the configuration's LEI: a usage error
    assert f"its manifest is of LEI {LEI}" in refused.output


def test_verify_package_library_function(package, crt) -> None:
    report = verify_package(package, trust=crt)
    assert report.ok
    assert report.manifest is not None and report.manifest["as_of"] == AS_OF
    assert {line.name for line in report.checks} >= {
        "manifest.json",
        "file report.pdf",
        "unlisted files",
        "required files",
        "manifest signature (manifest.json.p7s)",
        "PDF signature (report.pdf)",
        "same signer",
    }


def test_package_is_deterministic_and_plain(package, out, config, run_mir) -> None:
    first = package.read_bytes()
    again = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config, "--force")
    assert again.exit_code == 0, again.output
    assert "replaced" in again.output
    assert package.read_bytes() == first
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
        assert [i.filename for i in infos] == sorted(i.filename for i in infos)
        for info in infos:
            assert info.date_time == (2026, 3, 3, 0, 0, 0)
            assert info.extra == b"" and info.comment == b""
            assert info.external_attr >> 16 == 0o100644
        assert archive.comment == b""
        assert archive.read("exceptions.csv") == CSVS["exceptions.csv"]


def test_package_refuses_to_overwrite(package, out, config, run_mir) -> None:
    before = package.read_bytes()
    package.write_bytes(b"an older package")
    result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config)
    assert result.exit_code == 2
    assert "already exists; use --force to replace it" in result.output
    assert package.read_bytes() == b"an older package"
    assert before != b"an older package"


def test_superseding_keeps_the_old_package_until_the_new_one_is_complete(
    package, out, monkeypatch
) -> None:
    """The daily job's re-run (supersede=True): the package path never stands empty."""
    old = b"yesterday's run of this day"
    package.write_bytes(old)
    as_of = dt.date.fromisoformat(AS_OF)
    # a day directory that no longer verifies: refused, the old package untouched, none kept
    day_csv = out / AS_OF / "segregation.csv"
    good_csv = day_csv.read_bytes()
    day_csv.write_bytes(good_csv + b"tampered\n")
    with pytest.raises(VerificationError):
        build_package(out, as_of, lei=LEI, supersede=True)
    assert package.read_bytes() == old
    assert not (out / "superseded").exists()
    day_csv.write_bytes(good_csv)
    # stopped at the last step (the rename): the old package is still in place, no temporary
    # file is left, and at most an extra copy sits in superseded/

    def interrupted(src: object, dst: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("reports.sign.package.os.replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build_package(out, as_of, lei=LEI, supersede=True)
    monkeypatch.undo()
    assert package.read_bytes() == old
    assert not list(out.glob(".*.tmp"))
    # completed: the new package in place, the old one kept byte for byte
    built = build_package(out, as_of, lei=LEI, supersede=True)
    assert built.path == package and built.replaced
    assert built.superseded is not None and built.superseded.parent == out / "superseded"
    assert built.superseded.read_bytes() == old
    assert package.read_bytes() != old and built.report.ok


def test_package_default_lei(out, run_mir, tmp_path) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("")
    result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", empty)
    assert result.exit_code == 0, result.output
    assert (out / f"UNKNOWNLEI_{AS_OF}.zip").is_file()


# --- packaging refuses a day directory that does not match its manifest -------------------------


def test_package_refuses_a_modified_file(out, config, run_mir) -> None:
    (out / AS_OF / "segregation.csv").write_bytes(
        b"asset,client_requirement,held,excess\nBTC,10.5,19,8.5\n"
    )
    result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config)
    assert result.exit_code == 4
    assert "refusing to package" in result.output
    assert "file segregation.csv: FAILED" in result.output
    assert not (out / f"{LEI}_{AS_OF}.zip").exists()


def test_package_refuses_a_missing_or_extra_file(out, config, run_mir) -> None:
    (out / AS_OF / "stress.csv").unlink()
    result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config)
    assert result.exit_code == 4
    assert "file stress.csv: FAILED: listed in manifest.json but missing" in result.output

    (out / AS_OF / "stress.csv").write_bytes(CSVS["stress.csv"])
    (out / AS_OF / "notes.txt").write_text("draft")
    result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config)
    assert result.exit_code == 4
    assert "unlisted files: FAILED: not in manifest.json: notes.txt" in result.output


def test_package_needs_a_report_first(tmp_path, config, out, run_mir) -> None:
    result = run_mir("package", "--as-of", "2026-03-04", "--out", out, "--config", config)
    assert result.exit_code == 2
    assert "mir report --as-of 2026-03-04" in result.output

    (out / AS_OF / SIGNATURE_NAME).unlink()
    result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config)
    assert result.exit_code == 2
    assert SIGNATURE_NAME in result.output


# --- verify catches every kind of tampering ----------------------------------------------------

# what the failing line must say for a flipped byte in each kind of file
TAMPERED = {
    "report.pdf": "file report.pdf: FAILED: sha256",
    "exceptions.csv": "file exceptions.csv: FAILED: sha256",
    "summary.json": "file summary.json: FAILED: sha256",
    MANIFEST_NAME: "manifest signature (manifest.json.p7s): FAILED: manifest.json does not match the signed digest",
    SIGNATURE_NAME: "manifest signature (manifest.json.p7s): FAILED",
}


@pytest.mark.parametrize("member", list(TAMPERED))
def test_verify_fails_on_one_flipped_byte(package, run_mir, member) -> None:
    members = _members(package)
    data = bytearray(members[member])
    data[len(data) // 2] ^= 0x01
    members[member] = bytes(data)
    result = run_mir("verify", _rezip(package, members))
    assert result.exit_code == 4, result.output
    failed = _failed_lines(result.output)
    assert any(line.startswith(TAMPERED[member]) for line in failed), result.output
    assert "verification FAILED" in result.output


def test_verify_names_a_member_corrupted_inside_the_zip(package, run_mir) -> None:
    raw = bytearray(package.read_bytes())
    with zipfile.ZipFile(package) as archive:
        info = archive.getinfo("summary.json")
    data_start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    raw[data_start + info.compress_size // 2] ^= 0x01
    package.write_bytes(bytes(raw))
    result = run_mir("verify", package)
    assert result.exit_code == 4
    assert any(
        line.startswith("file summary.json: FAILED") for line in _failed_lines(result.output)
    ), result.output


def test_verify_fails_on_an_extra_file(package, run_mir) -> None:
    members = _members(package)
    members["readme.txt"] = b"unsigned note"
    result = run_mir("verify", _rezip(package, members))
    assert result.exit_code == 4
    assert "unlisted files: FAILED: not in manifest.json: readme.txt" in result.output


def test_verify_fails_on_a_missing_file(package, run_mir) -> None:
    members = _members(package)
    del members["capital.csv"]
    result = run_mir("verify", _rezip(package, members))
    assert result.exit_code == 4
    assert "file capital.csv: FAILED: listed in manifest.json but missing" in result.output


def test_verify_fails_on_a_missing_signature(package, run_mir) -> None:
    members = _members(package)
    del members[SIGNATURE_NAME]
    result = run_mir("verify", _rezip(package, members))
    assert result.exit_code == 4
    assert "manifest signature (manifest.json.p7s): FAILED: missing" in result.output


def test_verify_with_someone_elses_certificate_fails(package, crt, run_mir, tmp_path) -> None:
    other_certificate = generate_development_key(algorithm="p256").certificate
    other = tmp_path / "other.crt"
    other.write_bytes(other_certificate.public_bytes(serialization.Encoding.PEM))
    result = run_mir("verify", package, "--trust", other)
    assert result.exit_code == 4
    failed = _failed_lines(result.output)
    # both certificates by their fingerprints: a development key made again has the same
    # subject as the registered one (user review of 2026-12-06)
    ours = hashlib.sha256(
        x509.load_pem_x509_certificate(crt.read_bytes()).public_bytes(serialization.Encoding.DER)
    ).hexdigest()
    theirs = hashlib.sha256(other_certificate.public_bytes(serialization.Encoding.DER)).hexdigest()
    named = f"(certificate sha256 {ours[:16]}...) is not trusted by --trust (sha256 {theirs[:16]}"
    assert any(
        line.startswith("manifest signature (manifest.json.p7s): FAILED") and named in line
        for line in failed
    ), failed
    assert any(
        line.startswith("PDF signature (report.pdf): FAILED") and named in line for line in failed
    ), failed


def test_verify_fails_when_pdf_and_manifest_signers_differ(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    root = tmp_path / "mixed"
    day = make_day(
        root, signer, signed_pdf, manifest_signer=generate_development_key(algorithm="p256")
    )
    zip_path = _rezip(tmp_path / "mixed.zip", {p.name: p.read_bytes() for p in day.iterdir()})
    result = run_mir("verify", zip_path)
    assert result.exit_code == 4
    # each signature is sound on its own; only the comparison fails
    assert _failed_lines(result.output) == [
        line for line in _failed_lines(result.output) if line.startswith("same signer")
    ]
    assert "same signer: FAILED: report.pdf signed by" in result.output


def test_package_refuses_when_pdf_and_manifest_signers_differ(
    tmp_path, signer, signed_pdf, config, run_mir
) -> None:
    root = tmp_path / "mixed"
    make_day(root, signer, signed_pdf, manifest_signer=generate_development_key(algorithm="p256"))
    result = run_mir("package", "--as-of", AS_OF, "--out", root, "--config", config)
    assert result.exit_code == 4
    assert "same signer: FAILED: report.pdf signed by" in result.output


def test_verify_fails_when_the_pdf_was_changed_after_signing(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    """An incremental update appended after signing, with a manifest re-made to match it."""
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    writer = IncrementalPdfFileWriter(io.BytesIO(signed_pdf))
    writer.root["/Lang"] = generic.TextStringObject("fr")
    writer.update_root()
    buffer = io.BytesIO()
    writer.write(buffer)
    root = tmp_path / "amended"
    make_day(root, signer, buffer.getvalue())
    members = {p.name: p.read_bytes() for p in (root / AS_OF).iterdir()}
    zip_path = _rezip(tmp_path / "amended.zip", members)

    result = run_mir("verify", zip_path)
    assert result.exit_code == 4
    failed = _failed_lines(result.output)
    assert failed == [
        line for line in failed if line.startswith("PDF signature (report.pdf): FAILED")
    ]
    assert "does not cover the whole file" in failed[0]


def test_verify_rejects_a_non_zip_and_a_missing_file(tmp_path, run_mir) -> None:
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"not a zip at all")
    result = run_mir("verify", junk)
    assert result.exit_code == 4
    assert "zip archive: FAILED" in result.output

    missing = run_mir("verify", tmp_path / "nowhere.zip")
    assert missing.exit_code == 2
    assert "no package at" in missing.output


# "..\\": Windows zip tools split names at a backslash too
@pytest.mark.parametrize("evil", ["../evil.csv", "..\\evil.csv"])
def test_verify_refuses_path_traversal_entries(package, run_mir, evil) -> None:
    members = _members(package)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.writestr(evil, b"x")
    package.write_bytes(buffer.getvalue())
    result = run_mir("verify", package)
    assert result.exit_code == 4
    assert f"file {evil}: FAILED: not a plain file name" in result.output


def test_hash_chain_across_two_packaged_days(tmp_path, signer, signed_pdf) -> None:
    root = tmp_path / "out"
    previous = make_day(root, signer, day_pdf(signer, "2026-03-02"), as_of="2026-03-02")
    make_day(root, signer, signed_pdf)
    manifest = json.loads((root / AS_OF / MANIFEST_NAME).read_bytes())
    expected = hashlib.sha256((previous / MANIFEST_NAME).read_bytes()).hexdigest()
    assert manifest["previous_manifest_sha256"] == expected
    built = build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI)
    assert built.report.ok
    assert f"previous manifest {expected[:16]}" in built.report.lines()[0]


def _two_packaged_days(root: Path, signer: SignerKey, pdf: bytes) -> tuple[Path, Path]:
    make_day(root, signer, day_pdf(signer, "2026-03-02"), as_of="2026-03-02")
    first = build_package(root, dt.date(2026, 3, 2), lei=LEI).path
    make_day(root, signer, pdf)
    return first, build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI).path


def _line(report_lines: list[str], name: str) -> str:
    [line] = [ln for ln in report_lines if ln.startswith(f"{name}: ")]
    return line


def test_verify_checks_the_hash_chain_against_the_package_beside_it(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    first, second = _two_packaged_days(tmp_path / "out", signer, signed_pdf)
    report = verify_package(second)
    assert report.ok, report.lines()
    assert _line(report.lines(), "hash chain") == (
        f"hash chain: ok (links to the manifest of {first.name}, its signature intact)"
    )
    assert _line(verify_package(first).lines(), "hash chain").startswith(
        "hash chain: ok (first of its chain"
    )
    # The earlier day re-run (another manifest) after the later one was made: the link breaks.
    members = _members(first)
    members[MANIFEST_NAME] = members[MANIFEST_NAME].replace(b'"r-1"', b'"r-2"')
    _rezip(first, members)
    result = run_mir("verify", second)
    assert result.exit_code == 4, result.output
    [failed] = _failed_lines(result.output)
    assert failed.startswith("hash chain: FAILED: links to manifest ")
    assert f"but {first.name} holds manifest" in failed


def test_verify_fails_a_package_that_starts_a_chain_beside_its_predecessor(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    """A later day signed with no link (previous_manifest_sha256 null) while the earlier day's
    package lies beside it: the chain was cut, which DESIGN.md section 6 makes a failure
    (mutation review of 2026-12-06: reporting it as ok failed no test)."""
    first, second = _two_packaged_days(tmp_path / "out", signer, signed_pdf)
    day = tmp_path / "out" / AS_OF
    manifest = write_manifest(
        day, inputs=INPUTS, config_sha256="c" * 64, previous_manifest_sha256=None
    )
    signature = sign_manifest(manifest, signer)
    members = _members(second)
    members[MANIFEST_NAME] = manifest.read_bytes()
    members[signature.name] = signature.read_bytes()
    _rezip(second, members)
    report = verify_package(second)
    assert not report.ok
    assert _line(report.lines(), "hash chain") == (
        f"hash chain: FAILED: this manifest starts a chain, but {first.name} precedes it"
    )
    result = run_mir("verify", second)
    assert result.exit_code == 4, result.output
    assert _failed_lines(result.output) == [
        f"hash chain: FAILED: this manifest starts a chain, but {first.name} precedes it"
    ]


def test_repackaging_an_earlier_day_says_which_later_packages_it_unlinked(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    """Security review of 2026-12-05: `mir report` / `mir package --force` of an earlier day
    broke the later day's chain without a word (only `mir daily` warned); the break showed at
    the regulator's `mir verify`."""
    out = tmp_path / "out"
    _two_packaged_days(out, signer, signed_pdf)
    earlier = out / "2026-03-02"
    shutil.rmtree(earlier)
    make_day(out, signer, day_pdf(signer, "2026-03-02"), as_of="2026-03-02")
    # another manifest for the earlier day (a re-run under another configuration): the later
    # package links to the old one
    manifest = write_manifest(earlier, inputs=INPUTS, config_sha256="d" * 64)
    sign_manifest(manifest, signer)
    config = tmp_path / "mir.toml"
    config.write_text(f'[firm]\nlei = "{LEI}"\n')
    result = run_mir(
        "package", "--as-of", "2026-03-02", "--out", out, "--config", config, "--force"
    )
    assert result.exit_code == 0, result.output
    assert (
        f"warning: the package of {AS_OF} does not link to this run's manifest of 2026-03-02"
    ) in result.stderr
    assert "run `mir report` and `mir package --force` for " + AS_OF in result.stderr


def test_package_checks_the_hash_chain_against_the_package_beside_it(
    tmp_path, signer, signed_pdf
) -> None:
    """Review of 2026-12-04: `mir package` warned "not checked: no earlier package beside this
    one (pass --previous)" with the previous day's package right beside it, and it has no
    --previous. It now checks the link against the day directory the manifest links to, and
    refuses a broken one."""
    root = tmp_path / "out"
    first, second = _two_packaged_days(root, signer, signed_pdf)
    rebuilt = build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI, force=True)
    assert _line(rebuilt.report.lines(), "hash chain") == (
        "hash chain: ok (links to the manifest of 2026-03-02)"
    )
    assert not [w for w in rebuilt.report.warnings if "not checked" in w]
    # the earlier package removed (a day reported, its package lost or never made): the link
    # is to that day's directory, which still holds the manifest, so packaging goes on, saying
    # that `mir verify` (which reads the zips) will fail the chain until that package is back
    first.unlink()
    without = build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI, force=True)
    assert without.report.ok
    (warning,) = [w for w in without.report.warnings if "has no package" in w]
    assert warning.startswith("the day this package links to, 2026-03-02, has no package")
    assert "mir package --as-of 2026-03-02" in warning
    # the earlier day re-run after this one was reported: the link no longer holds, refused
    earlier = root / "2026-03-02" / MANIFEST_NAME
    earlier.write_bytes(earlier.read_bytes().replace(b'"r-1"', b'"r-2"'))
    with pytest.raises(VerificationError, match="hash chain: FAILED: links to manifest "):
        build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI, force=True)
    assert second.exists()  # the package already there is left as it was


def test_the_chain_links_to_the_package_once_its_day_directory_is_gone(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    """A retention policy that keeps only the submitted zips: the next day links to the latest
    earlier package, and `mir verify` passes its chain. Before (2026-12-04), the manifest linked
    to day directories only: it started a new chain and `mir verify` failed it."""
    root = tmp_path / "out"
    _, second = _two_packaged_days(root, signer, signed_pdf)
    shutil.rmtree(root / "2026-03-02")
    shutil.rmtree(root / AS_OF)
    # another firm's package of a later day in the same folder is not this chain's
    (root / "OTHERLEI_2026-03-04.zip").write_bytes(b"not this firm's")
    make_day(root, signer, day_pdf(signer, "2026-03-05"), as_of="2026-03-05", lei=LEI)
    third = build_package(root, dt.date(2026, 3, 5), lei=LEI)
    assert third.report.ok, third.report.lines()
    assert not [w for w in third.report.warnings if "has no package" in w]
    linked = json.loads(_members(third.path)[MANIFEST_NAME])["previous_manifest_sha256"]
    assert linked == hashlib.sha256(_members(second)[MANIFEST_NAME]).hexdigest()
    result = run_mir("verify", third.path)
    assert result.exit_code == 0, result.output
    assert (
        f"hash chain: ok (links to the manifest of {second.name}, its signature intact)"
        in result.output
    )
    # 2026-03-04 has no package: said, not failed (onboarding audit of 2026-12-07: a day
    # stored but never reported read "hash chain: ok" with nothing to show the gap)
    assert (
        "warning: the chain skips 1 day(s) between 2026-03-03 and 2026-03-05: no package of "
        "those dates is linked"
    ) in result.output
    assert "skips" not in run_mir("verify", second).output  # 03-02 -> 03-03: no gap
    # the earlier package altered: the next day is not chained onto it
    shutil.rmtree(root / "2026-03-05")
    members = _members(third.path)
    members[MANIFEST_NAME] = members[MANIFEST_NAME].replace(b'"r-1"', b'"r-2"')
    _rezip(third.path, members)
    with pytest.raises(SigningError, match=rf"previous day's package .*{third.path.name} does"):
        make_day(root, signer, day_pdf(signer, "2026-03-06"), as_of="2026-03-06", lei=LEI)


def test_package_warns_when_the_linked_days_package_holds_another_manifest(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    """The earlier day reported again (`mir report`) but not packaged: the next day links to its
    new manifest while its zip holds the old one, so `mir verify` will fail the chain."""
    root = tmp_path / "out"
    make_day(root, signer, day_pdf(signer, "2026-03-02"), as_of="2026-03-02", lei=LEI)
    build_package(root, dt.date(2026, 3, 2), lei=LEI)
    again = root / "2026-03-02" / MANIFEST_NAME
    again.write_bytes(again.read_bytes().replace(b'"c' + b"c" * 63, b'"d' + b"d" * 63))
    sign_manifest(again, signer)
    make_day(root, signer, signed_pdf, lei=LEI)
    second = build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI)
    assert second.report.ok
    (warning,) = [w for w in second.report.warnings if "holds another manifest" in w]
    assert warning.startswith("the package of 2026-03-02, the day this package links to, holds")
    assert "mir package --as-of 2026-03-02 --out " in warning and warning.endswith("--force`")
    result = run_mir("verify", second.path)  # what the warning announced
    assert result.exit_code == 4, result.output


def test_package_warnings_go_to_stderr_under_quiet_too(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    """README audit of 2026-12-07: `mir package -q` (help: "only errors and warnings") printed
    nothing and exited 0 for a package whose hash chain `mir verify` then failed, and without
    -q its warnings were stdout lines of the summary. They are warnings on stderr, as
    `mir report`'s and `mir daily`'s are."""
    root = tmp_path / "out"
    config = tmp_path / "mir.toml"
    config.write_text(f'[firm]\nlei = "{LEI}"\n')
    make_day(root, signer, day_pdf(signer, "2026-03-02"), as_of="2026-03-02", lei=LEI)
    build_package(root, dt.date(2026, 3, 2), lei=LEI)
    again = root / "2026-03-02" / MANIFEST_NAME
    again.write_bytes(again.read_bytes().replace(b'"c' + b"c" * 63, b'"d' + b"d" * 63))
    sign_manifest(again, signer)
    make_day(root, signer, signed_pdf, lei=LEI)
    args = ("package", "--as-of", AS_OF, "--out", root, "--config", config)
    quiet = run_mir(*args, "-q")
    assert quiet.exit_code == 0, quiet.output
    assert quiet.stdout == ""
    assert "warning: the package of 2026-03-02, the day this package links to" in quiet.stderr
    loud = run_mir(*args, "--force")
    assert loud.exit_code == 0, loud.output
    assert "warning: " not in loud.stdout and "holds another manifest" in loud.stderr


def test_verify_without_the_earlier_package_warns_or_takes_previous(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    first, second = _two_packaged_days(tmp_path / "out", signer, signed_pdf)
    alone = tmp_path / "alone"
    alone.mkdir()
    moved = second.rename(alone / second.name)
    result = run_mir("verify", moved)
    assert result.exit_code == 0, result.output
    # NOT CHECKED, not "ok" (user review of 2026-12-06)
    assert (
        "hash chain: NOT CHECKED (links to manifest " in result.output
        and "warning: no earlier package beside this one to check the link against (pass "
        "--previous)"
        in result.output
    ), result.output
    assert "hash chain: ok" not in result.output
    # a renamed copy says its name was not checked
    renamed = moved.rename(alone / "copy.zip")
    copied = run_mir("verify", renamed)
    assert copied.exit_code == 0, copied.output
    assert copied.output.splitlines()[0] == (
        f"package name: NOT CHECKED (copy.zip); warning: the name is not <LEI>_{AS_OF}.zip: no "
        "date or LEI in it to compare"
    )
    renamed.rename(moved)
    given = run_mir("verify", moved, "--previous", first)
    assert given.exit_code == 0, given.output
    assert (
        f"hash chain: ok (links to the manifest of {first.name}, its signature intact)"
        in given.output
    )
    # the day directory works as --previous too
    by_dir = run_mir("verify", moved, "--previous", tmp_path / "out" / "2026-03-02")
    assert (
        "hash chain: ok (links to the manifest of 2026-03-02, its signature intact)"
        in by_dir.output
    )


@pytest.mark.parametrize("day", ["2026-03-06", "2026-03-02"])  # a later day, an earlier one
def test_verify_fails_a_package_named_for_another_day(package, run_mir, day) -> None:
    renamed = package.rename(package.with_name(f"{LEI}_{day}.zip"))
    result = run_mir("verify", renamed)
    assert result.exit_code == 4, result.output
    assert _failed_lines(result.output) == [
        f"package name: FAILED: {renamed.name} is named for {day}, its manifest is as of {AS_OF}"
    ]


def test_mir_package_clears_what_a_killed_run_left(out, config, run_mir) -> None:
    """Crash review of 2026-12-05: `mir package` on its own neither put back a day directory
    a killed run had moved aside (it said "no day directory", exit 2) nor removed a package
    half-written by a killed run (.<name>.zip.*.tmp, kept for good)."""
    day = out / AS_OF
    day.rename(out / f".{AS_OF}.old-4242")
    partial = out / f".{LEI}_{AS_OF}.zip.k1ll3d.tmp"
    partial.write_bytes(b"PK\x03\x04 truncated")
    result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config)
    assert result.exit_code == 0, result.output
    assert day.is_dir() and not partial.exists()
    assert sorted(p.name for p in out.iterdir()) == [AS_OF, f"{LEI}_{AS_OF}.zip"]
    assert run_mir("verify", out / f"{LEI}_{AS_OF}.zip").exit_code == 0


def test_verify_judges_the_date_in_a_kept_package_name_too(package, run_mir) -> None:
    """History review of 2026-12-05: a package kept aside by the daily job is named
    <LEI>_<date>.<UTC stamp>.zip; a day's package copied under another day's such name
    passed, its name never compared with its manifest."""
    kept = package.parent / "superseded"
    kept.mkdir()
    wrong = kept / f"{LEI}_2026-03-06.20261205T000000000000Z.zip"
    shutil.copy(package, wrong)
    result = run_mir("verify", wrong)
    assert result.exit_code == 4, result.output
    assert _failed_lines(result.output) == [
        f"package name: FAILED: {wrong.name} is named for 2026-03-06, its manifest is as of {AS_OF}"
    ]
    right = kept / f"{LEI}_{AS_OF}.20261205T000000000000Z.zip"
    shutil.copy(package, right)
    assert f"package name: ok ({right.name})" in run_mir("verify", right).output
    # the name the daily job gives a package it keeps aside is of that form
    from reports.sign.manifest import KEPT_PACKAGE_NAME
    from reports.sign.package import _keep_aside

    assert KEPT_PACKAGE_NAME.fullmatch(_keep_aside(package).name)


# --- review of 2026-12-04 (fourth session): hostile zips, consistency, key usage ---------------


def _zip_with(members: dict[str, bytes], tweak: dict[str, dict[str, int]]) -> bytes:
    """A zip of `members` whose entries named in `tweak` get other header fields
    (flag_bits, compress_type, external_attr), as a hostile or foreign tool would write them."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 3, 3, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    raw = bytearray(buffer.getvalue())
    for name, fields in tweak.items():
        encoded = name.encode()
        for signature, offset in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = 0
            while (at := raw.find(signature, at)) >= 0:
                name_at = at + (30 if signature == b"PK\x03\x04" else 46)
                if raw[name_at : name_at + len(encoded)] == encoded:
                    if "flag_bits" in fields:
                        raw[at + offset : at + offset + 2] = fields["flag_bits"].to_bytes(
                            2, "little"
                        )
                    if "compress_type" in fields:
                        raw[at + offset + 2 : at + offset + 4] = fields["compress_type"].to_bytes(
                            2, "little"
                        )
                    if "external_attr" in fields and signature == b"PK\x01\x02":
                        raw[at + 38 : at + 42] = fields["external_attr"].to_bytes(4, "little")
                at += 4
    return bytes(raw)


@pytest.mark.parametrize(
    "tweak",
    [{"flag_bits": 0x1}, {"compress_type": 99}, {"flag_bits": 0x20}],
    ids=["encrypted", "unknown-method", "patched-data"],
)
def test_verify_fails_an_unreadable_entry_without_crashing(package, run_mir, tweak) -> None:
    """Found in review: an entry flagged encrypted, or of a compression method Python does not
    know, ended `mir verify` with "internal error" and no check lines."""
    package.write_bytes(_zip_with(_members(package), {"exceptions.csv": tweak}))
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    assert "internal error" not in result.output
    assert "file exceptions.csv: FAILED: cannot be read from the zip" in result.output


def test_verify_fails_a_member_whose_crc_is_not_the_one_declared(package, run_mir) -> None:
    """Each member is read in one pass (member_stream_problem), no longer through zipfile,
    which checked its CRC-32: a CRC the zip declares in both headers that its bytes do not
    have still fails (review of 2026-12-07)."""
    raw = package.read_bytes()
    with zipfile.ZipFile(package) as archive:
        declared = archive.getinfo("exceptions.csv").CRC.to_bytes(4, "little")
    assert raw.count(declared) == 2  # the local header and the directory's entry
    package.write_bytes(
        raw.replace(declared, (int.from_bytes(declared, "little") ^ 1).to_bytes(4, "little"))
    )
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    assert "file exceptions.csv: FAILED: cannot be read from the zip: its CRC-32 is " in (
        result.output
    )
    assert "zip archive" not in result.output  # laid out as a package: only the CRC is wrong


def _zip_with_hidden_tail(members: dict[str, bytes], name: str, tail: bytes, method: int) -> bytes:
    """A zip laid out as `mir package` writes one, whose member `name` declares its genuine
    size and CRC while its stored or deflated bytes go on with `tail`."""
    body, directory = bytearray(), bytearray()
    for member, data in members.items():
        actual = data + (tail if member == name else b"")
        if method == zipfile.ZIP_DEFLATED:
            deflater = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
            stored = deflater.compress(actual) + deflater.flush()
        else:
            stored = actual
        encoded = member.encode()
        fields = (0, method, 0, 0, zlib.crc32(data), len(stored), len(data), len(encoded))
        offset = len(body)
        body += struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, *fields, 0)
        body += encoded + stored
        directory += struct.pack(
            "<4sHHHHHHIIIHHHHHII",
            b"PK\x01\x02",
            (3 << 8) | 20,
            20,
            *fields,
            0,
            0,
            0,
            0,
            0o100644 << 16,
            offset,
        )
        directory += encoded
    end = struct.pack(
        "<4sHHHHIIH", b"PK\x05\x06", 0, 0, len(members), len(members), len(directory), len(body), 0
    )
    return bytes(body + directory + end)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED])
def test_verify_fails_a_member_whose_stream_runs_past_its_declared_size(
    package, run_mir, method, tmp_path
) -> None:
    """A tamper audit of 2026-12-07: Python stops at a member's declared size (and checks the
    CRC of what it read), `unzip` inflates the whole stream; a forged row after the signed
    exceptions.csv verified (exit 0) while `unzip` extracted it, only warning "bad CRC"."""
    members = _members(package)
    tail = b"FORGED,breach,account,A1,,BTC,excess,1,0,planted after signing\n"
    package.write_bytes(_zip_with_hidden_tail(members, "exceptions.csv", tail, method))
    with zipfile.ZipFile(package) as archive:  # Python alone sees the genuine bytes
        assert archive.read("exceptions.csv") == members["exceptions.csv"]
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    assert any(
        line.startswith("file exceptions.csv: FAILED: cannot be read from the zip")
        for line in _failed_lines(result.output)
    ), result.output
    # the same members laid out so with nothing beyond their sizes verify
    package.write_bytes(_zip_with_hidden_tail(members, "exceptions.csv", b"", method))
    assert run_mir("verify", package).exit_code == 0


def test_a_predecessor_whose_manifest_runs_past_its_size_has_no_manifest_to_link_to(
    package, tmp_path
) -> None:
    """The hash chain reads the previous day's manifest.json from its zip: one with bytes
    beyond its declared size (what `unzip -p` gives differs from what Python reads) counts as
    no readable manifest, as verify counts the member itself (tamper audit of 2026-12-07)."""
    from reports.sign.manifest import read_manifest_at

    members = _members(package)
    genuine = read_manifest_at(package)
    assert genuine == (members["manifest.json"], members["manifest.json.p7s"])
    tail = b'{"forged": true}'
    for name in ("manifest.json", "manifest.json.p7s"):
        forged = tmp_path / f"{name}.zip"
        forged.write_bytes(_zip_with_hidden_tail(members, name, tail, zipfile.ZIP_DEFLATED))
        manifest, signature = read_manifest_at(forged)
        assert manifest == (None if name == "manifest.json" else genuine[0])
        assert signature == (None if name == "manifest.json.p7s" else genuine[1])


def test_a_good_package_verifies_beside_an_unreadable_earlier_one(
    tmp_path, signer, signed_pdf, run_mir
) -> None:
    first, second = _two_packaged_days(tmp_path / "out", signer, signed_pdf)
    first.write_bytes(_zip_with(_members(first), {MANIFEST_NAME: {"flag_bits": 0x1}}))
    result = run_mir("verify", second)
    assert result.exit_code == 4, result.output
    assert _failed_lines(result.output) == [
        f"hash chain: FAILED: {first.name} holds no readable manifest.json"
    ]


@pytest.mark.parametrize(
    "manifest",
    [
        b'{"manifest_version": 1, "files": [], "as_of": "2026-03-03", "previous_manifest_sha256": 12345}',
        b"[" * 100000 + b"]" * 100000,
        b'{"manifest_version": 1, "files": [], "as_of": 20260303}',
        b'{"manifest_version": 1, "as_of": "2026-03-03", "files": [{"name": "capital.csv", '
        b'"sha256": "' + b"0" * 64 + b'"}]}',
        b'{"files": [], "as_of": "2026-03-03"}',
    ],
    ids=["link-not-text", "deep-nesting", "as_of-not-text", "entry-without-size", "no-version"],
)
def test_verify_fails_a_malformed_manifest_without_crashing(package, run_mir, manifest) -> None:
    members = _members(package)
    members[MANIFEST_NAME] = manifest
    package.write_bytes(deterministic_zip(members, dt.date.fromisoformat(AS_OF)))
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    assert "internal error" not in result.output
    assert any(line.startswith("manifest.json: FAILED: ") for line in _failed_lines(result.output))


def test_verify_refuses_a_zip_bomb_before_inflating_it(package, monkeypatch) -> None:
    """Found in review: four unlisted entries of 900 MiB of zeros (3.6 MB of zip) were each
    inflated before being rejected. Entries and their total size are bounded first."""
    import reports.sign.verify as verify

    monkeypatch.setattr(verify, "MAX_PACKAGE_BYTES", 200_000)
    members = _members(package)
    bomb = dict(members, **{f"zeros{i}.bin": bytes(100_000) for i in range(3)})
    package.write_bytes(_zip_with(bomb, {}))
    inflated: list[str] = []
    real_read = zipfile.ZipFile.read
    monkeypatch.setattr(
        zipfile.ZipFile,
        "read",
        lambda self, name, pwd=None: inflated.append(str(name)) or real_read(self, name, pwd),
    )
    report = verify_package(package)
    assert not report.ok and inflated == []
    (line,) = [c for c in report.checks if c.name == "zip archive"]
    assert "not a package" in line.detail and "nothing was inflated" in line.detail
    monkeypatch.setattr(verify, "MAX_PACKAGE_BYTES", 1 << 30)
    many = dict(members, **{f"x{i}.csv": b"" for i in range(verify.MAX_ENTRIES)})
    package.write_bytes(_zip_with(many, {}))
    assert (
        "entries"
        in next(c for c in verify_package(package).checks if c.name == "zip archive").detail
    )


def test_verify_fails_a_symbolic_link_entry(package, crt, run_mir) -> None:
    """Found in review: exceptions.csv stored as a symlink (mode 0120777) with the genuine
    bytes passed `mir verify`, while unzip made it a link and `sha256sum -c` failed."""
    package.write_bytes(
        _zip_with(_members(package), {"exceptions.csv": {"external_attr": 0o120777 << 16}})
    )
    result = run_mir("verify", package, "--trust", crt)
    assert result.exit_code == 4, result.output
    assert "file exceptions.csv: FAILED: not a regular file in the zip" in result.output


def test_verify_fails_a_pdf_or_summary_of_another_day(tmp_path, signer, crt, run_mir) -> None:
    """Found in review: a package whose report.pdf (or summary.json) came from another day,
    genuinely signed, passed `mir verify --trust`."""
    root = tmp_path / "out"
    make_day(root, signer, day_pdf(signer, "2026-03-02"))  # the PDF of the day before
    zip_path = _rezip(
        tmp_path / f"{LEI}_{AS_OF}.zip", {p.name: p.read_bytes() for p in (root / AS_OF).iterdir()}
    )
    result = run_mir("verify", zip_path, "--trust", crt)
    assert result.exit_code == 4, result.output
    assert _failed_lines(result.output) == [
        "report.pdf attachments: FAILED: the embedded summary.json differs from the package's files"
    ]
    other = tmp_path / "other"
    day = make_day(other, signer, day_pdf(signer, AS_OF))
    (day / "summary.json").write_bytes(summary_json("2026-03-02"))
    sign_manifest(write_manifest(day, inputs=INPUTS, config_sha256="c" * 64), signer)
    zip_path = _rezip(tmp_path / "other.zip", {p.name: p.read_bytes() for p in day.iterdir()})
    failed = _failed_lines(run_mir("verify", zip_path).output)
    assert (
        "summary matches manifest: FAILED: summary.json has as_of '2026-03-02', manifest.json '2026-03-03'"
        in failed
    )


def test_package_refuses_a_day_directory_of_another_date(tmp_path, signer, signed_pdf) -> None:
    """Found in review: a copy of one day's directory under another date was zipped, and
    `mir verify` then failed the zip's name."""
    make_day(tmp_path / "out", signer, signed_pdf)
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(tmp_path / "out" / AS_OF, elsewhere / "2026-03-05")
    with pytest.raises(VerificationError, match="its manifest is as of 2026-03-03, not 2026-03-05"):
        build_package(elsewhere, dt.date(2026, 3, 5), lei=LEI)
    assert not list(elsewhere.glob("*.zip"))


def _ca_issued(
    usage: x509.KeyUsage | None, *, ca_expired: bool = False
) -> tuple[SignerKey, x509.Certificate]:
    """A signer issued by a fresh CA (the --trust anchor): (signer, CA). `ca_expired`: the CA
    expired yesterday, the signer still within its own dates."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    day = dt.timedelta(days=1)
    ca_from, ca_until, leaf_from = (
        (now - 30 * day, now - day, now - 2 * day)
        if ca_expired
        else (now - day, now + 30 * day, now - day)
    )
    ca_cn = "Expired CA" if ca_expired else "Regulator-known CA"
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ca_cn)])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(ca_from)
        .not_valid_after(ca_until)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    leaf_key = ec.generate_private_key(ec.SECP256R1())
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Venue signer")]))
        .issuer_name(ca_name)
        .public_key(leaf_key.public_key())
        .serial_number(2)
        .not_valid_before(leaf_from)
        .not_valid_after(now + dt.timedelta(days=30))
    )
    if usage is not None:
        builder = builder.add_extension(usage, critical=True)
    leaf = builder.sign(ca_key, hashes.SHA256())
    return SignerKey(private_key=leaf_key, certificate=leaf, chain=(ca,)), ca


def _usage(digital_signature: bool, non_repudiation: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=non_repudiation,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=not (digital_signature or non_repudiation),
        key_cert_sign=False,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )


@pytest.mark.parametrize(
    ("usage", "ok"),
    [
        (_usage(digital_signature=True, non_repudiation=False), True),
        (None, True),
        (_usage(digital_signature=False, non_repudiation=True), True),
        (_usage(digital_signature=False, non_repudiation=False), False),
    ],
    ids=["digitalSignature-only", "no-key-usage", "nonRepudiation-only", "keyAgreement-only"],
)
def test_a_ca_issued_signer_is_judged_by_its_key_usage_as_rfc5280_says(
    tmp_path, unsigned_pdf, usage, ok
) -> None:
    """Found in review: pyHanko's default demanded nonRepudiation, so a CA-issued certificate
    with digitalSignature only (or no KeyUsage at all) failed `--trust` while `openssl cms
    -verify` accepted it."""
    key, ca = _ca_issued(usage)
    root = tmp_path / "out"
    pdf = tmp_path / "signed.pdf"
    sign_pdf(unsigned_pdf, pdf, key)
    make_day(root, key, pdf.read_bytes())
    report = (
        verify_package(
            build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI, trust=[ca]).path, trust=[ca]
        )
        if ok
        else None
    )
    if ok:
        assert report is not None and report.ok, report.lines()
    else:
        with pytest.raises(
            VerificationError, match="allows neither digitalSignature nor nonRepudiation"
        ):
            build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI, trust=[ca])


def test_verify_checks_the_name_of_an_upper_case_zip(package, run_mir) -> None:
    renamed = package.rename(package.with_name(f"{LEI}_2026-03-06.ZIP"))
    result = run_mir("verify", renamed)
    assert result.exit_code == 4, result.output
    assert "package name: FAILED" in result.output


def test_verifying_a_day_directory_ignores_another_firms_package_of_the_previous_day(
    tmp_path, signer
) -> None:
    """Review of 2026-12-04 (the session's diff): with the earlier day directory deleted, the
    chain of a day directory was checked against whichever zip of that date sorted first,
    another firm's included. The firm's prefix comes from this day's own package beside it;
    without one, a date packaged under several prefixes is not guessed."""
    from reports.sign.verify import verify_directory

    root = tmp_path / "out"
    # an earlier day kept as a directory: an ambiguous 2026-03-02 must not skip back to it
    make_day(root, signer, day_pdf(signer, "2026-03-01"), as_of="2026-03-01", lei=LEI)
    make_day(root, signer, day_pdf(signer, "2026-03-02"), as_of="2026-03-02", lei=LEI)
    first = build_package(root, dt.date(2026, 3, 2), lei=LEI).path
    make_day(root, signer, day_pdf(signer, AS_OF), lei=LEI)
    shutil.rmtree(root / "2026-03-02")
    shutil.copy(first, root / "0THERFIRM_2026-03-02.zip")  # sorts first
    members = _members(root / "0THERFIRM_2026-03-02.zip")
    members[MANIFEST_NAME] = members[MANIFEST_NAME].replace(b'"r-1"', b'"r-9"')
    _rezip(root / "0THERFIRM_2026-03-02.zip", members)
    unsure = verify_directory(root / AS_OF)
    assert unsure.ok, unsure.lines()
    assert _line(unsure.lines(), "hash chain").startswith(
        "hash chain: NOT CHECKED (links to manifest "
    )
    build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI)  # this day's own package
    sure = verify_directory(root / AS_OF)
    assert (
        _line(sure.lines(), "hash chain")
        == f"hash chain: ok (links to the manifest of {first.name}, its signature intact)"
    )


def test_the_summary_line_compares_the_inputs_too() -> None:
    """Outputs review of 2026-12-05: `summary matches manifest: ok` was printed when the inputs'
    hashes of summary.json and manifest.json disagreed (only as_of and run_id were compared)."""
    from reports.sign.verify import _summary_line

    manifest = {
        "as_of": AS_OF,
        "run_id": "r-1",
        "inputs": [{"file": "accounts", "rows": 3, "sha256": "a" * 64}],
    }
    files = {"summary.json": summary_json(AS_OF)}
    assert _summary_line(files, manifest).ok
    for changed in ({"sha256": "b" * 64, "rows": 3}, {"sha256": "a" * 64, "rows": 4}):
        other = json.loads(summary_json(AS_OF))
        other["inputs"] = {"accounts": changed}
        line = _summary_line({"summary.json": json.dumps(other).encode()}, manifest)
        assert not line.ok and line.detail.startswith("input accounts:"), line
    extra = json.loads(summary_json(AS_OF))
    extra["inputs"]["positions"] = {"sha256": "c" * 64, "rows": 1}
    assert not _summary_line({"summary.json": json.dumps(extra).encode()}, manifest).ok


def _stamper(cert: x509.Certificate, key: Any, at: dt.datetime, chain: tuple = ()) -> Any:
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.timestamps import DummyTimeStamper

    def load(c: x509.Certificate) -> Any:
        return asn1_x509.Certificate.load(c.public_bytes(serialization.Encoding.DER))

    der = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return DummyTimeStamper(
        tsa_cert=load(cert),
        tsa_key=asn1_keys.PrivateKeyInfo.load(der),
        certs_to_embed=[load(c) for c in chain] or None,
        fixed_dt=at,
    )


def test_a_tsa_needs_the_timestamping_usage_and_may_be_anchored_at_an_issuing_ca(
    tmp_path, unsigned_pdf
) -> None:
    """Second diff review of 2026-12-05: (1) after a key rotation, --trust holding the old
    (expired) and the new signing certificate, the new key, posing as a TSA, backdated a token
    for the old key and the package verified: pyHanko does not check the usage of a trusted
    certificate. (2) An honest TSA under an issuing CA given in --trust was refused when its
    token carried the chain up to the root."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from reports.sign.keys import generate_development_key
    from reports.sign.verify import verify_directory

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    old = generate_development_key(algorithm="p256", now=now - dt.timedelta(days=100), days=80)
    signed = now - dt.timedelta(days=60)
    new = generate_development_key(now=now - dt.timedelta(days=10), days=365)  # RSA, no EKU
    rotated = _stamped_day(
        tmp_path / "rotated",
        old,
        unsigned_pdf,
        _stamper(new.certificate, new.private_key, signed),
        signed,
    )
    failed = verify_directory(rotated, trust=[old.certificate, new.certificate]).failures
    assert {c.name.split(" ")[0] for c in failed} == {"manifest", "PDF"}, failed
    assert all("without the critical timeStamping" in c.detail for c in failed), failed

    def issue(
        subject: str, issuer: str, key: Any, issuer_key: Any, *, ca: bool, days: int = 400
    ) -> x509.Certificate:
        name = lambda cn: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])  # noqa: E731
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(name(issuer))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=400))
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            usage = x509.KeyUsage(False, False, False, False, False, True, True, False, False)
            builder = builder.add_extension(usage, critical=True)
        else:
            eku = x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING])
            builder = builder.add_extension(eku, critical=True)
        return builder.sign(issuer_key, hashes.SHA256())

    root_key, ca_key, tsa_key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048) for _ in range(3)
    )
    root = issue("Root", "Root", root_key, root_key, ca=True)
    issuing = issue("Issuing CA", "Root", ca_key, root_key, ca=True)
    tsa = issue("TSA", "Issuing CA", tsa_key, ca_key, ca=False)
    # the token carries the issuing CA and the root; then (third diff review) a renewed copy
    # of the issuing CA (same key, later expiry) and the root: the issuing CA given in --trust,
    # or the root, anchors the chain either way
    renewed = issue("Issuing CA", "Root", ca_key, root_key, ca=True, days=900)
    for name, carried in (("honest", issuing), ("renewed", renewed)):
        stamper = _stamper(tsa, tsa_key, signed, (carried, root))
        day = _stamped_day(tmp_path / name, old, unsigned_pdf, stamper, signed)
        for anchor in (root, issuing):
            report = verify_directory(day, trust=[old.certificate, anchor])
            assert report.ok, (name, anchor.subject, [str(c) for c in report.failures])


def _damage_member(zip_path: Path, name: str) -> None:
    """Flip one byte in the middle of member `name`'s data: its CRC-32 (or its deflate stream)
    no longer matches, as after damage in transit."""
    raw = bytearray(zip_path.read_bytes())
    with zipfile.ZipFile(zip_path) as archive:
        info = archive.getinfo(name)
    start = info.header_offset
    name_length = int.from_bytes(raw[start + 26 : start + 28], "little")
    extra_length = int.from_bytes(raw[start + 28 : start + 30], "little")
    data = start + 30 + name_length + extra_length
    raw[data + info.compress_size // 2] ^= 0xFF
    zip_path.write_bytes(bytes(raw))


@pytest.mark.parametrize(
    ("member", "also"),
    [
        ("stress.csv", "report.pdf attachments: FAILED: cannot compare stress.csv with the PDF's"),
        ("summary.json", "summary matches manifest: FAILED: summary.json cannot be read from the"),
        ("report.pdf", "PDF signature (report.pdf): FAILED: report.pdf cannot be read from the"),
        (SIGNATURE_NAME, f"manifest signature ({SIGNATURE_NAME}): FAILED: cannot be read from"),
    ],
)
def test_verify_calls_a_damaged_member_damaged_not_missing(
    package: Path, run_mir: Any, member: str, also: str
) -> None:
    """User review of 2026-12-06: one byte damaged in stress.csv inside the zip was reported as
    "listed in manifest.json but missing" (and the PDF's attachments as absent from the
    package), the file named twice in the failure summary: a regulator would think a file was
    left out. The member is now named once as unreadable, and every other line says so."""
    _damage_member(package, member)
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    failed = _failed_lines(result.output)
    assert f"file {member}: FAILED: cannot be read from the zip" in failed[0]
    assert any(line.startswith(also) for line in failed), failed
    assert not [line for line in failed if "missing" in line], failed
    summary = result.output.strip().splitlines()[-1]
    named = summary.split("verification FAILED (", 1)[1].rstrip(")").split(", ")
    assert len(named) == len(set(named)), summary
    # the package's name is judged first, then its members
    lines = result.output.splitlines()
    assert lines[0].startswith("package name: ok"), lines[:2]


def _with_extra_field(zip_path: Path, member: str) -> bytes:
    """The package rewritten with an Info-ZIP Unicode Path extra field (0x7075) on `member`
    naming another member: unzip extracts its bytes under that name, Python's zipfile ignores
    it."""
    members = _members(zip_path)
    others = sorted(n for n in members if n != member and n.endswith(".csv"))
    alias = others[0].encode()
    name = member.encode()
    crc = zlib.crc32(name).to_bytes(4, "little")
    payload = b"\x01" + crc + alias
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name_, data in sorted(members.items()):
            info = zipfile.ZipInfo(name_, date_time=(2026, 3, 3, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            if name_ == member:
                info.extra = b"\x75\x70" + len(payload).to_bytes(2, "little") + payload
            archive.writestr(info, data)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "layout", ["prepended", "comment", "trailing", "extra field", "local header", "gap"]
)
def test_verify_refuses_a_zip_other_tools_would_read_otherwise(
    package: Path, run_mir: Any, layout: str
) -> None:
    """Security review of 2026-12-06: a forged copy put in front of the genuine package, a zip
    comment, bytes after the end record and a Unicode-path extra field all verified (exit 0),
    while other zip readers (a streaming one, unzip) extract other files than those verified.
    `mir package` writes none of them: a package not laid out as it writes one fails."""
    genuine = package.read_bytes()
    if layout == "prepended":
        package.write_bytes(
            genuine + genuine
        )  # Python reads the last; a streaming reader the first
    elif layout == "comment":
        with zipfile.ZipFile(package, "a") as archive:
            archive.comment = b"VERIFIED BY REGULATOR - ALL CHECKS PASSED"
    elif layout == "trailing":
        package.write_bytes(genuine + b"\x00" * 64)
    elif layout == "extra field":
        package.write_bytes(_with_extra_field(package, "capital.csv"))
    elif layout == "local header":
        # the local header's method says STORED where the directory says DEFLATE: unzip and
        # streaming readers follow the local header (diff review of 2026-12-06)
        with zipfile.ZipFile(package) as archive:
            at = archive.getinfo("capital.csv").header_offset
        raw = bytearray(genuine)
        raw[at + 8 : at + 10] = (0).to_bytes(2, "little")
        package.write_bytes(bytes(raw))
    else:  # bytes between the last member and the directory
        with zipfile.ZipFile(package) as archive:
            start = archive.start_dir  # type: ignore[attr-defined]
        end = genuine[-22:]
        offset = int.from_bytes(end[16:20], "little") + 8
        end = end[:16] + offset.to_bytes(4, "little") + end[20:]
        package.write_bytes(genuine[:start] + b"\x00" * 8 + genuine[start:-22] + end)
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    (line,) = [ln for ln in _failed_lines(result.output) if ln.startswith("zip archive")]
    assert "not laid out as `mir package` writes a package" in line
    # the genuine package still verifies
    package.write_bytes(genuine)
    assert run_mir("verify", package).exit_code == 0


@pytest.mark.parametrize("field", ["version needed", "name length", "disk number"])
def test_verify_refuses_a_directory_unzip_reads_otherwise(
    package: Path, run_mir: Any, field: str
) -> None:
    """Review of 2026-12-07 (byte-flip fuzzing of a package's directory): a member needing zip
    version 5.2 (in both headers; unzip 6.0 skips it, "unsupported compression or encoding"),
    a last directory entry whose name length runs past the directory (Python reads the name
    that is there), and an end record naming disk 1 all verified, exit 0, while `unzip -t`
    failed the package. `mir package` writes version 2.0, lengths that add up to the
    directory's size, and disk 0."""
    genuine = package.read_bytes()
    raw = bytearray(genuine)
    with zipfile.ZipFile(package) as archive:
        infos = archive.infolist()
        start = archive.start_dir  # type: ignore[attr-defined]
    if field == "version needed":
        at = infos[0].header_offset
        raw[at + 4] = 0x34  # the local header's
        raw[start + 6] = 0x34  # the directory's (its first entry is capital.csv's)
    elif field == "name length":
        last = len(raw) - 22 - (46 + len(infos[-1].filename))
        assert raw[last : last + 4] == b"PK\x01\x02"
        raw[last + 28] ^= 0x80
    else:
        raw[-22 + 4] = 1
    package.write_bytes(bytes(raw))
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    (line,) = [ln for ln in _failed_lines(result.output) if ln.startswith("zip archive")]
    assert "not laid out as `mir package` writes a package" in line
    package.write_bytes(genuine)
    assert run_mir("verify", package).exit_code == 0


def test_verify_refuses_a_pdf_signed_twice(package: Path, signer: SignerKey, run_mir: Any) -> None:
    """Security review of 2026-12-06: only the last of several PDF signatures was judged, so an
    untrusted signer's revision under the trusted one passed unmentioned. `mir report` signs
    once: a second signature fails the PDF signature line."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers

    members = _members(package)
    writer = IncrementalPdfFileWriter(io.BytesIO(members["report.pdf"]))
    meta = signers.PdfSignatureMetadata(field_name="Second", md_algorithm="sha256")
    members["report.pdf"] = signers.sign_pdf(
        writer, meta, signer=signer.pyhanko_signer()
    ).getvalue()
    result = run_mir("verify", _rezip(package, members))
    assert result.exit_code == 4, result.output
    assert (
        "PDF signature (report.pdf): FAILED: report.pdf carries 2 signatures (" in result.output
    ), result.output
    assert "a mir report carries exactly one" in result.output


@pytest.mark.parametrize("member", [MANIFEST_NAME, SIGNATURE_NAME, "summary.json"])
def test_verify_refuses_an_oversized_manifest_without_parsing_it(
    package: Path, run_mir: Any, member: str
) -> None:
    """Security review of 2026-12-06: a 64 MB manifest.json (a 205 KB zip) was parsed three
    times before any signature was checked (445 MB, 4.8 s). manifest.json and summary.json
    are refused above 16 MiB, and so is the manifest's signature, also held whole (verify
    review of 2026-12-07: up to 1 GiB was read into memory)."""
    members = _members(package)
    members[member] = b"{" + b" " * (1 << 24) + b"}"
    result = run_mir("verify", _rezip(package, members))
    assert result.exit_code == 4, result.output
    assert f"file {member}: FAILED: {(1 << 24) + 2} bytes is too large" in result.output


def test_verify_escapes_control_characters_in_what_it_prints(package: Path, run_mir: Any) -> None:
    """Security review of 2026-12-06: a member named with terminal escapes reached the screen
    raw (it could erase lines and print "all checks passed"). They are printed as escapes."""
    members = _members(package)
    members["\x1b[2K\x1b[1Aall checks passed\x9b2J.csv"] = b"x"
    result = run_mir("verify", _rezip(package, members))
    assert result.exit_code == 4, result.output
    assert "\x1b" not in result.output and "\x9b" not in result.output
    assert "\\x1b[2K\\x1b[1Aall checks passed\\x9b2J.csv" in result.output


@pytest.mark.parametrize(
    ("certificate_lei", "expected"),
    [
        ("529900T8BM49AURSDO55", "signer LEI: FAILED: the signing certificate names LEI "
         f"529900T8BM49AURSDO55, the manifest {LEI}: another firm's key signed this package"),
        (LEI, f"signer LEI: ok (the signing certificate names {LEI}, as the manifest does)"),
        (None, f"signer LEI: NOT CHECKED (the manifest names {LEI}); warning: the signing "
         "certificate names no LEI"),
    ],
    ids=["another firm", "this firm", "no LEI"],
)  # fmt: skip
def test_verify_holds_the_signers_lei_to_the_manifests(
    tmp_path: Path, run_mir: Any, certificate_lei: str | None, expected: str
) -> None:
    """Security review of 2026-12-06: with --trust holding several firms' certificates (or
    their common CA), firm B's key signed a package naming firm A's LEI, and it verified.
    A certificate naming an LEI (organizationIdentifier LEIXG-<LEI>, what `mir keys init`
    writes for the configured [firm] lei) must name the manifest's."""
    from reports.sign.keys import certificate_lei as named

    key = generate_development_key(algorithm="p256", lei=certificate_lei)
    assert named(key.certificate) == certificate_lei
    root = tmp_path / "out"
    day = make_day(root, key, day_pdf(key, AS_OF), lei=LEI)
    if certificate_lei in (LEI, None):
        package = build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI).path
    else:
        # `mir package` refuses it too (it verifies what it packs); zipped by hand here
        with pytest.raises(VerificationError, match="the package contradicts itself on whose"):
            build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI)
        package = root / f"{LEI}_{AS_OF}.zip"
        members = {p.name: p.read_bytes() for p in day.iterdir()}
        package.write_bytes(deterministic_zip(members, dt.date.fromisoformat(AS_OF)))
    crt = tmp_path / "registered.pem"
    crt.write_bytes(key.certificate.public_bytes(serialization.Encoding.PEM))
    result = run_mir("verify", package, "--trust", crt)
    assert expected in result.output, result.output
    assert result.exit_code == (4 if certificate_lei not in (LEI, None) else 0), result.output
    if certificate_lei == LEI:
        # without --trust the certificate is the package's own (anyone can make one naming
        # any LEI): the line must not read "ok" for the signer's identity (review 2026-12-07)
        plain = run_mir("verify", package)
        assert plain.exit_code == 0, plain.output
        assert "signer LEI: ok" not in plain.output, plain.output
        assert (
            f"signer LEI: NOT CHECKED (the package's own signing certificate claims {LEI}, "
            "as the manifest does; without --trust, nothing shows that certificate is that "
            "firm's)"
        ) in plain.output, plain.output


def test_keys_init_names_the_configured_lei(run_mir: Any, tmp_path: Path, monkeypatch) -> None:
    from reports.sign.keys import certificate_lei, load_certificates

    monkeypatch.setenv("MIR_SIGNING_PASSPHRASE", "a passphrase for this test")
    config = tmp_path / "mir.toml"
    config.write_text(f'[firm]\nlei = "{LEI}"\n', encoding="utf-8")
    made = run_mir("keys", "init", "--out", tmp_path / "k" / "s.p12", "--config", config)
    assert made.exit_code == 0, made.output
    (certificate,) = load_certificates(tmp_path / "k" / "s.crt")
    assert certificate_lei(certificate) == LEI
    assert f"2.5.4.97=LEIXG-{LEI}" in certificate.subject.rfc4514_string()
    plain = run_mir("keys", "init", "--out", tmp_path / "p" / "s.p12")
    assert plain.exit_code == 0, plain.output
    (unnamed,) = load_certificates(tmp_path / "p" / "s.crt")
    assert certificate_lei(unnamed) is None  # no LEI configured (UNKNOWNLEI)


def test_the_hash_chain_holds_the_earlier_manifest_to_its_own_signature(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes, crt: Path, run_mir: Any
) -> None:
    """Security review of 2026-12-06: the chain line compared the earlier manifest's hash
    only, so it read "ok" beside an earlier package whose manifest signature was someone
    else's (or broken). The earlier manifest's signature must be intact, and trusted under
    --trust."""
    first, second = _two_packaged_days(tmp_path / "out", signer, signed_pdf)
    assert "its signature intact and trusted)" in run_mir("verify", second, "--trust", crt).output
    members = _members(first)
    folder = tmp_path / "resign"
    folder.mkdir()
    (folder / MANIFEST_NAME).write_bytes(members[MANIFEST_NAME])
    sign_manifest(folder / MANIFEST_NAME, generate_development_key(algorithm="p256"))
    members[SIGNATURE_NAME] = (folder / SIGNATURE_NAME).read_bytes()
    _rezip(first, members)
    resigned = run_mir("verify", second, "--trust", crt)
    assert resigned.exit_code == 4, resigned.output
    assert f"hash chain: FAILED: links to the manifest of {first.name}, whose own signature " in (
        resigned.output
    )
    members[SIGNATURE_NAME] = b"not a signature"
    _rezip(first, members)
    broken = run_mir("verify", second)  # without --trust too
    assert broken.exit_code == 4, broken.output
    assert "whose own signature fails" in broken.output


def test_the_signers_lei_is_held_to_the_package_name_when_the_manifest_names_none(
    tmp_path: Path, run_mir: Any
) -> None:
    """Diff review of 2026-12-06: with the manifest's "lei" left out, another firm's key
    passed (no signer LEI line at all). The package's name <LEI>_<date>.zip then stands in."""
    other = "529900T8BM49AURSDO55"
    key = generate_development_key(algorithm="p256", lei=other)
    root = tmp_path / "out"
    day = make_day(root, key, day_pdf(key, AS_OF))  # a manifest without "lei"
    package = root / f"{LEI}_{AS_OF}.zip"
    members = {p.name: p.read_bytes() for p in day.iterdir()}
    package.write_bytes(deterministic_zip(members, dt.date.fromisoformat(AS_OF)))
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    assert (
        f"signer LEI: FAILED: the signing certificate names LEI {other}, the package's name "
        f"{LEI}: the package contradicts itself on whose it is (without --trust, who signed is "
        "not checked)"
    ) in result.output
    # with --trust holding that certificate, it is another firm's key (review of 2026-12-07:
    # without --trust the line claimed so of a certificate nobody vouched for)
    crt = tmp_path / "other.pem"
    crt.write_bytes(key.certificate.public_bytes(serialization.Encoding.PEM))
    trusted = run_mir("verify", package, "--trust", crt)
    assert trusted.exit_code == 4, trusted.output
    assert f"{LEI}: another firm's key signed this package" in trusted.output
    # a --trust that does not vouch for it shows no more than no --trust (review of
    # 2026-12-07: "another firm's key signed" of a certificate nobody vouched for)
    unrelated = tmp_path / "unrelated.pem"
    unrelated.write_bytes(
        generate_development_key(algorithm="p256", lei=LEI).certificate.public_bytes(
            serialization.Encoding.PEM
        )
    )
    unvouched = run_mir("verify", package, "--trust", unrelated)
    assert unvouched.exit_code == 4, unvouched.output
    assert "another firm's key" not in unvouched.output, unvouched.output
    assert (
        f"{LEI}: the package contradicts itself on whose it is (its certificate is not one "
        "--trust vouches for, who signed is not checked)"
    ) in unvouched.output


def test_a_chain_predecessor_without_its_signature_fails_the_chain(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes, run_mir: Any
) -> None:
    first, second = _two_packaged_days(tmp_path / "out", signer, signed_pdf)
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / MANIFEST_NAME).write_bytes(_members(first)[MANIFEST_NAME])
    result = run_mir("verify", second, "--previous", earlier)
    assert result.exit_code == 4, result.output
    assert f"hash chain: FAILED: earlier holds no {SIGNATURE_NAME}" in result.output


def test_verify_quiet_keeps_what_was_not_checked(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes, run_mir: Any
) -> None:
    """Diff review of 2026-12-06: `mir verify -q` printed nothing for a renamed zip whose
    name and chain were NOT CHECKED; -q keeps failures, warnings and what was not checked."""
    _, second = _two_packaged_days(tmp_path / "out", signer, signed_pdf)
    alone = tmp_path / "alone"
    alone.mkdir()
    renamed = second.rename(alone / "copy.zip")
    result = run_mir("verify", "-q", renamed)
    assert result.exit_code == 0, result.output
    assert "package name: NOT CHECKED" in result.output
    assert "hash chain: NOT CHECKED" in result.output
    assert "file report.pdf: ok" not in result.output


def test_verify_quiet_keeps_the_warnings_of_passing_checks(package, run_mir) -> None:
    """README: `mir verify -q` prints only failures, warnings and NOT CHECKED lines: a passing
    signature check that warns of a self-signed development key stays (mutation review of
    2026-12-07: -q dropped it, leaving no sign of the development key)."""
    result = run_mir("verify", "-q", package)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert any(
        line.startswith("manifest signature (manifest.json.p7s): ok")
        and "DEVELOPMENT KEY - NOT FOR SUBMISSION" in line
        for line in lines
    ), result.output
    assert "file report.pdf: ok" not in result.output
    assert "all checks passed" not in result.output
    members = _members(package)
    members["exceptions.csv"] += b"SEG-02,breach,asset,ETH\n"
    failed = run_mir("verify", "-q", _rezip(package, members))
    assert failed.exit_code == 4, failed.output
    assert "file exceptions.csv: FAILED: " in failed.output


def test_package_trust_refuses_a_day_signed_by_another_key(
    out, config, crt, run_mir, tmp_path
) -> None:
    """`mir package --trust CERT` requires the signer to chain to CERT: a day signed by another
    key is not zipped (mutation review of 2026-12-07: the option was not held by any test)."""
    other = tmp_path / "other.crt"
    other.write_bytes(
        generate_development_key(algorithm="p256").certificate.public_bytes(
            serialization.Encoding.PEM
        )
    )
    refused = run_mir(
        "package", "--as-of", AS_OF, "--out", out, "--config", config, "--trust", other
    )
    assert refused.exit_code == 4, refused.output
    assert not (out / f"{LEI}_{AS_OF}.zip").exists()
    trusted = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config, "--trust", crt)
    assert trusted.exit_code == 0, trusted.output
    assert (out / f"{LEI}_{AS_OF}.zip").is_file()


def test_package_prints_every_warning_once(out, config, run_mir) -> None:
    """Both signatures warn alike; `mir package` prints each distinct warning, once."""
    result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config)
    assert result.exit_code == 0, result.output
    warnings_shown = [ln for ln in result.output.splitlines() if ln.startswith("warning: ")]
    assert warnings_shown == [
        "warning: untrusted (self-signed)",
        "warning: DEVELOPMENT KEY - NOT FOR SUBMISSION",
    ]


def test_verify_trust_that_is_no_certificate_is_a_usage_error(package, run_mir, tmp_path) -> None:
    """README: exit 2 when --trust is not a certificate (not 4, a failed package)."""
    junk = tmp_path / "junk.crt"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n")
    for trust in (junk, tmp_path / "signer.p12"):
        if trust.suffix == ".p12":
            trust.write_bytes(b"\x30\x03\x02\x01\x03")  # DER, but not a certificate
        result = run_mir("verify", package, "--trust", trust)
        assert result.exit_code == 2, result.output
        assert f"{trust} is not a PEM or DER X.509 certificate" in result.output


@pytest.mark.parametrize(
    ("error", "reason"),
    [
        (PermissionError(13, "Permission denied"), "Permission denied"),
        # an OSError without strerror was said as "None" (review of 2026-12-07)
        (OSError("stale file handle"), "stale file handle"),
    ],
)
def test_verify_trust_that_cannot_be_read_is_a_usage_error(
    package, crt, run_mir, monkeypatch, error, reason
) -> None:
    """An unreadable --trust file (permissions; tests run as root, so the denial is simulated)
    is exit 2 naming it and why, like a missing one."""
    read_bytes = Path.read_bytes

    def denied(path: Path) -> bytes:
        if path == crt:
            raise error
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", denied)
    result = run_mir("verify", package, "--trust", crt)
    assert result.exit_code == 2, result.output
    assert f"cannot read the certificate file {crt}: {reason}\n" in result.output


# --- mutation review of 2026-12-06 (reports/sign/verify.py): checks no test held ---------------
# Each test below failed under a realistic mutation of verify.py that the suite let through.


def _pdf_embedding(files: dict[str, bytes]) -> bytes:
    """An unsigned PDF/A-3b embedding exactly `files` (as `_pdfa3b`, with other attachments)."""
    from weasyprint import HTML, Attachment

    when = dt.datetime(2026, 3, 3, tzinfo=dt.UTC)
    attachments = [
        Attachment(
            string=data.decode(), name=name, relationship="Data", created=when, modified=when
        )
        for name, data in files.items()
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        pdf = HTML(string="<html lang='en'><title>t</title><p>report</p></html>").write_pdf(
            pdf_variant="pdf/a-3b", attachments=attachments
        )
        gc.collect()
    return pdf


def _resign_manifest(day: Path, signer: SignerKey, change: Any) -> None:
    """Apply `change` to the day's manifest (as data), write it canonically and sign it again:
    what a faulty (or dishonest) signer would produce."""
    from reports.sign.manifest import canonical_json

    manifest = json.loads((day / MANIFEST_NAME).read_bytes())
    change(manifest)
    (day / MANIFEST_NAME).write_bytes(canonical_json(manifest))
    sign_manifest(day / MANIFEST_NAME, signer)


def _failure_names(report: Any) -> list[str]:
    return [line.name for line in report.failures]


def test_a_file_whose_size_the_signed_manifest_misstates_fails(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes
) -> None:
    """The manifest's size is checked on its own, not only implied by the SHA-256: a manifest
    whose size for a file is wrong (the hash right) does not verify."""
    from reports.sign.verify import verify_directory

    day = make_day(tmp_path / "out", signer, signed_pdf)
    assert verify_directory(day).ok

    def misstate(manifest: dict[str, Any]) -> None:
        for entry in manifest["files"]:
            if entry["name"] == "capital.csv":
                entry["size"] += 1

    _resign_manifest(day, signer, misstate)
    report = verify_directory(day)
    assert _failure_names(report) == ["file capital.csv"], report.lines()
    size = len(CSVS["capital.csv"])
    assert report.failures[0].detail == f"size {size} bytes, manifest says {size + 1}"


def test_verify_fails_on_an_extra_hidden_file(package: Path, run_mir: Any) -> None:
    """Every member the manifest does not list fails the package, a dot-file too (a tool
    skipping "hidden" names would let an unsigned file ride along)."""
    members = _members(package)
    members[".notes"] = b"unsigned note"
    result = run_mir("verify", _rezip(package, members))
    assert result.exit_code == 4, result.output
    assert "unlisted files: FAILED: not in manifest.json: .notes" in result.output


def test_the_summary_line_compares_the_run_id_and_requires_it() -> None:
    """summary.json must be of the manifest's run, not only of its day: another run_id, or
    none, fails the line."""
    from reports.sign.verify import _summary_line

    manifest = {
        "as_of": AS_OF,
        "run_id": "r-1",
        "inputs": [{"file": "accounts", "rows": 3, "sha256": "a" * 64}],
    }
    assert _summary_line({"summary.json": summary_json(AS_OF)}, manifest).ok
    other_run = json.loads(summary_json(AS_OF))
    other_run["run_id"] = "r-2"
    line = _summary_line({"summary.json": json.dumps(other_run).encode()}, manifest)
    assert not line.ok
    assert line.detail == "summary.json has run_id 'r-2', manifest.json 'r-1'"
    for key in ("run_id", "as_of"):
        without = json.loads(summary_json(AS_OF))
        del without[key]
        line = _summary_line({"summary.json": json.dumps(without).encode()}, manifest)
        assert not line.ok and line.detail.startswith(f"summary.json has {key} None"), line


def test_a_pdf_embedding_a_file_the_package_lacks_fails(tmp_path: Path, signer: SignerKey) -> None:
    """report.pdf embeds exactly the package's CSVs and summary.json: an extra attachment
    (a file the regulator would not find beside the PDF) fails, not only a missing one."""
    from reports.sign.verify import verify_directory

    unsigned = _pdf_embedding(
        {**CSVS, "summary.json": summary_json(AS_OF), "draft.csv": b"a,b\n1,2\n"}
    )
    pdf = tmp_path / "report.pdf"
    sign_pdf(unsigned, pdf, signer)
    report = verify_directory(make_day(tmp_path / "out", signer, pdf.read_bytes()))
    assert _failure_names(report) == ["report.pdf attachments"], report.lines()
    assert report.failures[0].detail.startswith("embeds capital.csv, concentration.csv, draft.csv")


def test_a_pdf_without_the_timestamp_the_manifest_promises_fails(
    tmp_path: Path, signer: SignerKey, unsigned_pdf: bytes
) -> None:
    """A manifest that signs `timestamped: true` holds report.pdf's signature to it too: a PDF
    signature without a timestamp token fails, as the manifest's own would."""
    from test_sign import _timestamper

    from reports.sign.verify import verify_directory

    day = tmp_path / "out" / AS_OF
    day.mkdir(parents=True)
    sign_pdf(unsigned_pdf, day / "report.pdf", signer)  # no timestamper: PAdES B-B
    for name, data in CSVS.items():
        (day / name).write_bytes(data)
    (day / "summary.json").write_bytes(summary_json(AS_OF))
    manifest = write_manifest(day, inputs=INPUTS, config_sha256="c" * 64, timestamped=True)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    sign_manifest(manifest, signer, timestamper=_timestamper(now))
    report = verify_directory(day)
    assert _failure_names(report) == ["PDF signature (report.pdf)"], report.lines()
    assert "carries no timestamp token" in report.failures[0].detail


def test_a_pdf_signature_that_is_not_pades_fails(
    tmp_path: Path, signer: SignerKey, unsigned_pdf: bytes
) -> None:
    """report.pdf's signature must be PAdES (/ETSI.CAdES.detached): an intact, valid
    adbe.pkcs7.detached signature by the same key fails."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter

    from reports.sign.verify import verify_directory

    metadata = signers.PdfSignatureMetadata(
        field_name="mir-signature",
        subfilter=SigSeedSubFilter.ADOBE_PKCS7_DETACHED,
        md_algorithm="sha256",
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(unsigned_pdf))
    pdf = signers.PdfSigner(metadata, signer.pyhanko_signer()).sign_pdf(writer, output=io.BytesIO())
    report = verify_directory(make_day(tmp_path / "out", signer, pdf.getvalue()))
    assert _failure_names(report) == ["PDF signature (report.pdf)"], report.lines()
    assert "/adbe.pkcs7.detached, not PAdES" in report.failures[0].detail


def test_a_pdf_changed_inside_its_signed_byte_range_fails(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes
) -> None:
    """A byte changed inside the signed range (the signature value itself untouched, the
    manifest re-made to match): the digest no longer matches, and the PDF's line fails."""
    from reports.sign.verify import verify_directory

    assert signed_pdf.startswith(b"%PDF-")
    changed = bytearray(signed_pdf)
    changed[5] ^= 0x01  # the version digit of the header: still a readable PDF
    report = verify_directory(make_day(tmp_path / "out", signer, bytes(changed)))
    assert _failure_names(report) == ["PDF signature (report.pdf)"], report.lines()
    assert "the signed bytes were modified" in report.failures[0].detail


def test_a_manifest_signature_whose_value_is_altered_fails(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes
) -> None:
    """manifest.json.p7s whose signature value was altered (signed attributes and digest
    intact) does not verify."""
    from asn1crypto import cms

    from reports.sign.verify import check_manifest_signature, verify_directory

    day = make_day(tmp_path / "out", signer, signed_pdf)
    content_info = cms.ContentInfo.load((day / SIGNATURE_NAME).read_bytes())
    signer_info = content_info["content"]["signer_infos"][0]
    value = bytearray(signer_info["signature"].native)
    value[len(value) // 2] ^= 0x01
    signer_info["signature"] = cms.OctetString(bytes(value))
    (day / SIGNATURE_NAME).write_bytes(content_info.dump(force=True))
    line = check_manifest_signature(
        (day / MANIFEST_NAME).read_bytes(), (day / SIGNATURE_NAME).read_bytes()
    )
    assert not line.ok
    assert line.detail == "the signature value does not verify with the signer's key"
    report = verify_directory(day)
    assert "manifest signature (manifest.json.p7s)" in _failure_names(report), report.lines()


def test_an_expired_trust_anchor_fails_both_signatures(tmp_path: Path, unsigned_pdf: bytes) -> None:
    """Every certificate of the signer's path is judged now, the --trust anchor included: a
    CA that expired yesterday does not vouch for a signer still within its own dates."""
    from reports.sign.verify import verify_directory

    key, ca = _ca_issued(None, ca_expired=True)
    pdf = tmp_path / "report.pdf"
    sign_pdf(unsigned_pdf, pdf, key)
    report = verify_directory(make_day(tmp_path / "out", key, pdf.read_bytes()), trust=[ca])
    assert _failure_names(report) == [
        "manifest signature (manifest.json.p7s)",
        "PDF signature (report.pdf)",
    ], report.lines()
    assert all("certificate CN=Expired CA expired on" in c.detail for c in report.failures)


def test_a_manifest_signature_embedding_its_content_fails(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes
) -> None:
    """manifest.json.p7s is a detached signature (DESIGN.md section 6): one that embeds the
    manifest, though genuine and over the same bytes, fails."""
    import asyncio

    from reports.sign.verify import check_manifest_signature, verify_directory

    day = make_day(tmp_path / "out", signer, signed_pdf)
    manifest = (day / MANIFEST_NAME).read_bytes()
    attached = asyncio.run(
        signer.pyhanko_signer().async_sign_general_data(
            manifest, "sha256", detached=False, use_cades=True
        )
    ).dump()
    (day / SIGNATURE_NAME).write_bytes(attached)
    line = check_manifest_signature(manifest, attached)
    assert not line.ok and line.detail == "embeds its content; expected a detached signature"
    report = verify_directory(day)
    assert "manifest signature (manifest.json.p7s)" in _failure_names(report), report.lines()


def test_a_tsa_certified_by_a_trusted_non_ca_does_not_set_the_signing_time(
    tmp_path: Path, unsigned_pdf: bytes
) -> None:
    """A TSA's issuer must be a CA: BasicConstraints cA and, when it has a KeyUsage, keyCertSign
    (RFC 5280 4.2.1.3). An issuer in --trust whose KeyUsage lacks keyCertSign does not make the
    TSA's token revive an expired signing key."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, rsa
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    from reports.sign.verify import verify_directory

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    old = generate_development_key(algorithm="p256", now=now - dt.timedelta(days=100), days=80)
    signed = now - dt.timedelta(days=60)  # within the old key's validity; it expired since
    issuer_key = ec.generate_private_key(ec.SECP256R1())
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = lambda cn: x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])  # noqa: E731
    sign_only = x509.KeyUsage(True, False, False, False, False, False, False, False, False)
    issuer = (
        x509.CertificateBuilder()
        .subject_name(name("Not a CA"))
        .issuer_name(name("Not a CA"))
        .public_key(issuer_key.public_key())
        .serial_number(1)
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(sign_only, critical=True)
        .sign(issuer_key, hashes.SHA256())
    )
    tsa = (
        x509.CertificateBuilder()
        .subject_name(name("TSA"))
        .issuer_name(name("Not a CA"))
        .public_key(tsa_key.public_key())
        .serial_number(2)
        .not_valid_before(now - dt.timedelta(days=400))
        .not_valid_after(now + dt.timedelta(days=400))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(issuer_key, hashes.SHA256())
    )
    day = _stamped_day(tmp_path / "t", old, unsigned_pdf, _stamper(tsa, tsa_key, signed), signed)
    report = verify_directory(day, trust=[old.certificate, issuer])
    failed = report.failures
    assert {c.name.split(" ")[0] for c in failed} == {"manifest", "PDF"}, report.lines()
    assert all(
        "expired on" in c.detail and "a TSA certified by CN=Not a CA, which is not a CA" in c.detail
        for c in failed
    ), failed


def test_the_package_name_carries_the_signed_lei_exactly(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes, run_mir: Any
) -> None:
    """The name's LEI is compared with the signed one as written (`mir package` names the zip
    with it): a copy renamed with the LEI in lower case is not that firm's package name."""
    out = tmp_path / "out"
    make_day(out, signer, signed_pdf, lei=LEI)
    package = build_package(out, dt.date.fromisoformat(AS_OF), lei=LEI).path
    assert verify_package(package).ok
    renamed = tmp_path / f"{LEI.lower()}_{AS_OF}.zip"
    shutil.copy(package, renamed)
    result = run_mir("verify", renamed)
    assert result.exit_code == 4, result.output
    assert (
        f"package name: FAILED: {renamed.name} is named for {LEI.lower()}, its manifest is of "
        f"LEI {LEI}"
    ) in _failed_lines(result.output)


def test_verify_fails_a_member_that_appears_twice(package: Path, run_mir: Any) -> None:
    """A zip holding a forged capital.csv and, after it, the genuine one: zip readers differ on
    which of the two they extract. A name that appears twice fails, whichever copy the
    hashes were checked on."""
    members = _members(package)
    buffer = io.BytesIO()
    with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
        warnings.simplefilter("ignore", UserWarning)  # zipfile: "Duplicate name"
        forged = ("capital.csv", b"line,item,amount\n1,own_funds,9.00\n")
        for name, data in [forged, *sorted(members.items())]:
            info = zipfile.ZipInfo(name, date_time=(2026, 3, 3, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3
            info.external_attr = 0o100644 << 16
            archive.writestr(info, data)
    package.write_bytes(buffer.getvalue())
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    assert "file capital.csv: FAILED: appears twice in the zip" in _failed_lines(result.output)


def test_verify_fails_a_local_header_whose_flags_disagree_with_the_directory(
    package: Path, run_mir: Any
) -> None:
    """Every field of a member's local header is held to the central directory, the general
    purpose flags too (readers that follow the local header would read the member otherwise)."""
    genuine = package.read_bytes()
    with zipfile.ZipFile(package) as archive:
        at = archive.getinfo("capital.csv").header_offset
    raw = bytearray(genuine)
    flags = int.from_bytes(raw[at + 6 : at + 8], "little") | 0x0002  # deflate option bit
    raw[at + 6 : at + 8] = flags.to_bytes(2, "little")
    package.write_bytes(bytes(raw))
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    (line,) = _failed_lines(result.output)
    assert line.startswith("zip archive: FAILED: not laid out as `mir package` writes a package")
    assert "the local header of capital.csv disagrees with the directory" in line


def test_verify_exits_4_when_its_reader_goes_away(
    package: Path, run_mir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`mir verify ZIP | grep -q FAILED`: the reader leaves at the first line (a broken pipe);
    a package that fails still exits 4, the code decided before printing, and a good one 0."""
    import click

    def reader_gone(*args: Any, **kwargs: Any) -> None:
        raise BrokenPipeError

    members = _members(package)
    del members["capital.csv"]
    tampered = _rezip(package.with_name("tampered.zip"), members)
    monkeypatch.setattr(click, "echo", reader_gone)
    assert run_mir("verify", tampered).exit_code == 4
    assert run_mir("verify", package).exit_code == 0


def test_the_package_is_readable_by_all(package: Path) -> None:
    """The zip is written mode 0644 whatever the temporary file it was made in (0600): the
    transfer to the regulator runs as another user."""
    assert stat.S_IMODE(package.stat().st_mode) == 0o644


def test_the_package_keeps_to_a_private_umask(out: Path, config: Path, run_mir: Any) -> None:
    """Under umask 077 the zip, which holds every CSV, was still 0644, readable by any user of
    the server, while the day directory's files were 0600 (environment audit of 2026-12-07)."""
    import os

    previous = os.umask(0o077)
    try:
        result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config)
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((out / f"{LEI}_{AS_OF}.zip").stat().st_mode) == 0o600


# --- mutation review of 2026-12-07 (signing, packaging, verification) --------------------------


def _tsa_certificate(key: Any, *, critical: bool) -> x509.Certificate:
    """A self-signed TSA certificate for `key`, valid around now, whose only extended key usage
    is timeStamping (`critical` or not)."""
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = dt.datetime.now(dt.UTC)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "TSA")])
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=300))
        .not_valid_after(now + dt.timedelta(days=300))
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=critical
        )
        .sign(key, hashes.SHA256())
    )


@pytest.mark.parametrize(
    ("own_key", "critical", "why"),
    [
        (True, True, "a TSA certified with the signer's own key"),
        (False, False, "without the critical timeStamping extended key usage alone"),
    ],
)
def test_a_trusted_tsa_of_the_signers_own_key_or_a_non_critical_usage_sets_no_signing_time(
    tmp_path, unsigned_pdf, own_key: bool, critical: bool, why: str
) -> None:
    """A TSA in --trust establishes the signing time only if its certificate's key is not the
    signer's (the holder of an expired key re-certified as a TSA backdates a token) and its
    timeStamping usage is critical (RFC 3161 2.3); else the expired key fails both signatures."""
    from cryptography.hazmat.primitives.asymmetric import rsa

    from reports.sign.verify import verify_directory

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    # RSA: pyHanko's test TSA signs with RSA keys only
    old = generate_development_key(now=now - dt.timedelta(days=100), days=80)
    signed = now - dt.timedelta(days=60)  # inside the key's validity
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = old.private_key if own_key else other
    tsa = _tsa_certificate(key, critical=critical)
    day = _stamped_day(tmp_path / "d", old, unsigned_pdf, _stamper(tsa, key, signed), signed)
    failed = verify_directory(day, trust=[old.certificate, tsa]).failures
    assert {c.name.split(" ")[0] for c in failed} == {"manifest", "PDF"}, failed
    assert all("expired on" in c.detail and why in c.detail for c in failed), failed


def test_package_judges_the_chain_of_later_days_of_its_own_firm_only(
    out: Path, config: Path, run_mir: Any
) -> None:
    """Another firm's package of a later day in the same OUT is not this firm's next day:
    packaging warns of no broken link because of it."""
    (out / "OTHERLEI_2026-03-04.zip").write_bytes(b"another firm's package")
    result = run_mir("package", "--as-of", AS_OF, "--out", out, "--config", config)
    assert result.exit_code == 0, result.output
    assert "does not link" not in result.stderr, result.stderr


@pytest.mark.parametrize("size", [(1 << 20) + 5, (2 << 20) + 3])
def test_a_valid_member_just_over_a_mebibyte_of_inflated_output_has_no_stream_problem(
    size,
) -> None:
    """Review of 2026-12-07: the member check inflates 1 MiB at a time and stopped asking
    once every compressed byte was taken, though output was still pending: a valid deflated
    member of zeros 1 MiB and a few bytes long was read as 1,048,576 bytes and failed verify."""
    from reports.sign.manifest import member_stream_problem

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("exceptions.csv", bytes(size))
    with zipfile.ZipFile(buffer) as archive:
        info = archive.infolist()[0]
        assert member_stream_problem(buffer, info) is None


def test_verify_streams_a_large_member_once_instead_of_holding_it(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes
) -> None:
    """Review of 2026-12-07: `mir verify` inflated every member twice and held it whole (a
    package with a 300 MiB member took 650 MB). A member no check parses is hashed while it is
    inflated, in chunks: the memory verify takes does not grow with the member's size."""
    import tracemalloc

    day = make_day(tmp_path / "out", signer, signed_pdf)
    (day / "large.bin").write_bytes(bytes(48 << 20))
    sign_manifest(write_manifest(day, inputs=INPUTS, config_sha256="c" * 64), signer)
    package = tmp_path / f"{LEI}_{AS_OF}.zip"
    members = {p.name: p.read_bytes() for p in day.iterdir()}
    package.write_bytes(deterministic_zip(members, dt.date.fromisoformat(AS_OF)))
    del members
    tracemalloc.start()
    try:
        report = verify_package(package)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    digest = hashlib.sha256(bytes(48 << 20)).hexdigest()
    assert report.ok, report.lines()
    assert f"file large.bin: ok (sha256 {digest[:16]}..., 50331648 bytes)" in report.lines()
    assert peak < 16 << 20, f"verify took {peak:,} bytes for a 48 MiB member"


def test_an_altered_manifests_lei_is_not_called_another_firms_key(
    tmp_path: Path, run_mir: Any
) -> None:
    """Review of 2026-12-07: the firm's own key, --trust holding its certificate, and the
    manifest's "lei" changed after signing read "signer LEI: FAILED: ... its certificate is
    not one --trust vouches for": it is; the manifest's signature is what does not verify."""
    other = "529900T8BM49AURSDO55"
    key = generate_development_key(algorithm="p256", lei=LEI)
    root = tmp_path / "out"
    make_day(root, key, day_pdf(key, AS_OF), lei=LEI)
    package = build_package(root, dt.date.fromisoformat(AS_OF), lei=LEI).path
    members = _members(package)
    members[MANIFEST_NAME] = members[MANIFEST_NAME].replace(LEI.encode(), other.encode())
    _rezip(package, members)
    crt = tmp_path / "own.pem"
    crt.write_bytes(key.certificate.public_bytes(serialization.Encoding.PEM))
    result = run_mir("verify", package, "--trust", crt)
    assert result.exit_code == 4, result.output
    assert "modified after signing" in result.output, result.output
    assert "another firm's key" not in result.output, result.output
    # that certificate is the one --trust holds: its signature is what fails
    assert (
        f"signer LEI: FAILED: the signing certificate names LEI {LEI}, the manifest {other}: the "
        "package contradicts itself on whose it is (its signature does not verify, who signed "
        "is not checked)"
    ) in result.output, result.output
    # another field altered, the LEIs agreeing: not "a certificate --trust does not vouch for"
    members[MANIFEST_NAME] = members[MANIFEST_NAME].replace(other.encode(), LEI.encode())
    members[MANIFEST_NAME] = members[MANIFEST_NAME].replace(b'"' + b"c" * 64, b'"' + b"d" * 64)
    _rezip(package, members)
    altered = run_mir("verify", package, "--trust", crt)
    assert altered.exit_code == 4, altered.output
    assert "modified after signing" in altered.output, altered.output
    assert (
        f"signer LEI: NOT CHECKED (the package's own signing certificate claims {LEI}, as the "
        "manifest does; its signature does not verify, nothing shows that its holder signed "
        "this manifest)"
    ) in altered.output, altered.output


# --- mutation audit of 2026-12-07 (reports/sign/verify.py): checks no test held ---------------
# Each test below fails under a mutation of verify.py that the suite let through.


def test_verify_fails_a_package_without_its_manifest(package: Path, run_mir: Any) -> None:
    """A package whose manifest.json was deleted (every other member genuine, the signature
    of the manifest beside nothing) fails: nothing then vouches for any of its files."""
    members = _members(package)
    del members[MANIFEST_NAME]
    result = run_mir("verify", _rezip(package, members))
    assert result.exit_code == 4, result.output
    assert _failed_lines(result.output) == ["manifest.json: FAILED: missing"]


def test_a_pdf_signature_whose_value_is_altered_fails(
    tmp_path: Path, signer: SignerKey, signed_pdf: bytes
) -> None:
    """report.pdf whose CMS signature value was altered (its signed byte range and digest
    intact: what re-pointing the messageDigest at edited content leaves) does not verify,
    with or without --trust."""
    from pyhanko.pdf_utils.reader import PdfFileReader

    from reports.sign.verify import verify_directory

    signature = next(iter(PdfFileReader(io.BytesIO(signed_pdf)).embedded_signatures))
    value = signature.signer_info["signature"].native.hex().upper().encode()
    assert signed_pdf.count(value) == 1  # /Contents holds it as upper-case hex
    at = signed_pdf.index(value) + len(value) // 2
    flipped = b"0" if signed_pdf[at : at + 1] != b"0" else b"1"
    altered = signed_pdf[:at] + flipped + signed_pdf[at + 1 :]
    day = make_day(tmp_path / "out", signer, altered)
    for trust in (None, [signer.certificate]):
        report = verify_directory(day, trust=trust)
        assert _failure_names(report) == ["PDF signature (report.pdf)"], report.lines()
        assert report.failures[0].detail.endswith("the signature value does not verify")


def _with_altered_timestamp(signature: bytes, part: str) -> bytes:
    """The CMS signature with its timestamp token altered: the TSA's signature value (`value`)
    or the time it attests (`time`, a day earlier). No hash covers the .p7s's unsigned
    attributes: only the token's own signature shows the change."""
    from asn1crypto import cms, core

    info = cms.ContentInfo.load(signature)
    token = info["content"]["signer_infos"][0]["unsigned_attrs"][0]["values"][0]["content"]
    if part == "value":
        tsa_info = token["signer_infos"][0]
        value = bytearray(tsa_info["signature"].native)
        value[len(value) // 2] ^= 0x01
        tsa_info["signature"] = core.OctetString(bytes(value))
    else:
        stamp = token["encap_content_info"]["content"].parsed
        stamp["gen_time"] = core.GeneralizedTime(stamp["gen_time"].native - dt.timedelta(days=1))
        token["encap_content_info"]["content"] = cms.ParsableOctetString(stamp.dump(force=True))
    return info.dump(force=True)


@pytest.mark.parametrize("part", ["value", "time"])
def test_an_altered_timestamp_token_fails_the_signature(
    tmp_path: Path, signer: SignerKey, unsigned_pdf: bytes, part: str
) -> None:
    """A timestamp token in manifest.json.p7s whose TSA signature no longer verifies fails the
    manifest's line (not a warning about an untrusted TSA), with or without --trust."""
    from reports.sign.verify import verify_directory

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    tsa = _timestamped_day(tmp_path / "t", signer, unsigned_pdf, now, timestamped=True)
    day = tmp_path / "t" / AS_OF
    assert verify_directory(day).ok
    path = day / SIGNATURE_NAME
    path.write_bytes(_with_altered_timestamp(path.read_bytes(), part))
    for trust in (None, [signer.certificate, tsa]):
        report = verify_directory(day, trust=trust)
        assert _failure_names(report) == ["manifest signature (manifest.json.p7s)"], report.lines()
        assert "its timestamp token is broken" in report.failures[0].detail


def _with_member_in_front(genuine: bytes, front: bytes) -> bytes:
    """`front` (a forged member's local header and data) put before the genuine package, every
    offset of its directory and end record moved to match: a zip Python's zipfile reads as the
    genuine package (no offset to correct), while a streaming reader extracts `front` first."""
    shift = len(front)
    raw = bytearray(genuine)
    (start,) = struct.unpack("<I", raw[-6:-2])
    at = start
    while raw[at : at + 4] == b"PK\x01\x02":
        (offset,) = struct.unpack("<I", raw[at + 42 : at + 46])
        raw[at + 42 : at + 46] = struct.pack("<I", offset + shift)
        at += 46 + sum(struct.unpack("<HHH", raw[at + 28 : at + 34]))
    raw[-6:-2] = struct.pack("<I", start + shift)
    return front + bytes(raw)


def test_verify_refuses_a_forged_member_in_front_with_consistent_offsets(
    package: Path, run_mir: Any
) -> None:
    """A forged capital.csv put before the first member, with the directory's offsets moved to
    match (so that no other layout check sees a gap), fails the zip's layout: a streaming
    reader would extract the forgery, Python's zipfile the genuine member."""
    genuine = package.read_bytes()
    forged = deterministic_zip({"capital.csv": b"forged\n"}, dt.date.fromisoformat(AS_OF))
    with zipfile.ZipFile(io.BytesIO(forged)) as archive:
        front = forged[: archive.start_dir]  # type: ignore[attr-defined]
    members = _members(package)
    package.write_bytes(_with_member_in_front(genuine, front))
    assert _members(package) == members  # what Python reads: the genuine package
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    assert _failed_lines(result.output) == [
        "zip archive: FAILED: not laid out as `mir package` writes a package (+"
        f"{len(front):,} bytes before its first member): other zip tools may extract other "
        "files than the ones verified here"
    ]


def _with_directory_only_extra(genuine: bytes, member: str, extra: bytes) -> bytes:
    """The package with `extra` (whole extra fields) added to `member`'s central directory entry
    only, the directory's size in the end record grown to match."""
    raw = bytearray(genuine)
    (start,) = struct.unpack("<I", raw[-6:-2])
    at = start
    while raw[at : at + 4] == b"PK\x01\x02":
        name_length, extra_length, comment_length = struct.unpack("<HHH", raw[at + 28 : at + 34])
        if raw[at + 46 : at + 46 + name_length] == member.encode():
            assert extra_length == 0
            raw[at + 30 : at + 32] = struct.pack("<H", len(extra))
            raw[at + 46 + name_length : at + 46 + name_length] = extra
            (size,) = struct.unpack("<I", raw[-10:-6])
            raw[-10:-6] = struct.pack("<I", size + len(extra))
            return bytes(raw)
        at += 46 + name_length + extra_length + comment_length
    raise AssertionError(member)


def test_verify_refuses_an_extra_field_in_the_directory_only(package: Path, run_mir: Any) -> None:
    """An Info-ZIP Unicode Path extra field (0x7075) naming stress.csv on capital.csv's entry
    of the central directory only (its local header untouched, so every offset still adds up):
    unzip extracts capital.csv's bytes as stress.csv, Python's zipfile ignores the field. The
    package fails."""
    genuine = package.read_bytes()
    payload = b"\x01" + zlib.crc32(b"capital.csv").to_bytes(4, "little") + b"stress.csv"
    extra = b"\x75\x70" + len(payload).to_bytes(2, "little") + payload
    package.write_bytes(_with_directory_only_extra(genuine, "capital.csv", extra))
    with zipfile.ZipFile(package) as archive:
        assert archive.getinfo("capital.csv").extra == extra
    result = run_mir("verify", package)
    assert result.exit_code == 4, result.output
    assert _failed_lines(result.output) == [
        "zip archive: FAILED: not laid out as `mir package` writes a package (capital.csv "
        "carries extra fields): other zip tools may extract other files than the ones verified "
        "here"
    ]


def _day_without(tmp_path: Path, signer: SignerKey, name: str) -> Path:
    """A day directory without `name` (one of the CSVs or summary.json), consistently: its
    report.pdf embeds every other one, its manifest lists every other one, both signed."""
    embedded = {**CSVS, "summary.json": summary_json(AS_OF)}
    del embedded[name]
    pdf = tmp_path / "report.pdf"
    sign_pdf(_pdf_embedding(embedded), pdf, signer)
    day = make_day(tmp_path / "out", signer, pdf.read_bytes())
    (day / name).unlink()
    sign_manifest(write_manifest(day, inputs=INPUTS, config_sha256="c" * 64), signer)
    return day


def test_a_signed_package_without_a_required_output_fails(
    tmp_path: Path, signer: SignerKey
) -> None:
    """DESIGN section 6's outputs are all required: a day signed without stress.csv (its
    manifest and PDF consistent with each other, both signatures valid) does not verify."""
    from reports.sign.verify import verify_directory

    report = verify_directory(_day_without(tmp_path, signer, "stress.csv"))
    assert _failure_names(report) == ["required files"], report.lines()
    assert report.failures[0].detail == "manifest.json does not list stress.csv"


def test_a_pdf_embedding_fewer_files_than_the_package_holds_fails(
    tmp_path: Path, signer: SignerKey
) -> None:
    """report.pdf embeds exactly the package's CSVs and summary.json: a PDF that lacks one the
    package holds (a figure the regulator reads beside it but not in the signed report) fails."""
    from reports.sign.verify import verify_directory

    embedded = {**CSVS, "summary.json": summary_json(AS_OF)}
    del embedded["stress.csv"]
    pdf = tmp_path / "report.pdf"
    sign_pdf(_pdf_embedding(embedded), pdf, signer)
    report = verify_directory(make_day(tmp_path / "out", signer, pdf.read_bytes()))
    assert _failure_names(report) == ["report.pdf attachments"], report.lines()
    assert report.failures[0].detail.endswith(
        "the package holds capital.csv, concentration.csv, exceptions.csv, segregation.csv, "
        "stress.csv, summary.json"
    )


def test_a_summary_without_its_inputs_fails_when_the_manifest_lists_them() -> None:
    """summary.json must carry the inputs the manifest signs: one stripped of its "inputs"
    object does not match the manifest."""
    from reports.sign.verify import _summary_line

    manifest = {
        "as_of": AS_OF,
        "run_id": "r-1",
        "inputs": [{"file": "accounts", "rows": 3, "sha256": "a" * 64}],
    }
    stripped = json.loads(summary_json(AS_OF))
    del stripped["inputs"]
    line = _summary_line({"summary.json": json.dumps(stripped).encode()}, manifest)
    assert not line.ok, line
    assert line.detail == "summary.json has no inputs object"
