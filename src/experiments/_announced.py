"""Whether an installed plugin may load, and whether any distribution announces one, cheaply.

``importlib.metadata`` costs about 10 ms to import (it brings the ``email`` package,
``zipfile`` and ``csv``), which is most of what opening a store with plugin autoloading
costs when no plugin is installed, as on most machines.  So :func:`may_announce`
first looks where ``importlib.metadata`` looks: each directory on ``sys.path`` and
its ``*.dist-info``, ``*.egg-info`` and ``*.egg`` entries, reading their
``entry_points.txt`` for the group's section.  Only when one has it, or when the
search cannot be sure (a zip file on the path, a finder of distributions other than
the standard one), does the caller ask ``importlib.metadata``, which then decides.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

__all__ = [
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "autoload_disabled",
    "installed_may_load",
    "may_announce",
]

#: The entry-point group installed plugins announce themselves in.
ENTRY_POINT_GROUP: Final = "experiments"
#: The environment variable that, set to ``1``, keeps installed plugins from loading.
AUTOLOAD_ENV: Final = "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD"

_INFO_SUFFIXES = (".dist-info", ".egg-info")


def autoload_disabled() -> bool:
    """Whether ``EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD`` turns entry-point discovery off."""
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


def installed_may_load() -> bool:
    """Whether plugins made with autoloading as the environment says may load an installed one.

    False when autoloading is off or no distribution announces the group: such plugins
    are the built-in parts alone, known without asking pluggy.
    """
    return not autoload_disabled() and may_announce(ENTRY_POINT_GROUP)


def may_announce(group: str, path: Iterable[str] | None = None) -> bool:
    """False only if surely no distribution on ``path`` (``sys.path``) announces ``group``.

    The answer is kept while no directory on the path changes (installing or removing a
    distribution changes its directory's modification time): a script that opens many
    stores reads the directories once.
    """
    if any(_other_finder(finder) for finder in sys.meta_path):
        return True
    entries = tuple(sys.path if path is None else path)
    key = (group, tuple((entry, _modified(entry or ".")) for entry in entries))
    known = _ANSWERS.get(key)
    if known is None:
        known = _ANSWERS[key] = _announces(group, entries)
    return known


#: ``may_announce``'s answers, by group and the path's directories as they were.
_ANSWERS: dict[tuple[str, tuple[tuple[str, int], ...]], bool] = {}


def _modified(entry: str) -> int:
    try:
        return Path(entry).stat().st_mtime_ns
    except OSError:
        return -1


def _announces(group: str, entries: Iterable[str]) -> bool:
    header = f"[{group}]"
    for entry in entries:
        files = _entry_point_files(entry or ".")
        if files is None:
            return True
        for file in files:
            if _has_section(file, header):
                return True
    return False


def _other_finder(finder: object) -> bool:
    """Whether ``finder`` may find distributions somewhere this module does not look."""
    if finder is importlib.machinery.PathFinder:
        return False
    return callable(getattr(finder, "find_distributions", None))


def _entry_point_files(entry: str) -> Iterator[Path] | None:
    """The ``entry_points.txt`` files of the distributions in the directory ``entry``.

    None when ``entry`` is something else that may hold distributions (a zip file).
    """
    try:
        children = list(Path(entry).iterdir())
    except NotADirectoryError:
        return None
    except OSError:  # missing or unreadable: importlib.metadata finds nothing there either
        return iter(())
    return _files_in(children)


def _files_in(children: list[Path]) -> Iterator[Path]:
    for child in children:
        folded = child.name.lower()
        if folded.endswith(_INFO_SUFFIXES):
            yield child / "entry_points.txt"
        elif folded.endswith(".egg"):
            yield child / "EGG-INFO" / "entry_points.txt"


def _has_section(file: Path, header: str) -> bool:
    try:
        with file.open(encoding="utf-8", errors="replace") as text:
            return any(line.strip() == header for line in text)
    except OSError:  # no such file (most distributions have no entry points), or unreadable
        return False
