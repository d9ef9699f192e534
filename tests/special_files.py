"""Files that are not regular files, to write output into: a named pipe, a device node."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from experiments.testing.faults import needs_root


class SpecialFile:
    """A named pipe or a device node under a test's directory, to write output to."""

    def __init__(self, kind: str, path: Path) -> None:
        self.kind = kind
        self.path = path
        self._chunks: list[bytes] = []
        self._reader: threading.Thread | None = None
        if kind == "fifo":
            os.mkfifo(path)
            self._reader = threading.Thread(target=self._drain, daemon=True)
            self._reader.start()
        else:
            needs_root("making a device node")
            os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
        self._mode = stat.S_IFMT(path.lstat().st_mode)

    def _drain(self) -> None:
        with self.path.open("rb") as pipe:
            while chunk := pipe.read(65536):
                self._chunks.append(chunk)

    def received(self) -> bytes | None:
        """What a reader of the pipe got (None for the device, which keeps nothing)."""
        if self._reader is None:
            return None
        self._reader.join(timeout=30)
        return b"".join(self._chunks)

    def is_intact(self) -> bool:
        """Whether the path is still the pipe or device it was, not a regular file."""
        return stat.S_IFMT(self.path.lstat().st_mode) == self._mode
