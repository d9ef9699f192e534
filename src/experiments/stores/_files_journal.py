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
from collections.abc import Iterable, Iterator
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
    "finish_rewrite",
    "read_journal",
    "recover",
    "remove_records",
    "staged_name",
    "sweep",
    "undo",
    "unstage",
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
    #: Versions an erasure replaces: staged beside them (:func:`staged_name`), renamed
    #: over them once ``committed``.  Only journal version 2 has them.
    rewrite: tuple[tuple[str, int, str], ...] = ()

    def to_bytes(self) -> bytes:
        body: dict[str, object] = {
            "journal": 2 if self.rewrite else 1,
            "state": self.state,
            "create": [list(item) for item in self.create],
            "purge": list(self.purge),
        }
        if self.rewrite:
            body["rewrite"] = [list(item) for item in self.rewrite]
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
            rewrite = tuple(
                (str(record_id), int(revision), str(sha))
                for record_id, revision, sha in body.get("rewrite", [])
            )
        except (ValueError, TypeError, KeyError, RecursionError, AttributeError) as exc:
            raise Unreadable(f"is not a journal this version can read ({exc!r})") from None
        if body.get("journal") not in (1, 2) or state not in ("pending", "committed"):
            raise Unreadable("is a journal of an unknown version or state")
        for record_id, revision, _ in create + rewrite:
            if not ID_PATTERN.fullmatch(record_id) or revision < 1:
                raise Unreadable(f"names an impossible version ({record_id!r}, {revision})")
        for record_id in purge:
            if not ID_PATTERN.fullmatch(record_id):
                raise Unreadable(f"names an impossible record ({record_id!r})")
        return cls(state, create, purge, rewrite)


@attrs.frozen
class View:
    """What readers leave out: the unfinished parts of an interrupted batch, if any."""

    hidden: frozenset[tuple[str, int]] = frozenset()
    gone: frozenset[str] = frozenset()
    #: Versions a committed erasure replaces: read from their staged file while it is
    #: still there (see :func:`staged_name`), so readers see the erasure at once.
    rewritten: frozenset[tuple[str, int]] = frozenset()

    @classmethod
    def of(cls, journal: Journal | None) -> View:
        if journal is None:
            return cls()
        if journal.state == "pending":
            return cls(hidden=frozenset((encode_id(i), r) for i, r, _ in journal.create))
        return cls(
            gone=frozenset(encode_id(i) for i in journal.purge),
            rewritten=frozenset((encode_id(i), r) for i, r, _ in journal.rewrite),
        )


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
            unstage(dirs.records, journal.rewrite)
        else:
            finish_rewrite(dirs.records, journal.rewrite)
            remove_records(dirs.records, journal.purge)
    os.unlink(JOURNAL, dir_fd=dirs.root)
    _atomic.fsync_directory(dirs.root)


def undo(records: int, created: Iterable[tuple[str, int, str]]) -> None:
    """Remove versions a write created (only if they hold what it wrote).

    A ``current.json`` the write put in place goes too, and the record's directory is
    settled (``_files_record``): the version it had before, which the write copied into
    the history first, is current again.  Only renames and removals.
    """
    for fd, pairs in _each_record_dir(records, created, remove_empty=True):
        versions = set(pairs)
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


def staged_name(revision: int) -> str:
    """Where an erasure stages the new content of a version: hidden, next to it.

    Named for the revision, wherever the version is (``current.json`` or its history
    file): :func:`finish_rewrite` renames it over the file that holds that revision.
    """
    return f".{version_name(revision)}.rewrite"


def _each_record_dir(
    records: int, versions: Iterable[tuple[str, int, str]], *, remove_empty: bool = False
) -> Iterator[tuple[int, list[tuple[int, str]]]]:
    """Each record directory that ``versions`` name, open, with its (revision, digest) pairs.

    Each is flushed after the caller is done with it, then (``remove_empty``) removed if
    nothing is left in it; the records directory is flushed at the end.
    """
    by_name: dict[str, list[tuple[int, str]]] = {}
    for record_id, revision, sha in versions:
        by_name.setdefault(encode_id(record_id), []).append((revision, sha))
    for name, pairs in by_name.items():
        try:
            fd = _atomic.open_directory(name, records)
        except FileNotFoundError:
            continue
        try:
            yield fd, pairs
            _atomic.fsync_directory(fd)
        finally:
            os.close(fd)
        if remove_empty:
            with contextlib.suppress(OSError):  # left alone unless empty
                os.rmdir(name, dir_fd=records)
    _atomic.fsync_directory(records)


def unstage(records: int, rewrite: Iterable[tuple[str, int, str]]) -> None:
    """Remove what an erasure staged and did not commit: the old versions stand."""
    for fd, versions in _each_record_dir(records, rewrite):
        for revision, _ in versions:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(staged_name(revision), dir_fd=fd)


def finish_rewrite(records: int, rewrite: Iterable[tuple[str, int, str]]) -> None:
    """Rename what a committed erasure staged over the versions it replaces.

    The current revision's staged file replaces ``current.json``, every other one its
    history file.  A staged file already renamed is gone: that version is done.
    """
    for fd, versions in _each_record_dir(records, rewrite):
        settle(fd)  # a history file repeating current.json goes: it would keep the old data
        current = read_current(fd)
        for revision, _ in versions:
            held = current is not None and current.revision == revision
            with contextlib.suppress(FileNotFoundError):
                os.replace(
                    staged_name(revision),
                    CURRENT if held else version_name(revision),
                    src_dir_fd=fd,
                    dst_dir_fd=fd,
                )


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
