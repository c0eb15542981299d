"""Signing, packaging and verification: the last stages of the data path.

    keys     `mir keys init` development key, PKCS#12 loading, passphrase from the environment
    pades    sign_pdf: invisible PAdES B-B / B-T signature of report.pdf (PDF/A-3b kept)
    manifest write_manifest: manifest.json (file hashes, inputs, config hash, hash chain)
    cms      sign_manifest: manifest.json.p7s (detached CMS, DER)
    package  build_package: verified, deterministic <LEI>_<as_of>.zip
    verify   verify_package: re-check a package end to end

Import from the submodules (``from reports.sign.pades import sign_pdf``); they load pyHanko
lazily so `mir --help` stays fast.
"""

from __future__ import annotations
