"""manifest.json: every output file's SHA-256 and size, the inputs, the config hash, a hash chain.

The manifest is canonical JSON (sorted keys, 2-space indent, ASCII, trailing newline), so the same
day directory, inputs and configuration give the same bytes. ``previous_manifest_sha256`` is the
SHA-256 of the manifest.json of the latest earlier day in the same output directory (null for the
first day): its day directory, or, where that was deleted (a retention policy that keeps only
the submitted zips), its package <LEI>_<date>.zip there. Altering or dropping an earlier day's
files breaks the chain. Before linking, that manifest's own signature must verify (a day is never
chained onto a manifest that was altered or left unsigned), and `mir verify` checks the link
against the earlier package when it can find it. Re-running an earlier day gives it a new
manifest: the later days' links then point at the superseded one (`broken_links_after` names
them, so the job can say so).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Final

from reports import __version__
from reports.errors import SigningError, UsageError
from reports.spec import parse_iso_date

MANIFEST_NAME: Final = "manifest.json"
SIGNATURE_NAME: Final = "manifest.json.p7s"
MANIFEST_VERSION: Final = 1
AUTO: Final = "auto"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_CHUNK = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """One loaded snapshot file, as recorded in the `loads` table."""

    file: str
    sha256: str
    rows: int


@dataclass(frozen=True)
class FileEntry:
    name: str
    sha256: str
    size: int


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def canonical_json(data: Any) -> bytes:
    """Sorted keys, 2-space indent, ASCII only, one trailing newline."""
    return (json.dumps(data, sort_keys=True, indent=2, ensure_ascii=True) + "\n").encode("ascii")


def is_safe_name(name: str) -> bool:
    """A plain file name: no folders, no parent references, nothing a zip tool would misplace."""
    return (
        bool(name)
        and name not in (".", "..")
        and "/" not in name
        and "\\" not in name
        and "\x00" not in name
    )


def listed_files(day_dir: Path) -> list[FileEntry]:
    """Every file of the day directory except the manifest and its signature, sorted by name."""
    entries: list[FileEntry] = []
    for path in sorted(day_dir.iterdir(), key=lambda p: p.name):
        if path.name in (MANIFEST_NAME, SIGNATURE_NAME):
            continue
        if not path.is_file() or path.is_symlink():
            msg = f"{path} is not a regular file; a day directory holds only the report's output files"
            raise UsageError(msg)
        entries.append(FileEntry(path.name, sha256_file(path), path.stat().st_size))
    return entries


def _normalise_inputs(
    inputs: Mapping[str, Mapping[str, Any]] | Iterable[InputFile],
) -> list[dict[str, Any]]:
    records: list[InputFile]
    if isinstance(inputs, Mapping):
        records = [
            InputFile(str(name), str(v["sha256"]), int(v["rows"])) for name, v in inputs.items()
        ]
    else:
        records = list(inputs)
    seen: set[str] = set()
    for record in records:
        if not _SHA256.match(record.sha256):
            msg = f"input {record.file}: {record.sha256!r} is not a lower-case hex SHA-256"
            raise UsageError(msg)
        if record.file in seen:
            msg = f"input {record.file} is listed twice"
            raise UsageError(msg)
        seen.add(record.file)
    return [
        {"file": r.file, "rows": r.rows, "sha256": r.sha256}
        for r in sorted(records, key=lambda r: r.file)
    ]


# <prefix>_<YYYY-MM-DD>.zip, a package's name (reports.sign.package.package_path)
PACKAGE_NAME: Final = re.compile(
    r"(?P<prefix>.+)_(?P<as_of>[0-9]{4}-[0-9]{2}-[0-9]{2})\.zip", re.IGNORECASE
)
# <prefix>_<YYYY-MM-DD>.<UTC stamp>.zip, a package kept aside when the daily job replaced it
# (reports.sign.package._keep_aside: superseded/<name>.<%Y%m%dT%H%M%S%fZ>.zip)
KEPT_PACKAGE_NAME: Final = re.compile(
    r"(?P<prefix>.+)_(?P<as_of>[0-9]{4}-[0-9]{2}-[0-9]{2})\.[0-9]{8}T[0-9]{12}Z\.zip",
    re.IGNORECASE,
)
_MANIFEST_ENTRY_BYTES = 1 << 24  # a manifest is kilobytes; never inflate more than this
# What reading a hostile or damaged zip can raise (encrypted entries: RuntimeError; unknown
# compression methods: NotImplementedError; truncated data: EOFError)
ZIP_READ_ERRORS: Final = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    OSError,
    EOFError,
    RuntimeError,
    NotImplementedError,
    ValueError,
)


@dataclass(frozen=True)
class StoredManifest:
    """A day's manifest as kept in an output directory: in its day directory or its package."""

    day: dt.date
    path: Path  # the day directory, or the package (zip) when the day directory is gone
    manifest: bytes | None  # None: the package holds none, or cannot be read
    signature: bytes | None

    @property
    def sha256(self) -> str | None:
        return hashlib.sha256(self.manifest).hexdigest() if self.manifest is not None else None


def _stored_days(out_dir: Path, lei: str | None) -> dict[dt.date, Path | None]:
    """Each day of out_dir with a manifest, and where it is kept: its day directory
    <out_dir>/YYYY-MM-DD/ when that has a manifest.json, else its package <lei>_<date>.zip
    (any prefix when lei is None; None for a date with packages under several prefixes)."""
    if not out_dir.is_dir():
        return {}
    directories: dict[dt.date, Path] = {}
    packages: dict[dt.date, list[Path]] = {}
    for child in sorted(out_dir.iterdir(), key=lambda p: p.name):
        named = PACKAGE_NAME.fullmatch(child.name)
        if named is not None:
            if lei is not None and named["prefix"] != lei:
                continue
            try:
                day = dt.date.fromisoformat(named["as_of"])
            except ValueError:
                continue
            if child.is_file():
                packages.setdefault(day, []).append(child)
            continue
        try:
            day = dt.date.fromisoformat(child.name)
        except ValueError:
            continue
        if (child / MANIFEST_NAME).is_file():
            directories[day] = child
    # without a prefix, a date packaged under several (another firm's zips in the same folder)
    # is not this chain's to guess (review of 2026-12-04): None, and the lookups stop there
    # rather than skip to an earlier day
    unique = {day: found[0] if len(found) == 1 else None for day, found in packages.items()}
    return unique | directories


LOCAL_HEADER_BYTES = 30  # a zip local file header before its name and extra field


# flag bits no package member carries, and Python's zipfile refuses to read: encrypted (0x1),
# compressed patched data (0x20), strong encryption (0x40)
_UNREADABLE_FLAGS: Final = 0x1 | 0x20 | 0x40


def member_stream_problem(
    handle: BinaryIO, info: zipfile.ZipInfo, sink: Callable[[bytes], object] | None = None
) -> str | None:
    """Why the member's stored bytes are not exactly one stream of its declared size and CRC-32,
    or None.
    Python's zipfile stops at the declared size and checks the CRC of what it read, while
    `unzip` and other tools inflate the whole stream: a deflate stream (or stored data) longer
    than the declared size carried bytes after the signed ones that `unzip` extracted (with a
    "bad CRC" warning) from a package that verified (a tamper audit of 2026-12-07: a forged row
    after exceptions.csv). Inflated in bounded chunks, never held: `sink` (if given) receives
    the member's bytes chunk by chunk (at most 1 MiB each) as they are inflated, so that one
    pass both checks and hashes it (`mir verify` inflated every member twice and held it
    whole: 650 MB to verify a package with a 300 MiB member, review of 2026-12-07); what it
    received is not the member's when a problem is returned."""
    if info.flag_bits & _UNREADABLE_FLAGS:
        return f"flags {info.flag_bits:#06x}: encrypted or patched data (a package's are plain)"
    if info.compress_type == zipfile.ZIP_STORED:
        if info.compress_size != info.file_size:
            return f"stored as {info.compress_size} bytes, but declared {info.file_size} bytes"
    elif info.compress_type != zipfile.ZIP_DEFLATED:
        return f"compression method {info.compress_type} (a package's members are deflated)"
    handle.seek(info.header_offset)
    header = handle.read(LOCAL_HEADER_BYTES)
    if len(header) < LOCAL_HEADER_BYTES or header[:4] != b"PK\x03\x04":
        return "no local header where the directory puts it"
    handle.seek(
        info.header_offset
        + LOCAL_HEADER_BYTES
        + int.from_bytes(header[26:28], "little")
        + int.from_bytes(header[28:30], "little")
    )
    crc = 0
    if info.compress_type == zipfile.ZIP_STORED:
        left = info.compress_size
        while left:
            data = handle.read(min(left, _CHUNK))
            if not data:
                return "its stored bytes end before the size the zip declares"
            left -= len(data)
            crc = zlib.crc32(data, crc)
            if sink is not None:
                sink(data)
    elif info.compress_size or info.file_size:  # (an empty member may have no deflate stream)
        problem, crc = _inflate(handle, info, sink)
        if problem is not None:
            return problem
    if crc != info.CRC:
        return f"its CRC-32 is {crc:08x}, the zip declares {info.CRC:08x} (damaged)"
    return None


def _inflate(
    handle: BinaryIO, info: zipfile.ZipInfo, sink: Callable[[bytes], object] | None
) -> tuple[str | None, int]:
    """(why the deflated member at handle's position is not one stream of its declared size,
    or None; the CRC-32 of what it inflated to), passing each inflated chunk to `sink`."""
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    produced, left, crc = 0, info.compress_size, 0
    try:
        while left and not inflater.eof:
            data = handle.read(min(left, _CHUNK))
            if not data:
                return "its compressed bytes end before the size the zip declares", crc
            left -= len(data)
            while not inflater.eof:
                chunk = inflater.decompress(data, _CHUNK)
                produced += len(chunk)
                if produced > info.file_size:
                    return (
                        f"it inflates to more than the {info.file_size} bytes the zip declares "
                        "(other zip tools would extract the bytes beyond them)",
                        crc,
                    )
                crc = zlib.crc32(chunk, crc)
                if sink is not None and chunk:
                    sink(chunk)
                data = inflater.unconsumed_tail
                # a full output chunk may leave output pending with every input byte taken
                # (unconsumed_tail empty): ask again until a call gives nothing (a valid member
                # of 1 MiB and a few bytes of zeros read as 1,048,576 bytes, review 2026-12-07)
                if not data and not chunk:
                    break
    except zlib.error as exc:
        return f"its deflate stream is corrupt: {exc}", crc
    if not inflater.eof or produced != info.file_size:
        return f"it inflates to {produced} bytes, the zip declares {info.file_size}", crc
    if left or inflater.unused_data:
        return "bytes follow its deflate stream", crc
    return None, crc


def read_manifest_at(path: Path) -> tuple[bytes | None, bytes | None]:
    """(manifest.json, manifest.json.p7s) of a day directory or a package (zip); None for what
    it lacks or cannot be read (a damaged or hostile zip never raises)."""
    if path.is_dir():
        manifest, signature = path / MANIFEST_NAME, path / SIGNATURE_NAME
        return (
            manifest.read_bytes() if manifest.is_file() else None,
            signature.read_bytes() if signature.is_file() else None,
        )
    entries: dict[str, bytes | None] = {MANIFEST_NAME: None, SIGNATURE_NAME: None}
    try:
        with zipfile.ZipFile(path) as archive, path.open("rb") as raw:
            for info in archive.infolist():
                if (
                    info.filename in entries
                    and info.file_size <= _MANIFEST_ENTRY_BYTES
                    # bytes beyond the declared size: what `unzip` extracts is not what Python
                    # reads, so there is no one manifest to link to (member_stream_problem)
                    and member_stream_problem(raw, info) is None
                ):
                    entries[info.filename] = archive.read(info)
    except ZIP_READ_ERRORS:
        pass  # unreadable: no manifest (the caller says so)
    return entries[MANIFEST_NAME], entries[SIGNATURE_NAME]


def _read_stored(day: dt.date, path: Path) -> StoredManifest:
    return StoredManifest(day, path, *read_manifest_at(path))


def find_previous_manifest(
    out_dir: Path, as_of: dt.date, lei: str | None = None
) -> StoredManifest | None:
    """The manifest of the latest day before `as_of` in out_dir, if any: from its day directory,
    or from its package <lei>_<date>.zip when the day directory is gone."""
    stored = _stored_days(out_dir, lei)
    earlier = [day for day in stored if day < as_of]
    if not earlier:
        return None
    where = stored[max(earlier)]
    return _read_stored(max(earlier), where) if where is not None else None


def _require_signed(previous: StoredManifest) -> None:
    """Raise SigningError unless `previous` carries an intact, valid detached signature (any
    signer: keys may rotate between days; trust is `mir verify --trust`'s business)."""
    from reports.sign.verify import check_manifest_signature

    if previous.manifest is None:
        problem = f"it holds no readable {MANIFEST_NAME}"
    elif previous.signature is None:
        problem = f"{SIGNATURE_NAME} is missing"
    else:
        line = check_manifest_signature(previous.manifest, previous.signature)
        if line.ok:
            return
        problem = line.detail
    day = previous.day.isoformat()
    where = (
        f"manifest {previous.path / MANIFEST_NAME}"
        if previous.path.is_dir()
        else f"package {previous.path}"
    )
    msg = (
        f"the previous day's {where} does not verify ({problem}); the hash chain "
        f"would vouch for it. Restore the package of {day} or run `mir daily` for {day} again, "
        "then this day."
    )
    raise SigningError(msg)


def broken_link_message(later: dt.date, as_of: dt.date, command: str) -> str:
    """What an officer is told when re-running `as_of` broke the chain of a later day's package
    (`command`: what re-runs a day, e.g. `mir daily`)."""
    return (
        f"warning: the package of {later} does not link to this run's manifest of {as_of} (its "
        f"hash chain names an earlier one, or none); run `{command}` for {later} (and the days "
        "after it) again to re-link the hash chain"
    )


def broken_links_after(out_dir: Path, as_of: dt.date, lei: str | None = None) -> list[dt.date]:
    """The next later day in out_dir (its day directory, or its package when that is gone) whose
    manifest does not link to `as_of`'s current manifest (after `as_of` was re-run), as a
    one-element list; [] when the chain holds or nothing follows. Only the next day can link to
    `as_of`; the days after it link to each other."""
    current = out_dir / as_of.isoformat() / MANIFEST_NAME
    if not current.is_file():
        return []
    stored = _stored_days(out_dir, lei)
    later = [day for day in stored if day > as_of]
    if not later:
        return []
    where = stored[min(later)]
    if where is None:  # packaged under several prefixes: not ours to judge
        return []
    following = _read_stored(min(later), where)
    if following.manifest is None:
        return [following.day]
    try:
        link = parse_manifest(following.manifest).get("previous_manifest_sha256")
    except ValueError:
        return [following.day]
    return [] if link == sha256_file(current) else [following.day]


def _as_of_from(day_dir: Path, as_of: dt.date | str | None) -> dt.date:
    if isinstance(as_of, dt.date):
        return as_of
    text = as_of if as_of is not None else day_dir.name
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        msg = f"cannot tell the as-of date of {day_dir}: its name is not YYYY-MM-DD; pass as_of"
        raise UsageError(msg) from None


def _run_id_from_summary(day_dir: Path) -> str | None:
    summary = day_dir / "summary.json"
    if not summary.is_file():
        return None
    try:
        value = json.loads(summary.read_text(encoding="utf-8")).get("run_id")
    except (ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def build_manifest(
    day_dir: str | os.PathLike[str],
    *,
    inputs: Mapping[str, Mapping[str, Any]] | Iterable[InputFile],
    config_sha256: str,
    tool_version: str = __version__,
    previous_manifest_sha256: str | None = AUTO,
    as_of: dt.date | str | None = None,
    run_id: str | None = None,
    lei: str | None = None,
    timestamped: bool | None = None,
) -> dict[str, Any]:
    """The manifest as data (see `write_manifest`)."""
    folder = Path(day_dir)
    if not folder.is_dir():
        msg = f"no day directory at {folder}"
        raise UsageError(msg)
    day = _as_of_from(folder, as_of)
    if previous_manifest_sha256 == AUTO:
        previous = find_previous_manifest(folder.parent, day, lei)
        if previous is not None:
            _require_signed(previous)
        previous_manifest_sha256 = previous.sha256 if previous is not None else None
    elif previous_manifest_sha256 is not None and not _SHA256.match(previous_manifest_sha256):
        msg = (
            f"previous_manifest_sha256 {previous_manifest_sha256!r} is not a lower-case hex SHA-256"
        )
        raise UsageError(msg)
    if not _SHA256.match(config_sha256):
        msg = f"config_sha256 {config_sha256!r} is not a lower-case hex SHA-256"
        raise UsageError(msg)
    # the firm's LEI, when known, is signed with the rest: it names the package
    # (<lei>_<as_of>.zip), and `mir verify` holds the name to it (security review of
    # 2026-12-05: a package renamed for another firm verified)
    firm = {"lei": lei} if lei is not None else {}
    # whether the report's and the manifest's signatures carry timestamps: signed, so that a
    # token stripped from manifest.json.p7s afterwards is found (review of 2026-12-05)
    stamps = {"timestamped": timestamped} if timestamped is not None else {}
    return {
        "manifest_version": MANIFEST_VERSION,
        "tool": "mir",
        "tool_version": tool_version,
        **firm,
        "as_of": day.isoformat(),
        "run_id": run_id if run_id is not None else _run_id_from_summary(folder),
        "config_sha256": config_sha256,
        "previous_manifest_sha256": previous_manifest_sha256,
        **stamps,
        "inputs": _normalise_inputs(inputs),
        "files": [
            {"name": e.name, "sha256": e.sha256, "size": e.size} for e in listed_files(folder)
        ],
    }


def write_manifest(
    day_dir: str | os.PathLike[str],
    *,
    inputs: Mapping[str, Mapping[str, Any]] | Iterable[InputFile],
    config_sha256: str,
    tool_version: str = __version__,
    previous_manifest_sha256: str | None = AUTO,
    as_of: dt.date | str | None = None,
    run_id: str | None = None,
    lei: str | None = None,
    timestamped: bool | None = None,
) -> Path:
    """Write <day_dir>/manifest.json and return its path.

    Lists every file of the day directory except manifest.json and manifest.json.p7s (so write
    it after report.pdf is signed, and sign it last). ``inputs`` maps snapshot file -> {"sha256",
    "rows"} (the summary.json form, from the `loads` table) or is a list of InputFile.
    ``previous_manifest_sha256`` defaults to the hash of the latest earlier day's manifest.json
    in the same output directory, from its day directory or, when that is gone, its package
    ``<lei>_<date>.zip`` (any prefix when ``lei`` is None); None when there is none. Pass a hash
    or None to override.
    ``as_of`` defaults to the directory's name, ``run_id`` to summary.json's run_id.
    ``timestamped`` (when given) records whether the signatures carry timestamp tokens.
    """
    folder = Path(day_dir)
    manifest = build_manifest(
        folder,
        inputs=inputs,
        config_sha256=config_sha256,
        tool_version=tool_version,
        previous_manifest_sha256=previous_manifest_sha256,
        as_of=as_of,
        run_id=run_id,
        lei=lei,
        timestamped=timestamped,
    )
    path = folder / MANIFEST_NAME
    tmp = folder / f".{MANIFEST_NAME}.tmp"
    tmp.write_bytes(canonical_json(manifest))
    os.replace(tmp, path)
    # a signature of an older manifest would now be wrong: remove it until sign_manifest runs
    (folder / SIGNATURE_NAME).unlink(missing_ok=True)
    return path


def parse_manifest(data: bytes) -> dict[str, Any]:
    """Parse and shape-check manifest.json bytes; ValueError says what is wrong."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        msg = f"not valid JSON: {type(exc).__name__}: {exc}"
        raise ValueError(msg) from None
    if not isinstance(manifest, dict):
        msg = "not a JSON object"
        raise ValueError(msg)
    if manifest.get("manifest_version") != MANIFEST_VERSION:
        msg = f"unknown manifest_version {manifest.get('manifest_version')!r} (expected {MANIFEST_VERSION})"
        raise ValueError(msg)
    files = manifest.get("files")
    if not isinstance(files, list):
        msg = "no files list"
        raise ValueError(msg)
    names: set[str] = set()
    for entry in files:
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("name"), str)
            or not isinstance(entry.get("sha256"), str)
            or not isinstance(entry.get("size"), int)
        ):
            msg = f"bad file entry {entry!r}: expected name, sha256, size"
            raise ValueError(msg)
        name = entry["name"]
        if not is_safe_name(name) or name in (MANIFEST_NAME, SIGNATURE_NAME) or name in names:
            msg = f"bad or repeated file name {name!r}"
            raise ValueError(msg)
        names.add(name)
    link = manifest.get("previous_manifest_sha256")
    if link is not None and not (isinstance(link, str) and _SHA256.match(link)):
        msg = f"previous_manifest_sha256 {link!r} is neither null nor a lower-case hex SHA-256"
        raise ValueError(msg)
    if not isinstance(manifest.get("timestamped", False), bool):
        msg = f"timestamped {manifest.get('timestamped')!r} is not true or false"
        raise ValueError(msg)
    as_of = manifest.get("as_of")
    try:
        parse_iso_date(as_of if isinstance(as_of, str) else "")
    except ValueError:
        msg = f"as_of {as_of!r} is not a date YYYY-MM-DD"
        raise ValueError(msg) from None
    return manifest
