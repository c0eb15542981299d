"""The output directory OUT as runs leave it: day directories and packages are published by a
rename, made durable, and what a killed run left behind is cleared by the next run.

Every function here is called with OUT locked (reports.lock.directory_lock): no live run is
writing any of the leftovers it clears.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path


def umask_mode(mode: int) -> int:
    """`mode` as the process's umask lets a new file or folder have it, what open() and mkdir()
    give: for what mkstemp (0600) and mkdtemp (0700) make and mir publishes (report.pdf, the day
    directory, the package). A fixed 0644/0755 made them readable by every user under umask 077
    while the CSVs beside them were 0600 (environment audit of 2026-12-07)."""
    try:  # Linux: read without changing it (os.umask sets it, for every thread at once)
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return mode & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mode & ~mask


def fsync_file(path: Path) -> None:
    """Flush a written file (or a directory's entries) to the disk (a power cut after its rename must not publish an empty
    or partial file: crash review of 2026-12-05 found no fsync anywhere)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_dir(path: Path) -> None:
    """Flush a directory's entries (a rename in it) to the disk, where the platform allows."""
    with contextlib.suppress(OSError):  # not every file system syncs a directory
        fsync_file(path)


def replace_dir(staging: Path, target: Path) -> None:
    """Put the finished staging directory at target, replacing an earlier report of the day:
    its files and itself flushed first, the earlier one moved aside (.<date>.old-<pid>) and
    removed once the new one is in place. An exception between the two renames (a SIGTERM)
    puts the earlier one back (crash review of 2026-12-05: OUT was left without the day
    directory until the next run)."""
    for path in staging.iterdir():
        fsync_file(path)
    fsync_dir(staging)
    old = None
    try:
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(staging, target)
    except BaseException:
        if old is not None and old.exists() and not target.exists():
            with contextlib.suppress(OSError):
                os.replace(old, target)
        raise
    fsync_dir(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def remove_leftovers(root: Path) -> None:
    """Clear what killed runs (SIGKILL, power loss) left in OUT: staging folders
    (.<date>.tmp-*) and half-written packages (.<name>.zip.*.tmp) are removed; a day directory
    moved aside for its replacement (.<date>.old-<pid>) goes back in place when the run died
    before the new one took it, else is removed. (Staging folders used to wait an hour, for the
    day's next report only, .old-* forever, and package temporaries for good: crash review of
    2026-12-05.)"""
    for folder in sorted(root.glob(".????-??-??.tmp-*")):
        shutil.rmtree(folder, ignore_errors=True)
    for partial in sorted(root.glob(".*.zip.*.tmp")):
        with contextlib.suppress(OSError):
            partial.unlink()
    for folder in sorted(root.glob(".????-??-??.old-*")):
        target = root / folder.name[1:11]
        with contextlib.suppress(OSError):
            if not target.exists():
                os.replace(folder, target)
        shutil.rmtree(folder, ignore_errors=True)
