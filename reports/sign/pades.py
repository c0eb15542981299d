"""PAdES signing of report.pdf (ETSI EN 319 142: B-B, or B-T with a timestamp authority).

The signature is invisible (no appearance stream, no new font), added by pyHanko as an incremental
update, so the PDF/A-3b identification, the XMP metadata and the embedded CSVs (associated files,
/AF) of the unsigned document are kept. The signature covers the whole file.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import io
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reports.config import SigningConfig
from reports.errors import SigningError
from reports.sign.keys import SignerKey, load_signer_from_config

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import TimeStamper

SIGNATURE_FIELD = "mir-signature"
PADES_SUBFILTER = "/ETSI.CAdES.detached"
DEFAULT_REASON = "Regulatory report issued by mir"


@dataclass(frozen=True)
class SignatureInfo:
    """What `sign_pdf` produced."""

    path: Path
    level: str  # "B-B" or "B-T"
    signer_subject: str
    certificate_sha256: str
    development_key: bool
    signing_time: dt.datetime
    sha256: str
    size: int


def _timestamper_for(tsa_url: str) -> TimeStamper | None:
    if not tsa_url:
        return None
    from pyhanko.sign.timestamps import HTTPTimeStamper

    return HTTPTimeStamper(tsa_url)


def _signer_and_tsa(
    signer: SignerKey | SigningConfig, tsa_url: str | None
) -> tuple[SignerKey, str]:
    if isinstance(signer, SigningConfig):
        return load_signer_from_config(signer), signer.tsa_url if tsa_url is None else tsa_url
    return signer, tsa_url or ""


def _pdf_bytes(pdf: bytes | str | os.PathLike[str]) -> bytes:
    if isinstance(pdf, bytes):
        return pdf
    try:
        return Path(pdf).read_bytes()
    except OSError as exc:
        msg = f"cannot read the PDF to sign {pdf}: {exc.strerror}"
        raise SigningError(msg) from None


def _write_atomically(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _align_producer_with_xmp(writer: Any) -> None:
    """Keep the /Info and XMP producers equal, as PDF/A requires.

    pyHanko appends "; pyHanko x.y" to /Info /Producer but writes only "pyHanko x.y" as the XMP
    pdf:Producer; starting /Info from that same value keeps the two identical.
    """
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.metadata.model import VENDOR

    try:
        info = writer.trailer["/Info"]
    except KeyError:
        return  # pyHanko writes a consistent pair itself when there is no /Info
    new_info = generic.DictionaryObject({k: v for k, v in info.items() if k != "/Producer"})
    new_info[generic.NameObject("/Producer")] = generic.TextStringObject(VENDOR)
    writer.set_info(new_info)


@functools.cache
def _pdf_signer_class() -> type:
    from pyhanko.sign import signers

    class FixedTimePdfSigner(signers.PdfSigner):
        """PdfSigner whose signing time (/M, the signature dictionary's date) can be given."""

        signing_time: dt.datetime | None = None

        def init_signing_session(self, pdf_out: Any, existing_fields_only: bool = False) -> Any:
            session = super().init_signing_session(
                pdf_out, existing_fields_only=existing_fields_only
            )
            if self.signing_time is not None:
                session.system_time = self.signing_time
            return session

    return FixedTimePdfSigner


def sign_pdf(
    pdf: bytes | str | os.PathLike[str],
    out_path: str | os.PathLike[str],
    signer: SignerKey | SigningConfig,
    *,
    timestamper: TimeStamper | None = None,
    tsa_url: str | None = None,
    signing_time: dt.datetime | None = None,
    reason: str = DEFAULT_REASON,
    location: str | None = None,
) -> SignatureInfo:
    """Sign a PDF (bytes or a path) with an invisible PAdES signature and write it to out_path.

    ``signer`` is a loaded key, or the [signing] configuration (the PKCS#12 file is then opened
    with the passphrase from its environment variable). The level is B-T when a ``timestamper``
    is passed (tests use pyHanko's DummyTimeStamper) or a TSA URL is configured (``tsa_url``
    overrides ``[signing] tsa_url``), else B-B. ``signing_time`` (timezone-aware) fixes the
    claimed signing time; by default it is now. The PDF differs run to run anyway (signature
    values, timestamps); only the CSVs and summary.json are reproducible.
    """
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.misc import PdfError
    from pyhanko.sign import signers
    from pyhanko.sign.fields import SigSeedSubFilter
    from pyhanko.sign.general import SigningError as PyHankoSigningError
    from pyhanko.sign.timestamps import TimestampRequestError

    key, url = _signer_and_tsa(signer, tsa_url)
    if timestamper is None:
        timestamper = _timestamper_for(url)
    if signing_time is not None and signing_time.tzinfo is None:
        msg = "signing_time must be timezone-aware (e.g. datetime(..., tzinfo=UTC))"
        raise SigningError(msg)
    when = (signing_time or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    source = _pdf_bytes(pdf)

    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason,
        location=location,
    )
    pdf_signer = _pdf_signer_class()(metadata, key.pyhanko_signer(), timestamper=timestamper)
    pdf_signer.signing_time = when
    try:
        writer = IncrementalPdfFileWriter(io.BytesIO(source))
        _align_producer_with_xmp(writer)
        signed = pdf_signer.sign_pdf(writer, output=io.BytesIO()).getvalue()
    except (TimestampRequestError, OSError, TimeoutError) as exc:  # aiohttp's errors are OSErrors
        if timestamper is None:
            raise
        msg = f"the timestamp authority did not answer ({url or 'custom timestamper'}): {exc.__cause__ or exc}; check [signing] tsa_url or leave it empty for PAdES B-B"
        raise SigningError(msg) from None
    except (PdfError, PyHankoSigningError) as exc:
        msg = f"cannot sign the PDF: {exc}"
        raise SigningError(msg) from None

    out = Path(out_path)
    _write_atomically(out, signed)
    return SignatureInfo(
        path=out,
        level="B-T" if timestamper is not None else "B-B",
        signer_subject=key.subject,
        certificate_sha256=key.fingerprint_sha256,
        development_key=key.is_development,
        signing_time=when,
        sha256=hashlib.sha256(signed).hexdigest(),
        size=len(signed),
    )
