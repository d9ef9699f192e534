"""Bringing a files store written in an older format up to date, once.

Format 2 writes times in RFC 3339 with their offset (record schema 5 and later), where format 1
wrote UTC text with the zone in brackets, and keeps each record's current version in
``current.json``, edited in place, where format 1 had only a file per revision.
:func:`migrate` rewrites every version file that still holds the old form, each one
atomically, renames each record's last version to ``current.json`` (``_files_record``),
adds the ``.gitattributes`` a new store gets, and then rewrites the marker, which names
the new format and records the migration in its ``migrations`` list.  It runs under
the store's exclusive lock and looks at the marker again first, so of several
processes opening the store at once exactly one migrates it; one that is interrupted
leaves the marker as it was, and the next open rewrites what is left (a file already
rewritten is left alone).
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any, Final

from experiments._version import __version__
from experiments.model._time import format_datetime, now
from experiments.serialization import rewritten
from experiments.stores import _atomic
from experiments.stores._filenames import revision_of
from experiments.stores._files_layout import (
    CURRENT,
    FORMAT,
    FORMAT_VERSION,
    GITATTRIBUTES,
    GITATTRIBUTES_TEXT,
    MARKER,
    Dirs,
    Unreadable,
    record_name,
    version_number,
)
from experiments.stores._files_record import dumps, settle

__all__ = ["marker", "migrate", "read_marker"]

#: What the marker says about the layout, for a person who opens it.
_LAYOUT: Final = (
    "records/<id>/current.json, the current version, and records/<id>/<revision>.json, "
    "the earlier ones; see the strategy-experiments docs"
)


def marker(version: int, migrations: list[dict[str, Any]] | None = None) -> bytes:
    """The bytes of ``store.json`` for a store of format ``version``."""
    body: dict[str, Any] = {"format": FORMAT, "version": version, "layout": _LAYOUT}
    if migrations:
        body["migrations"] = migrations
    return (json.dumps(body, indent=2) + "\n").encode()


def read_marker(raw: bytes) -> tuple[int, dict[str, Any]]:
    """The format version ``store.json`` names, and all it says.

    Raises:
        Unreadable: it is not a files store's marker, or names no valid version.
    """
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):
        body = None
    if not isinstance(body, dict) or body.get("format") != FORMAT:
        raise Unreadable(
            "is not the marker of a strategy-experiments files store "
            f'(it should say "format": "{FORMAT}")'
        )
    version = version_number(body.get("version"))
    if version is None:
        raise Unreadable("holds no valid format version")
    return version, body


def migrate(dirs: Dirs) -> bool:
    """Bring the store open in ``dirs`` to :data:`FORMAT_VERSION`; whether this did it.

    The caller holds the store's exclusive lock.
    """
    version, body = read_marker(_atomic.read_bytes(MARKER, dirs.root))
    if version >= FORMAT_VERSION:
        return False
    if dirs.records is not None:
        for name in _atomic.names(dirs.records):
            if record_name(name)[0]:
                _rewrite_record(dirs.records, name)
    with contextlib.suppress(FileExistsError):  # the user's own is left as it is
        _atomic.create_exclusive(GITATTRIBUTES, GITATTRIBUTES_TEXT.encode(), dirs.root)
    done = body.get("migrations")
    history = list(done) if isinstance(done, list) else []
    history.append(
        {"version": FORMAT_VERSION, "library": __version__, "applied_at": format_datetime(now())}
    )
    _atomic.replace(MARKER, marker(FORMAT_VERSION, history), dirs.root)
    return True


def _rewrite_record(records: int, name: str) -> None:
    """One record's directory in format 2: RFC 3339 times, its last version current.json."""
    try:
        fd = _atomic.open_directory(name, records)
    except _atomic.LinkError:
        return  # not a record's directory: verify() reports it
    try:
        for entry in _atomic.names(fd):
            if revision_of(entry) is None and entry != CURRENT:
                continue
            try:
                data = rewritten(_atomic.read_bytes(entry, fd))
            except _atomic.LinkError:
                continue  # verify() reports it
            if data is not None:
                _atomic.replace(entry, dumps(data), fd, sync_directory=False)
        _atomic.fsync_directory(fd)
        with contextlib.suppress(_atomic.LinkError):  # verify() reports it
            settle(fd)
    finally:
        os.close(fd)
