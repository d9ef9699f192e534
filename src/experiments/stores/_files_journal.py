"""The journal of a batch in a files store, and finishing or undoing an interrupted one.

A batch that creates several files, or purges, first writes ``.journal`` (the commit
protocol in :mod:`experiments.stores.files`).  This module holds the journal's format
(:class:`Journal`), what an unfinished batch hides from readers (:class:`View`), and
recovery (:func:`recover`): a batch interrupted while ``pending`` is undone, one
interrupted once ``committed`` is finished.  The writer (``_files_writer``) writes
journals and recovers before every write; the directory (``_files_directory``)
recovers when the store is opened; the reader (``_files_reader``) reads through a
:class:`View`.  Recovery only removes files, so it works on a full disk too; the caller
holds the store's exclusive lock.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from collections.abc import Iterable
from typing import TYPE_CHECKING

import attrs

from experiments.errors import StoreError
from experiments.model._validate import ID_PATTERN
from experiments.stores import _atomic
from experiments.stores._filenames import encode_id, is_temporary, version_name
from experiments.stores._files_layout import CURRENT, JOURNAL, Dirs, Unreadable
from experiments.stores._files_record import read_current, settle

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "Journal",
    "View",
    "digest",
    "read_journal",
    "recover",
    "remove_records",
    "sweep",
    "undo",
]


def digest(content: bytes) -> str:
    """The digest a journal keeps of a version it creates, to undo only that version."""
    return hashlib.sha256(content).hexdigest()


@attrs.frozen
class Journal:
    """The intent of a batch being written (see the module documentation)."""

    state: str
    create: tuple[tuple[str, int, str], ...]
    purge: tuple[str, ...]

    def to_bytes(self) -> bytes:
        body = {
            "journal": 1,
            "state": self.state,
            "create": [list(item) for item in self.create],
            "purge": list(self.purge),
        }
        return (json.dumps(body, indent=2) + "\n").encode()

    @classmethod
    def parse(cls, raw: bytes) -> Journal:
        try:
            body = json.loads(raw)
            state = body["state"]
            create = tuple(
                (str(record_id), int(revision), str(sha))
                for record_id, revision, sha in body["create"]
            )
            purge = tuple(str(record_id) for record_id in body["purge"])
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            raise Unreadable(f"is not a journal this version can read ({exc!r})") from None
        if body.get("journal") != 1 or state not in ("pending", "committed"):
            raise Unreadable("is a journal of an unknown version or state")
        for record_id, revision, _ in create:
            if not ID_PATTERN.fullmatch(record_id) or revision < 1:
                raise Unreadable(f"names an impossible version ({record_id!r}, {revision})")
        for record_id in purge:
            if not ID_PATTERN.fullmatch(record_id):
                raise Unreadable(f"names an impossible record ({record_id!r})")
        return cls(state, create, purge)


@attrs.frozen
class View:
    """What readers leave out: the unfinished parts of an interrupted batch, if any."""

    hidden: frozenset[tuple[str, int]] = frozenset()
    gone: frozenset[str] = frozenset()

    @classmethod
    def of(cls, journal: Journal | None) -> View:
        if journal is None:
            return cls()
        if journal.state == "pending":
            return cls(hidden=frozenset((encode_id(i), r) for i, r, _ in journal.create))
        return cls(gone=frozenset(encode_id(i) for i in journal.purge))


def read_journal(root: int, store: Path) -> Journal | None:
    """The journal in the store directory ``root`` (at ``store``), or None if there is none."""
    try:
        raw = _atomic.read_bytes(JOURNAL, root)
    except FileNotFoundError:
        return None
    try:
        return Journal.parse(raw)
    except Unreadable as exc:
        raise StoreError(
            f"{store / JOURNAL} (an interrupted batch) {exc}; a newer version of "
            "strategy-experiments may have written it"
        ) from None


def recover(dirs: Dirs, store: Path) -> None:
    """Finish or undo an interrupted batch; the caller holds the exclusive lock."""
    for name in _atomic.names(dirs.root):
        if is_temporary(name):
            os.unlink(name, dir_fd=dirs.root)
    journal = read_journal(dirs.root, store)
    if journal is None:
        return
    if dirs.records is not None:
        if journal.state == "pending":
            undo(dirs.records, journal.create)
        else:
            remove_records(dirs.records, journal.purge)
    os.unlink(JOURNAL, dir_fd=dirs.root)
    _atomic.fsync_directory(dirs.root)


def undo(records: int, created: Iterable[tuple[str, int, str]]) -> None:
    """Remove versions a write created (only if they hold what it wrote).

    A ``current.json`` the write put in place goes too, and the record's directory is
    settled (``_files_record``): the version it had before, which the write copied into
    the history first, is current again.  Only renames and removals.
    """
    by_name: dict[str, set[tuple[int, str]]] = {}
    for record_id, revision, wrote in created:
        by_name.setdefault(encode_id(record_id), set()).add((revision, wrote))
    for name, versions in by_name.items():
        try:
            fd = _atomic.open_directory(name, records)
        except FileNotFoundError:
            continue
        try:
            for revision, wrote in versions:
                try:
                    content = _atomic.read_bytes(version_name(revision), fd)
                except FileNotFoundError:
                    continue
                if digest(content) == wrote:
                    os.unlink(version_name(revision), dir_fd=fd)
            current = read_current(fd)
            if current is not None and (current.revision, digest(current.content)) in versions:
                os.unlink(CURRENT, dir_fd=fd)
            sweep(fd)
            _atomic.fsync_directory(fd)
            settle(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):  # left alone unless empty
            os.rmdir(name, dir_fd=records)
    _atomic.fsync_directory(records)


def remove_records(records: int, ids: Iterable[str]) -> None:
    """Remove purged records' directories, whole."""
    for record_id in ids:
        with contextlib.suppress(FileNotFoundError):
            shutil.rmtree(encode_id(record_id), dir_fd=records)
    _atomic.fsync_directory(records)


def sweep(fd: int) -> None:
    """Remove temporary files an interrupted write left; only under the exclusive lock."""
    for name in _atomic.names(fd):
        if is_temporary(name):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=fd)
