"""`mir package`: zip a verified day directory as <LEI>_<as_of>.zip, deterministically.

The day directory is verified first (every file against manifest.json, both signatures), and the
very bytes that were verified are zipped, so a package that `mir package` writes passes
`mir verify`. Entries are flat, sorted by name, dated the as-of date at 00:00, mode 0644, with no
extra fields or comments: the same day directory gives the same zip bytes.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import os
import shutil
import tempfile
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from reports.config import LEI_PATTERN
from reports.errors import ConfigError, UsageError, VerificationError, naming_the_full_disk
from reports.lock import directory_lock
from reports.outdir import fsync_dir, remove_leftovers, umask_mode
from reports.sign.manifest import MANIFEST_NAME, SIGNATURE_NAME, find_previous_manifest
from reports.sign.verify import (
    CheckLine,
    Predecessor,
    VerifyReport,
    predecessor_at,
    read_directory,
    trust_certificates,
    verify_files,
)


@dataclass(frozen=True)
class PackageResult:
    path: Path
    files: list[str]
    size: int
    sha256: str
    replaced: bool
    report: VerifyReport
    superseded: Path | None = None  # where the package it replaced was kept (supersede=True)


def package_path(out_dir: str | os.PathLike[str], as_of: dt.date, lei: str) -> Path:
    """<out>/<LEI>_<as_of>.zip"""
    if not LEI_PATTERN.fullmatch(lei):
        msg = f"firm.lei {lei!r} must be letters and digits only (an ISO 17442 LEI has 20), as it names the package"
        raise ConfigError(msg)
    return Path(out_dir) / f"{lei}_{as_of.isoformat()}.zip"


def deterministic_zip(files: Mapping[str, bytes], as_of: dt.date) -> bytes:
    """A zip of `files` whose bytes depend only on the names, contents and as-of date."""
    # zip dates start in 1980; a fixed date keeps the archive reproducible
    stamp = (max(as_of.year, 1980), as_of.month, as_of.day, 0, 0, 0)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # unix, whatever the platform, so the mode bits mean the same
            info.external_attr = 0o100644 << 16
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def build_package(
    out_dir: str | os.PathLike[str],
    as_of: dt.date,
    *,
    lei: str,
    force: bool = False,
    supersede: bool = False,
    trust: str | os.PathLike[str] | Sequence[x509.Certificate] | None = None,
) -> PackageResult:
    """Verify <out>/<as_of>/ and zip it as <out>/<LEI>_<as_of>.zip.

    Never replaces an existing package unless ``force`` or ``supersede``; with ``supersede`` the
    existing one is first kept as <out>/superseded/<name>.<UTC stamp>.zip (the daily job). The
    new package is complete on disk before anything moves, and takes the package's path in one
    rename: at every instant the path holds the old package or the new one, never nothing (a
    run killed in between leaves the old one in place, and at most an extra copy in
    superseded/). Refuses (VerificationError, exit 4)
    when a file does not match manifest.json, a file is missing or unlisted, or a signature
    does not verify; a missing day directory or manifest is a UsageError (run `mir report`).
    """
    root = Path(out_dir)
    day_dir = root / as_of.isoformat()
    run_report = f"run `mir report --as-of {as_of.isoformat()} --out {root}` first"
    if not root.is_dir():
        msg = f"no day directory {day_dir}; {run_report}"
        raise UsageError(msg)
    # one run writes OUT at a time (reports.lock; the daily job already holds it)
    with directory_lock(root, f"mir package {as_of.isoformat()}"):
        remove_leftovers(root)  # a killed run's: a day directory moved aside goes back first
        if not day_dir.is_dir():
            msg = f"no day directory {day_dir}; {run_report}"
            raise UsageError(msg)
        for name in (MANIFEST_NAME, SIGNATURE_NAME):
            if not (day_dir / name).is_file():
                msg = f"{day_dir / name} is missing; {run_report}"
                raise UsageError(msg)
        target = package_path(root, as_of, lei)
        existed = target.exists()
        if existed and not (force or supersede):
            msg = f"{target} already exists; use --force to replace it"
            raise UsageError(msg)

        files = read_directory(day_dir)
        # the hash chain too, against the day the manifest was linked to: the latest earlier day in
        # OUT, its day directory or, when that is gone, its package (reports.sign.manifest). A
        # manifest whose predecessor was re-run since is refused, not zipped. (Not simply the earlier
        # zip beside it: a day reported but never packaged would then break every later day's chain.)
        previous = find_previous_manifest(root, as_of, lei)
        report = verify_files(
            files,
            trust=trust_certificates(trust),
            source=str(day_dir),
            previous=Predecessor(previous.path.name, previous.manifest) if previous else None,
        )
        if not report.ok:
            reasons = "; ".join(line.render() for line in report.failures)
            msg = f"refusing to package {day_dir}: {reasons}"
            raise VerificationError(msg)
        if report.manifest is not None and report.manifest.get("as_of") != as_of.isoformat():
            # `mir verify` would fail the zip's name against its manifest
            msg = (
                f"refusing to package {day_dir}: its manifest is as of "
                f"{report.manifest.get('as_of')}, not {as_of.isoformat()}"
            )
            raise VerificationError(msg)
        signed_lei = report.manifest.get("lei") if report.manifest is not None else None
        if signed_lei is not None and signed_lei != lei:
            # `mir verify` would fail the zip's name against the LEI its manifest signs
            msg = (
                f"refusing to package {day_dir} as {target.name}: its manifest is of LEI "
                f'{signed_lei}; package it with [firm] lei = "{signed_lei}" (or report it '
                "again under this one)"
            )
            # the configuration disagrees with the day's signed report: a usage error, exit 2
            # (configuration review of 2026-12-05: exit 4 read as a failed verification)
            raise UsageError(msg)
        if previous is not None and previous.path.is_dir():
            linked = previous.day.isoformat()
            linked_package = package_path(root, previous.day, lei)
            # `mir verify` (the regulator's) checks the link against the zips beside this one
            problem: str | None = None
            replace = ""
            if not linked_package.is_file():
                problem = f"the day this package links to, {linked}, has no package in {root}"
            elif predecessor_at(linked_package).manifest != previous.manifest:
                problem = (
                    f"the package of {linked}, the day this package links to, holds another "
                    f"manifest than {previous.path} (reported again, not packaged)"
                )
                replace = " --force"
            if problem is not None:
                report.add(
                    CheckLine(
                        "linked package",
                        True,
                        f"this manifest links to {linked}",
                        (
                            f"{problem}: `mir verify` fails this package's hash chain until "
                            f"{linked_package.name} is the package of that day directory; run "
                            f"`mir package --as-of {linked} --out {root}{replace}`",
                        ),
                    )
                )

        data = deterministic_zip(files, as_of)
        fd, tmp = tempfile.mkstemp(dir=root, prefix=f".{target.name}.", suffix=".tmp")
        superseded = None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())  # on the disk before it is published
            os.chmod(tmp, umask_mode(0o666))  # mkstemp made it 0600: as any new file
            if existed and supersede:
                superseded = _keep_aside(target)
            os.replace(tmp, target)
            fsync_dir(root)
        except BaseException as exc:
            Path(tmp).unlink(missing_ok=True)
            named = naming_the_full_disk(exc, tmp)
            if named is not exc:
                raise named from exc
            raise
        return PackageResult(
            path=target,
            files=sorted(files),
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            replaced=existed,
            report=report,
            superseded=superseded,
        )


def _keep_aside(package: Path) -> Path:
    """Keep a copy of `package` as <its folder>/superseded/<name>.<UTC stamp>.zip (a hard link
    where the file system allows it) and return that path; the package itself stays in place."""
    folder = package.parent / "superseded"
    folder.mkdir(exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
    kept = folder / f"{package.stem}.{stamp}{package.suffix}"
    try:
        os.link(package, kept)
    except OSError:  # no hard links here (another file system, FAT): a full copy
        shutil.copy2(package, kept)
    return kept
