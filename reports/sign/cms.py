"""Detached CMS signature of manifest.json: manifest.json.p7s (DER, CAdES-BES, signer cert included).

A regulator checks it with standard tools:

    openssl cms -verify -binary -inform DER -in manifest.json.p7s -content manifest.json \\
        -CAfile signer.crt -purpose any -out /dev/null

``-binary`` keeps OpenSSL from translating line endings of the content (the signature is over the
exact bytes); ``-purpose any`` stops it from requiring the S/MIME e-mail purpose of the signer
certificate (the signer is a document-signing key, not an e-mail one).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from reports.config import SigningConfig
from reports.errors import SigningError
from reports.sign.keys import SignerKey, load_signer_from_config

if TYPE_CHECKING:
    from pyhanko.sign.timestamps import TimeStamper

SIGNATURE_SUFFIX = ".p7s"


def cms_sign_detached(
    data: bytes,
    key: SignerKey,
    *,
    signing_time: dt.datetime | None = None,
    timestamper: TimeStamper | None = None,
) -> bytes:
    """DER ContentInfo(SignedData) over `data`, detached (the content is not embedded).

    Signed attributes: content type, message digest, signing time, signing-certificate-v2
    (CAdES-BES); with a timestamper, a signature timestamp is added (CAdES-T).
    """
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes
    from pyhanko.sign.timestamps import TimestampRequestError

    when = (signing_time or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    if when.tzinfo is None:
        msg = "signing_time must be timezone-aware (e.g. datetime(..., tzinfo=UTC))"
        raise SigningError(msg)
    signer = key.pyhanko_signer()
    try:
        content_info = asyncio.run(
            signer.async_sign_general_data(
                data,
                "sha256",
                detached=True,
                use_cades=True,
                timestamper=timestamper,
                signed_attr_settings=PdfCMSSignedAttributes(signing_time=when),
            )
        )
    except (TimestampRequestError, OSError, TimeoutError) as exc:  # aiohttp's errors are OSErrors
        if timestamper is None:
            raise
        msg = f"the timestamp authority did not answer: {exc.__cause__ or exc}; check [signing] tsa_url"
        raise SigningError(msg) from None
    return bytes(content_info.dump())


def sign_manifest(
    manifest_path: str | os.PathLike[str],
    signer: SignerKey | SigningConfig,
    *,
    signing_time: dt.datetime | None = None,
    timestamper: TimeStamper | None = None,
    tsa_url: str | None = None,
) -> Path:
    """Write <manifest>.p7s beside the manifest and return its path.

    ``signer`` is a loaded key or the [signing] configuration (PKCS#12 + passphrase from its
    environment variable). The signature is timestamped (CAdES-T) when a ``timestamper`` is
    passed or a TSA URL is set (``tsa_url``, else the configuration's ``tsa_url``).
    """
    manifest = Path(manifest_path)
    try:
        data = manifest.read_bytes()
    except OSError as exc:
        msg = f"cannot read {manifest} to sign it: {exc.strerror}"
        raise SigningError(msg) from None
    if isinstance(signer, SigningConfig):
        key = load_signer_from_config(signer)
        url = signer.tsa_url if tsa_url is None else tsa_url
    else:
        key, url = signer, tsa_url or ""
    if timestamper is None and url:
        from pyhanko.sign.timestamps import HTTPTimeStamper

        timestamper = HTTPTimeStamper(url)
    der = cms_sign_detached(data, key, signing_time=signing_time, timestamper=timestamper)
    out = manifest.with_name(manifest.name + SIGNATURE_SUFFIX)
    tmp = out.with_name(f".{out.name}.tmp")
    tmp.write_bytes(der)
    os.replace(tmp, out)
    return out
