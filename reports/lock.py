"""One writer at a time: an advisory lock file beside the database, and one on the output
directory.

DuckDB itself refuses a second writing process, but only once it opens the file, with a terse
message, and after a scheduled job may already have written outputs. The daily job takes this
lock first and holds it for the whole run, so a second run stops before doing anything. The lock
file is named after the database's real path (symbolic links resolved): another spelling of the
same file takes the same lock.

The output directory is locked too (`directory_lock`: the daily job, `mir report`, `mir
package`): two runs writing one OUT, from one database or two, could otherwise package each
other's day directory (found in review: a run that said PASS shipped another run's breach).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from reports.errors import LockedError, UsageError

# flock's errors on a file system that has no such locks.
_NO_LOCKS_HERE = frozenset({errno.ENOLCK, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EINVAL})


def _holder(recorded: str) -> str:
    """Who holds the lock, from what it wrote: "pid 27479 (mir daily 2026-03-06)"."""
    try:
        data = json.loads(recorded)
        return f"pid {int(data['pid'])} ({data['purpose']})"
    except (ValueError, TypeError, KeyError):
        return recorded.strip() or "another process"


def lock_path(db_path: Path) -> Path:
    real = db_path.resolve()  # a symbolic link to the database locks the database itself
    return real.with_name(real.name + ".lock")


@contextmanager
def exclusive_lock(db_path: Path, purpose: str) -> Iterator[Path]:
    path = lock_path(db_path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        # a file where the database's folder should be, a read-only or missing mount: the
        # same usage error `mir load` gives for that --db (CLI review of 2026-12-05: exit 4,
        # "internal error: FileExistsError")
        msg = f"cannot create the lock file {path} of the database {db_path}: {exc.strerror or exc}"
        raise UsageError(msg) from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
            msg = (
                f"the database {db_path} is locked by {holder}; wait for that run to finish "
                f"(the lock is released when it exits; lock file {path})"
            )
            raise LockedError(msg) from None
        except OSError as exc:
            if exc.errno not in _NO_LOCKS_HERE:
                raise
            # a file system without flock (some NFS, SMB or FUSE mounts): DuckDB's own lock
            # on the database file still refuses a second writer
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "purpose": purpose}).encode(), 0)
        try:
            yield path
        finally:
            # a file system turned read-only meanwhile must not replace the run's own error
            # (disk review of 2026-12-07): the holder's note is only read by a refused run
            with suppress(OSError):
                os.ftruncate(fd, 0)
            with suppress(OSError):  # nothing to release without flock
                fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# Directories this process holds locked: real path -> [holders, descriptor] (a run that locks
# OUT calls code that locks it again).
_HELD: dict[Path, list[int]] = {}
_HELD_GUARD = threading.Lock()


@contextmanager
def directory_lock(directory: Path, purpose: str) -> Iterator[None]:
    """Hold an exclusive advisory lock (flock) on ``directory`` itself: no file is left in it.
    Re-entrant within the process; another process gets LockedError (exit 4) at once."""
    real = directory.resolve()
    with _HELD_GUARD:
        if real in _HELD:
            _HELD[real][0] += 1
        else:
            try:
                fd = os.open(real, os.O_RDONLY | os.O_DIRECTORY)
            except OSError as exc:
                # a folder the user may not read (the job now locks OUT before checking it:
                # the same usage error as an unwritable OUT, not an internal error)
                msg = f"cannot open the output directory {directory}: {exc.strerror or exc}"
                raise UsageError(msg) from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                msg = (
                    f"the output directory {directory} is in use by another mir run; {purpose} "
                    "did nothing: retry when that run has finished"
                )
                raise LockedError(msg) from None
            except OSError as exc:
                if exc.errno not in _NO_LOCKS_HERE:
                    os.close(fd)
                    raise
                # a file system without flock (some NFS, SMB or FUSE mounts): unlocked, as
                # before this lock existed; the database lock still keeps one job per database
            _HELD[real] = [1, fd]
    try:
        yield
    finally:
        with _HELD_GUARD:
            _HELD[real][0] -= 1
            if not _HELD[real][0]:
                os.close(_HELD.pop(real)[1])  # releases the flock
