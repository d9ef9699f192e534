"""One record's directory in a files store: its current version, edited in place, and its history.

A record's directory holds ``current.json``, the current version, and one file per
earlier revision (``00000001.json``, ...), each written once and never changed.  A save
of the next revision first copies ``current.json`` into the history under its revision's
name (created exclusively and flushed), then puts the new version in ``current.json`` by
an atomic rename.  So git shows a save as the lines of ``current.json`` that changed, and
a crash at any moment leaves either the old version or the new one current: at worst a
history file that repeats ``current.json``, which readers take for the one version it is
and :func:`settle` removes.

:func:`place` writes new versions into a directory; :func:`settle` brings a directory to
its normal form (``current.json`` present, no history file repeating it) by renames and
removals only, so taking back a write works on a full disk too.  The writer
(``_files_writer``) places versions, the journal (``_files_journal``) settles a
directory after undoing a batch, and the migration (``_files_migrate``) settles every
directory of a store written before ``current.json`` existed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

import attrs

from experiments.errors import StoreError
from experiments.stores import _atomic
from experiments.stores._filenames import revision_of, version_name
from experiments.stores._files_layout import CURRENT, RESTORE, version_number

if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["Current", "dumps", "history", "place", "read_current", "settle"]


def dumps(data: Mapping[str, Any]) -> bytes:
    """A version's bytes: one field a line, in the converter's key order, newline at the end."""
    try:
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StoreError(
            f"record {data.get('id')!r} holds text that cannot be written as UTF-8 ({exc})"
        ) from None


@attrs.frozen
class Current:
    """The bytes of ``current.json`` and the revision they hold (None if they hold none)."""

    revision: int | None
    content: bytes


def read_current(fd: int) -> Current | None:
    """``current.json`` of the record directory ``fd``, or None if there is none."""
    try:
        raw = _atomic.read_bytes(CURRENT, fd)
    except FileNotFoundError:
        return None
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):
        return Current(None, raw)
    revision = version_number(data.get("revision")) if isinstance(data, dict) else None
    return Current(revision, raw)


def history(fd: int) -> dict[int, str]:
    """The history files of the record directory ``fd``: revision -> file name, in order."""
    found = {}
    for name in _atomic.names(fd):
        revision = revision_of(name)
        if revision is not None:
            found[revision] = name
    return dict(sorted(found.items()))


def place(
    fd: int,
    where: Path,
    versions: Mapping[int, bytes],
    conflict: Callable[[int], Exception],
) -> None:
    """Write new ``versions`` (revision -> bytes) of one record into its directory ``fd``.

    The highest becomes ``current.json`` if it is newer than the current version, after
    the current version is copied into the history; the others join the history.  A
    name some other program took meanwhile raises ``conflict(revision)``.  The caller
    holds the exclusive lock, and flushes ``fd`` afterwards.
    """
    top = max(versions)
    current = read_current(fd)
    if current is not None and current.revision is None:
        raise StoreError(f"{where / CURRENT} holds no record with a revision; {RESTORE}")
    moves = current is None or top > (current.revision or 0)
    if moves and current is not None:
        _keep(fd, where, current)
    for revision, content in versions.items():
        if not (moves and revision == top):
            _create(fd, version_name(revision), content, revision, conflict)
    if moves:
        if current is None:
            _create(fd, CURRENT, versions[top], top, conflict)
        else:
            _atomic.replace(CURRENT, versions[top], fd, sync_directory=False)


def settle(fd: int) -> None:
    """Bring a record directory to its normal form, by renames and removals only.

    Without ``current.json``, the highest history file becomes it; a history file that
    repeats ``current.json`` byte for byte is removed.  The caller holds the exclusive
    lock.
    """
    found = history(fd)
    current = read_current(fd)
    if current is None:
        if not found:
            return
        top = max(found)
        os.rename(found.pop(top), CURRENT, src_dir_fd=fd, dst_dir_fd=fd)
        _atomic.fsync_directory(fd)
        return
    repeated = found.get(current.revision) if current.revision is not None else None
    if repeated is not None and _atomic.read_bytes(repeated, fd) == current.content:
        os.unlink(repeated, dir_fd=fd)
        _atomic.fsync_directory(fd)


def _keep(fd: int, where: Path, current: Current) -> None:
    """Copy the current version into the history, durably, before it is replaced."""
    assert current.revision is not None
    name = version_name(current.revision)
    try:
        _atomic.create_exclusive(name, current.content, fd)
    except FileExistsError:
        if _atomic.read_bytes(name, fd) != current.content:
            raise StoreError(
                f"{where / name} and {where / CURRENT} both hold revision "
                f"{current.revision}, but not the same data: keep the right one (`experiments "
                "verify` lists them); nothing was written"
            ) from None
        return
    _atomic.fsync_directory(fd)


def _create(
    fd: int, name: str, content: bytes, revision: int, conflict: Callable[[int], Exception]
) -> None:
    try:
        _atomic.create_exclusive(name, content, fd)
    except FileExistsError:
        raise conflict(revision) from None
