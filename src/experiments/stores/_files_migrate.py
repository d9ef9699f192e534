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

Format 3 keeps the store's settings in the marker, its participant key among them, and
re-keys every participant id (see :mod:`experiments.stores._keys`); the new ids are
written into the marker before any file changes, so an interrupted migration goes on
with the same ones.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from typing import Any

from experiments._version import __version__
from experiments.model._time import format_datetime, now
from experiments.serialization import rewritten
from experiments.stores import _atomic, _keys
from experiments.stores._filenames import encode_id, revision_of
from experiments.stores._files_layout import (
    CURRENT,
    FORMAT_VERSION,
    GITATTRIBUTES,
    GITATTRIBUTES_TEXT,
    MARKER,
    Dirs,
    marker,
    read_marker,
    record_name,
    settings_of,
)
from experiments.stores._files_record import dumps, settle

__all__ = ["migrate"]


def migrate(dirs: Dirs) -> bool:
    """Bring the store open in ``dirs`` to :data:`FORMAT_VERSION`; whether this did it.

    The caller holds the store's exclusive lock.
    """
    version, body = read_marker(_atomic.read_bytes(MARKER, dirs.root))
    if version >= FORMAT_VERSION:
        return False
    done = body.get("migrations")
    history = list(done) if isinstance(done, list) else []
    if version < 2:  # noqa: PLR2004 - the format versions, in order
        if dirs.records is not None:
            for name in _atomic.names(dirs.records):
                if record_name(name)[0]:
                    _rewrite_record(dirs.records, name)
        with contextlib.suppress(FileExistsError):  # the user's own is left as it is
            _atomic.create_exclusive(GITATTRIBUTES, GITATTRIBUTES_TEXT.encode(), dirs.root)
    settings = _rekey(dirs, version, body, history)
    history.append(
        {"version": FORMAT_VERSION, "library": __version__, "applied_at": format_datetime(now())}
    )
    _atomic.replace(MARKER, marker(FORMAT_VERSION, history, settings=settings), dirs.root)
    return True


def _rekey(dirs: Dirs, version: int, body: Mapping[str, Any], history: list[Any]) -> dict[str, str]:
    """Format 3: a participant key in the marker, and every participant id re-keyed.

    The key and the new ids go into the marker first, so that a migration cut short
    goes on with the same ones: every file that mentions an old id is rewritten, then
    each record directory whose id changed is renamed.  Both steps can be done again.
    """
    settings = settings_of(body)
    rekeying = body.get("rekeying")
    if not isinstance(rekeying, dict) or _keys.KEY not in settings:
        settings[_keys.KEY] = _keys.new_key()
        rekeying = _keys.plan(settings[_keys.KEY], _current_people(dirs))
        begun = marker(version, history, settings=settings, rekeying=rekeying)
        _atomic.replace(MARKER, begun, dirs.root)
    mapping = {str(old): str(new) for old, new in rekeying.items()}
    if mapping and dirs.records is not None:
        for name in _atomic.names(dirs.records):
            if record_name(name)[0]:
                _rewrite_record(dirs.records, name, mapping)
        for old, new in mapping.items():
            with contextlib.suppress(FileNotFoundError, FileExistsError):
                os.rename(
                    encode_id(old),
                    encode_id(new),
                    src_dir_fd=dirs.records,
                    dst_dir_fd=dirs.records,
                )
        _atomic.fsync_directory(dirs.records)
    return settings


def _current_people(dirs: Dirs) -> Iterator[Mapping[str, Any]]:
    """The current version of every participant and participation, for the new ids."""
    if dirs.records is None:
        return
    for name in _atomic.names(dirs.records):
        if not record_name(name)[0]:
            continue
        try:
            fd = _atomic.open_directory(name, dirs.records)
        except _atomic.LinkError:
            continue  # not a record's directory: verify() reports it
        try:
            with contextlib.suppress(FileNotFoundError, _atomic.LinkError, ValueError):
                data = json.loads(_atomic.read_bytes(CURRENT, fd))
                if isinstance(data, dict) and data.get("kind") in ("participant", "participation"):
                    yield data
        finally:
            os.close(fd)


def _rewrite_record(records: int, name: str, mapping: Mapping[str, str] | None = None) -> None:
    """One record's directory in format 2: RFC 3339 times, its last version current.json.

    With ``mapping``, format 3 instead: every participant id in it re-keyed.
    """
    try:
        fd = _atomic.open_directory(name, records)
    except _atomic.LinkError:
        return  # not a record's directory: verify() reports it
    try:
        for entry in _atomic.names(fd):
            if revision_of(entry) is None and entry != CURRENT:
                continue
            try:
                raw = _atomic.read_bytes(entry, fd)
            except _atomic.LinkError:
                continue  # verify() reports it
            if mapping is not None:
                text = raw.decode("utf-8", errors="surrogateescape")
                changed = _keys.rekeyed(text, mapping)
                if changed != text:
                    fresh = changed.encode("utf-8", errors="surrogateescape")
                    _atomic.replace(entry, fresh, fd, sync_directory=False)
                continue
            data = rewritten(raw)
            if data is not None:
                _atomic.replace(entry, dumps(data), fd, sync_directory=False)
        _atomic.fsync_directory(fd)
        with contextlib.suppress(_atomic.LinkError):  # verify() reports it
            settle(fd)
    finally:
        os.close(fd)
