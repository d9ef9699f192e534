"""Durable, exclusive and link-refusing file operations for stores kept in files (POSIX).

A file is written under a hidden temporary name in its final directory, flushed to disk,
and only then given its final name, so that a reader or a crash sees the whole file or
none of it.  New versions get their name with :func:`os.link`, which fails when the name
is taken: a version is never overwritten.  Files are opened relative to their
directory's descriptor with ``O_NOFOLLOW``, so a symbolic link planted in a store is
reported, never followed.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import secrets
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final

from experiments.stores._filenames import temporary_name

__all__ = [
    "LinkError",
    "LockTimeoutError",
    "create_exclusive",
    "fsync_directory",
    "holders",
    "lock",
    "names",
    "open_directory",
    "read_bytes",
    "replace",
]

_DIRECTORY: Final = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_READ: Final = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
#: A line of /proc/locks: "1: FLOCK  ADVISORY  WRITE 1234 08:01:5678 0 EOF".
_LOCK_FIELDS: Final = 6
#: Characters of a lock holder's command line shown in a message.
_SHOWN: Final = 80
_WRITE: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class LinkError(OSError):
    """A path component is a symbolic link (or not what it should be) and was not followed."""


def _refused(exc: OSError, name: str, dir_fd: int | None) -> OSError:
    """A LinkError naming where a link points, for the errors O_NOFOLLOW produces."""
    if exc.errno not in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        return exc
    try:
        target = os.readlink(name, dir_fd=dir_fd)
    except OSError:
        what = "is not a directory" if exc.errno == errno.ENOTDIR else "is a symbolic link"
        return LinkError(exc.errno, what, name)
    return LinkError(exc.errno, f"is a symbolic link to {target!r}", name)


def open_directory(name: str | Path, dir_fd: int | None = None) -> int:
    """A descriptor of directory ``name``; LinkError if it is a link or not a directory."""
    try:
        return os.open(name, _DIRECTORY, dir_fd=dir_fd)
    except OSError as exc:
        raise _refused(exc, os.fspath(name), dir_fd) from None


def names(dir_fd: int) -> list[str]:
    """The names in an open directory."""
    return os.listdir(dir_fd)


def read_bytes(name: str, dir_fd: int) -> bytes:
    """The content of regular file ``name``; LinkError for a link or anything else."""
    try:
        fd = os.open(name, _READ, dir_fd=dir_fd)
    except OSError as exc:
        raise _refused(exc, name, dir_fd) from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise LinkError(errno.EINVAL, "is not a regular file", name)
        chunks = []
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _write_temporary(final: str, data: bytes, dir_fd: int) -> str:
    temporary = temporary_name(final, secrets.token_hex(8))
    fd = os.open(temporary, _WRITE, 0o666, dir_fd=dir_fd)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    except BaseException:
        os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=dir_fd)
        raise
    os.close(fd)
    return temporary


def create_exclusive(name: str, data: bytes, dir_fd: int) -> None:
    """Create ``name`` holding ``data``, complete or not at all; FileExistsError if taken.

    An error means the name was not created.  The directory entry is durable only after
    :func:`fsync_directory`.
    """
    temporary = _write_temporary(name, data, dir_fd)
    try:
        os.link(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd, follow_symlinks=False)
    finally:
        # Once linked, a temporary name left behind is litter for the next sweep, not a
        # failure of the write.
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=dir_fd)


def replace(name: str, data: bytes, dir_fd: int, *, sync_directory: bool = True) -> None:
    """Put ``data`` at ``name`` atomically, replacing what is there; then make it durable.

    Without ``sync_directory`` the new name is durable only after
    :func:`fsync_directory`, which one call can do for many files.
    """
    temporary = _write_temporary(name, data, dir_fd)
    try:
        os.replace(temporary, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary, dir_fd=dir_fd)
        raise
    if sync_directory:
        os.fsync(dir_fd)


def fsync_directory(dir_fd: int) -> None:
    """Make the entries of a directory (new, renamed, removed names) durable."""
    os.fsync(dir_fd)


class LockTimeoutError(OSError):
    """A lock stayed taken by someone else for longer than the caller would wait."""

    def __init__(self, path: Path, timeout: float, holders: list[str]) -> None:
        super().__init__(errno.ETIMEDOUT, f"still locked after {timeout:g}s", str(path))
        self.timeout = timeout
        self.holders = holders
        """Who holds the lock, as far as the system tells: ``process 123 (python3 x.py)``."""


#: Descriptors opened for locks in this process, held or about to be.  A child made by
#: fork() closes its copies: a lock belongs to the open file, so a copy left open in the
#: child would keep a lock another thread takes or holds until the child exits.  Opening
#: and registering happen under ``_HELD_MUTEX``, which fork() waits for, so no copy slips
#: through between the two.
_HELD: set[int] = set()
_HELD_MUTEX = threading.Lock()


def _forget_held_locks() -> None:
    for fd in list(_HELD):
        with contextlib.suppress(OSError):
            os.close(fd)  # the parent's copy keeps the lock; the child drops its own
    _HELD.clear()
    _HELD_MUTEX.release()


os.register_at_fork(
    before=_HELD_MUTEX.acquire,
    after_in_parent=_HELD_MUTEX.release,
    after_in_child=_forget_held_locks,
)


@contextlib.contextmanager
def lock(path: Path, *, exclusive: bool, timeout: float) -> Iterator[None]:
    """Hold ``flock`` on the file ``path``, shared or exclusive, for the with-block.

    Each call opens its own descriptor, so threads of one process exclude each other
    exactly as processes do.  A lock that others hold is waited for, polling as
    SQLite's busy handler does, up to ``timeout`` seconds; then :class:`LockTimeoutError`
    names who holds it.  A reader that can neither open nor create the lock file (a
    read-only checkout) reads without it: nobody can write there either.
    """
    try:
        with _HELD_MUTEX:
            fd = os.open(path, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o666)
            _HELD.add(fd)
    except OSError as exc:
        if exclusive or exc.errno not in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise
        yield
        return
    try:
        _acquire(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH, timeout, path)
        yield
    finally:
        with _HELD_MUTEX:
            _HELD.discard(fd)
            os.close(fd)  # closing the last descriptor releases the lock


def _acquire(fd: int, operation: int, timeout: float, path: Path) -> None:
    deadline = time.monotonic() + timeout
    pause = 0.0005
    while True:
        try:
            fcntl.flock(fd, operation | fcntl.LOCK_NB)
        except BlockingIOError:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LockTimeoutError(path, timeout, holders(fd)) from None
            time.sleep(min(pause, remaining))
            pause = min(pause * 2, 0.02)
        else:
            return


def holders(fd: int, locks: str | None = None) -> list[str]:
    """Who holds a lock on the file open as ``fd``, from ``/proc/locks`` (or ``locks``).

    Empty where the system does not say (no ``/proc``).
    """
    if locks is None:
        try:
            locks = Path("/proc/locks").read_text(encoding="utf-8", errors="replace")
        except OSError:
            return []
    status = os.fstat(fd)
    wanted = (os.major(status.st_dev), os.minor(status.st_dev), status.st_ino)
    found: list[str] = []
    for line in locks.splitlines():
        fields = line.split()
        if len(fields) < _LOCK_FIELDS or fields[1] == "->":  # "->" marks one waiting, not holding
            continue
        try:
            major, minor, inode = fields[5].split(":")
            where = (int(major, 16), int(minor, 16), int(inode))
            pid = int(fields[4])
        except ValueError:
            continue
        if where == wanted and pid > 0:
            found.append(_process(pid))
    return list(dict.fromkeys(found))


def _process(pid: int) -> str:
    """``process 123 (the command line)``, or ``this process`` for ourselves."""
    if pid == os.getpid():
        return f"process {pid} (this process: another thread, or a lock taken twice)"
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return f"process {pid}"
    command = " ".join(part.decode("utf-8", "replace") for part in raw.split(b"\0") if part)
    if len(command) > _SHOWN:
        command = command[: _SHOWN - 3] + "..."
    return f"process {pid} ({command})" if command else f"process {pid}"
