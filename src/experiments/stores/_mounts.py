"""Which file system a path is on, read from the mount table (``/proc/self/mountinfo``).

SQLite's write-ahead log keeps its index in memory that every process opening the
file maps from the ``-shm`` file; processes on two machines sharing a file over the
network do not share that memory, and network file systems' locks are unreliable too.
So a store on such a file system can be damaged without any error, and the SQLite
backend refuses to open one there for writing.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Final

import attrs

__all__ = ["MOUNTINFO", "NETWORK_FILESYSTEMS", "Mount", "mount_of", "mount_table"]

#: Where Linux lists the mounts this process sees.
MOUNTINFO: Final = Path("/proc/self/mountinfo")

#: File system types whose files other machines may open at the same time.
NETWORK_FILESYSTEMS: Final = frozenset(
    {
        "9p",
        "afs",
        "ceph",
        "cifs",
        "coda",
        "davfs",
        "gfs2",
        "glusterfs",
        "gpfs",
        "lustre",
        "ncpfs",
        "nfs",
        "nfs4",
        "ocfs2",
        "smb3",
        "smbfs",
        "fuse.cephfs",
        "fuse.davfs2",
        "fuse.gcsfuse",
        "fuse.glusterfs",
        "fuse.rclone",
        "fuse.s3fs",
        "fuse.sshfs",
    }
)

_ESCAPE: Final = re.compile(r"\\([0-7]{3})")


@attrs.frozen
class Mount:
    """One line of the mount table: where, what type, and whether it is read-only."""

    point: str
    type: str
    read_only: bool

    @property
    def networked(self) -> bool:
        """Whether other machines may open the same files at once."""
        return self.type in NETWORK_FILESYSTEMS


def mount_table() -> str | None:
    """This process's mount table, or None where there is none to read (not Linux)."""
    try:
        return MOUNTINFO.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError:
        return None


def mount_of(path: str | os.PathLike[str], table: str) -> Mount | None:
    """The mount that holds ``path`` (or would, for a file not made yet), per ``table``.

    ``table`` is the text of ``/proc/self/mountinfo``: of the mounts whose mount point
    contains the path, the longest wins, and of two on the same point the later one.
    """
    where = _resolved(Path(path))
    found: Mount | None = None
    for line in table.splitlines():
        mount = _parse(line)
        if mount is None or not _contains(mount.point, where):
            continue
        if found is None or len(mount.point) >= len(found.point):
            found = mount
    return found


def _resolved(path: Path) -> str:
    """The absolute path with links resolved, as far as it exists."""
    return os.path.realpath(path.absolute())


def _contains(point: str, path: str) -> bool:
    return point in ("/", path) or path.startswith(point.rstrip("/") + "/")


def _parse(line: str) -> Mount | None:
    """``36 35 98:0 /root /mnt rw,noatime master:1 - ext4 /dev/root rw`` as a Mount."""
    head, separator, tail = line.partition(" - ")
    fields = head.split()
    after = tail.split()
    if not separator or len(fields) < 6 or not after:  # noqa: PLR2004 - the format's fields
        return None
    point = _ESCAPE.sub(lambda m: chr(int(m.group(1), 8)), fields[4])
    return Mount(point, after[0], "ro" in fields[5].split(","))
