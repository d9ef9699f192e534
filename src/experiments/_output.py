"""Writing a file a person named: whole or not at all, without replacing what is not a file.

A regular file (or a name not taken yet) is written under a hidden temporary name in its
directory, flushed to disk, and renamed over the target, and the directory is flushed
too: a reader or a crash sees the old content or the new, never half of it, and a failed
write leaves what was there.  Renaming is only right for a regular file, though: renamed
over a device (``/dev/null``), a named pipe or a socket, it would put an ordinary file
in their place.  Those are opened and written as they are, as a shell's ``>`` does.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = ["output_file", "write_output"]


@contextlib.contextmanager
def output_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """A binary file to write ``path`` through; the target changes when the block ends.

    A regular file keeps its permissions; a new one gets the usual ones (``0o666``
    less the umask).  A symbolic link is followed, so the link stays a link.

    Raises:
        OSError: the file could not be written; a regular target is then unchanged.
    """
    target = Path(path)
    try:
        status: os.stat_result | None = target.stat()
    except FileNotFoundError:
        status = None
    if status is not None and stat.S_ISDIR(status.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), str(target))
    if status is not None and not stat.S_ISREG(status.st_mode):
        with target.open("wb") as direct:  # a device, a named pipe: written as it is
            yield direct
        return
    final = Path(os.path.realpath(target)) if target.is_symlink() else target
    temporary = final.with_name(f".{final.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        with os.fdopen(fd, "wb") as handle:
            if status is not None:
                os.fchmod(handle.fileno(), stat.S_IMODE(status.st_mode))
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(final)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _flush_directory(final)


def write_output(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` as :func:`output_file` does."""
    with output_file(path) as handle:
        handle.write(data)


def _flush_directory(final: Path) -> None:
    """Make the rename durable; the file is in place whatever this finds."""
    try:
        fd = os.open(final.parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return  # a directory that cannot be opened for reading cannot be flushed either
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # some file systems cannot
            raise OSError(
                exc.errno,
                f"the file was written, but the disk did not confirm it "
                f"({exc.strerror}); it may be lost if the machine stops before it does",
                str(final),
            ) from exc
    finally:
        os.close(fd)
