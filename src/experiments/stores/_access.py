"""Why a file-based store cannot be reached, read or written, in words a person can act on.

The errors the system gives ("Permission denied", "unable to open database file") name
no cause: a file system mounted read-only, a file or directory of another user.  These
helpers find which it is, for the stores' messages.
"""

from __future__ import annotations

import os
from pathlib import Path

from experiments.errors import StoreError

__all__ = ["cause", "present", "read_only_file_system"]


def present(path: Path) -> bool:
    """Whether ``path`` exists; a StoreError if this user may not even look."""
    try:
        path.stat()
    except (FileNotFoundError, NotADirectoryError):
        return False
    except OSError as exc:
        raise StoreError(
            f"{str(path)!r} cannot be reached ({exc.strerror}); check that this user may "
            "enter every directory on its way"
        ) from None
    return True


def read_only_file_system(path: Path) -> bool:
    """Whether the file system holding ``path`` (or its directory) is mounted read-only."""
    for candidate in (path, path.parent):
        try:
            return bool(os.statvfs(candidate).f_flag & os.ST_RDONLY)
        except OSError:
            continue
    return False


def cause(path: Path, *, in_directory: bool = False, companions: str = "") -> str | None:
    """What keeps this user from using ``path``, if the system tells; else None.

    ``in_directory`` says the trouble is known to be writing in the directory (new files
    next to the store); ``companions`` names what the store keeps there.
    """
    if read_only_file_system(path):
        return f"the file system it is on is mounted read-only ({str(path)!r})"
    directory = path.parent if str(path.parent) else Path()
    exists = os.path.lexists(path)
    if exists and not os.access(path, os.R_OK):
        return f"this user may not read {str(path)!r}; ask its owner for access"
    if in_directory or not os.access(directory, os.W_OK | os.X_OK):
        kept = f", where {companions}" if companions else ""
        return (
            f"this user may not write in {str(directory.absolute())!r}{kept}; ask its owner "
            "for access"
        )
    if exists and not os.access(path, os.W_OK):
        return f"this user may not write {str(path)!r}; ask its owner for access"
    return None
