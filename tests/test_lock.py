"""reports.lock: the database's lock file and the output directory's lock, as another process
sees them (a second open file description conflicts with flock as another process would)."""

from __future__ import annotations

import errno
import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from reports import lock
from reports.errors import LockedError


@contextmanager
def _held_by_another(path: Path, recorded: str = "") -> Iterator[None]:
    """`path` flock'ed through a descriptor of its own (as another run holds it), holding
    `recorded` as that run wrote it (a file; a directory holds nothing)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY if path.is_dir() else os.O_RDWR | os.O_CREAT)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        if recorded:
            os.ftruncate(fd, 0)
            os.pwrite(fd, recorded.encode(), 0)
        yield
    finally:
        os.close(fd)


def _lockable_by_another(path: Path) -> bool:
    """Whether another run could take the lock on `path` now."""
    try:
        with _held_by_another(path):
            return True
    except BlockingIOError:
        return False


def test_the_lock_file_names_its_current_holder_only(tmp_path: Path) -> None:
    """A run killed while holding the lock left its (longer) record in the file: the next holder
    replaces it whole, and leaves the file empty when it is done (a record written over a longer
    one kept its tail: the refusal then showed raw text instead of `pid N (purpose)`)."""
    db = tmp_path / "mir.duckdb"
    killed = json.dumps({"pid": 99999999, "purpose": "mir daily 2026-03-06, killed long ago"})
    lock.lock_path(db).write_text(killed + "\n", encoding="utf-8")
    with lock.exclusive_lock(db, "mir load") as path:
        assert json.loads(path.read_text(encoding="utf-8")) == {
            "pid": os.getpid(),
            "purpose": "mir load",
        }
        assert not _lockable_by_another(path)
    assert path.read_text(encoding="utf-8") == ""
    assert _lockable_by_another(path)


@pytest.mark.parametrize(
    ("recorded", "named"),
    [
        ("", "locked by another process;"),  # taken, its record not yet written
        ("pid 4242 (an older mir)", "locked by pid 4242 (an older mir);"),  # not JSON
        ('{"purpose": "mir daily"}', 'locked by {"purpose": "mir daily"};'),  # no pid
        ('{"pid": 7, "purpose": "mir daily"}', "locked by pid 7 (mir daily);"),
    ],
)
def test_a_held_database_names_its_holder_whatever_it_recorded(
    tmp_path: Path, recorded: str, named: str
) -> None:
    """The refusal is a LockedError naming the holder as well as the record allows: an empty or
    foreign record is not a crash (KeyError, JSONDecodeError) nor "locked by ;"."""
    db = tmp_path / "mir.duckdb"
    with (
        _held_by_another(lock.lock_path(db), recorded),
        pytest.raises(LockedError) as refused,
        lock.exclusive_lock(db, "mir daily"),
    ):
        pass
    assert named in str(refused.value)


def test_a_database_lock_on_a_file_system_without_flock_is_taken_unlocked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some NFS, SMB or FUSE mounts have no flock (ENOLCK and kin): the job runs (DuckDB's own
    lock still refuses a second writer); another flock error still surfaces."""
    db = tmp_path / "mir.duckdb"

    def no_locks(fd: int, operation: int, code: int = errno.ENOLCK) -> None:
        raise OSError(code, os.strerror(code))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with lock.exclusive_lock(db, "mir daily") as path:
        assert json.loads(path.read_text(encoding="utf-8"))["purpose"] == "mir daily"
    monkeypatch.setattr(fcntl, "flock", lambda fd, op: no_locks(fd, op, errno.EBADF))
    with pytest.raises(OSError, match="Bad file descriptor"), lock.exclusive_lock(db, "x"):
        pass


def test_a_lock_released_on_a_read_only_file_system_keeps_the_run_s_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The database's file system turned read-only during `mir daily` (ext4 errors=remount-ro):
    emptying the lock file on release raised EROFS, which replaced the stage's own error (the
    failed COMMIT naming the write-ahead log) with "internal error: OSError: [Errno 30]
    Read-only file system", naming no file (disk review of 2026-12-07). The lock is released
    all the same (flock goes with the descriptor)."""
    db = tmp_path / "mir.duckdb"
    real_ftruncate = os.ftruncate
    read_only = False

    def ftruncate(fd: int, length: int) -> None:
        if read_only:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        real_ftruncate(fd, length)

    monkeypatch.setattr(os, "ftruncate", ftruncate)
    with pytest.raises(RuntimeError, match="the stage's error"), lock.exclusive_lock(db, "x"):
        read_only = True
        raise RuntimeError("the stage's error")
    assert _lockable_by_another(lock.lock_path(db))


def test_the_output_directory_is_held_until_its_outermost_holder_is_done(tmp_path: Path) -> None:
    """Re-entrant within the process (the daily job locks OUT, then the report locks it again),
    under any spelling of OUT: the lock holds until the outermost holder is done, and is then
    released (a count that never reached zero kept OUT locked for the rest of the process, one
    released by the inner holder let another run in while the job went on)."""
    out = tmp_path / "out"
    out.mkdir()
    alias = tmp_path / "alias"
    alias.symlink_to(out)
    with lock.directory_lock(out, "mir daily"):
        with lock.directory_lock(alias, "mir report"):
            assert not _lockable_by_another(out)
        assert not _lockable_by_another(out)
    assert lock._HELD == {}
    assert _lockable_by_another(out)


def test_taking_releasing_or_being_refused_a_lock_leaves_no_descriptor_open(
    tmp_path: Path,
) -> None:
    """Each lock is a descriptor of its own, closed when the lock is released or refused (one
    left open per run piles up in a long-lived process: a scheduler calling run_daily, the test
    suite)."""
    db, out = tmp_path / "mir.duckdb", tmp_path / "out"
    out.mkdir()

    def descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    before = descriptors()
    with lock.exclusive_lock(db, "mir daily"), lock.directory_lock(out, "mir daily"):
        pass
    for path, taking in (
        (lock.lock_path(db), lambda: lock.exclusive_lock(db, "mir daily")),
        (out, lambda: lock.directory_lock(out, "mir report")),
    ):
        with _held_by_another(path), pytest.raises(LockedError), taking():
            pass
    assert descriptors() == before
