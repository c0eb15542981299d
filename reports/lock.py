"""One writer at a time: an advisory lock file beside the database.

DuckDB itself refuses a second writing process, but only once it opens the file, with a terse
message, and after a scheduled job may already have written outputs. The daily job takes this
lock first and holds it for the whole run, so a second run stops before doing anything.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from reports.errors import LockedError


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".lock")


@contextmanager
def exclusive_lock(db_path: Path, purpose: str) -> Iterator[Path]:
    path = lock_path(db_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 4096, 0).decode("utf-8", "replace").strip() or "another process"
            msg = (
                f"the database {db_path} is locked by {holder}; wait for that run to finish "
                f"(the lock is released when it exits; lock file {path})"
            )
            raise LockedError(msg) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps({"pid": os.getpid(), "purpose": purpose}).encode(), 0)
        try:
            yield path
        finally:
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
