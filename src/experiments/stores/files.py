"""The JSON directory store: one readable file per record, made to be kept in git.

``files:///relative/dir`` or ``files:////absolute/dir`` names a directory laid out as::

    store.json                      format marker: what this directory is, which layout,
                                    and the store's settings (its participant key)
    .gitignore                      keeps the working files below out of git
    .gitattributes                  tells git that the history files are copies
    records/<id>/current.json       the current version of the record <id>
    records/<id>/00000001.json      revision 1, once revision 2 is current; and so on
    .lock                           working file: taken by every reader and writer
    .journal                        working file: only while a batch is being written

Each version is the record's data as :func:`~experiments.serialization.to_data` gives
it, indented one field per line, in a fixed key order, with a final newline.  A save
rewrites ``current.json`` in place, after keeping the version it held in the history
under its revision's name, so a change shows in ``git diff`` as the lines of
``current.json`` that changed; a history file is never changed after it is written (see
``_files_record``).  An id becomes a directory name that cannot
leave ``records/`` and cannot collide with another id, even on a case-insensitive file
system (see :mod:`experiments.stores._filenames`).

Writing
    A file is written under a hidden temporary name in its directory, flushed to disk,
    then given its final name, and the directory is flushed too: a crash leaves the
    whole file or none of it (at worst a stray ``.*.tmp`` file, which
    :meth:`~experiments.stores.Store.verify` lists and the next write there removes).
    A history file, and the ``current.json`` of a new record, get their final name by a
    hard link, which fails if the name is taken, so neither is ever overwritten; a save
    of the next revision renames its ``current.json`` over the old one once the old one
    is in the history, so a crash leaves one of the two versions current, never a
    mix.  Every write holds an exclusive ``flock`` on ``.lock`` while it checks the
    revisions it builds on and writes; readers hold a shared one.
    Two saves racing on one record therefore never both succeed: the second finds the
    revision it was based on replaced and raises
    :class:`~experiments.errors.ConflictError`.  A lock another process holds is waited
    for up to ``?timeout=`` seconds (30 by default, as for SQLite); then a
    :class:`~experiments.errors.StoreError` names the process that holds it.

    A write that fails is taken back before the error is raised, so the error can say
    that nothing was written.  Only when taking it back fails too (the disk refusing
    every change) does the error say that the write may or may not be stored, and which
    records to look up.

The commit protocol for batches
    A write of one version (a single save) needs nothing more.  A batch that creates
    several versions, or purges, first writes ``.journal`` atomically: the versions it
    is about to create (id, revision and a SHA-256 of the content) and the records it
    will purge, in the state ``pending``.  Then it creates the versions.  If it purges,
    it rewrites the journal in the state ``committed``, and only then removes the purged
    records' directories.  Removing the journal is the end of the batch.

    A batch interrupted in ``pending`` is rolled back: the versions it created (those
    whose content matches the journal's digest) are removed, and where it replaced a
    ``current.json``, the version it kept in the history is renamed back into place.
    One interrupted in ``committed`` is rolled forward: the purges are finished.  This
    happens when the store is next opened or written, under the exclusive lock; until
    then readers in processes that opened the store earlier ignore what the journal
    says is not committed.  So no reader ever sees part of a batch, and a crash at any moment
    loses no write that had returned.

Reading
    Files are opened relative to their directory with ``O_NOFOLLOW``: a symbolic link in
    the store is reported, never followed.  A file that cannot be read (empty, not UTF-8,
    not JSON, half-written, of an unknown schema version, or not the record its name
    says) raises :class:`~experiments.errors.StoreError` naming the file; every other
    record stays readable, and :meth:`~experiments.stores.Store.verify` lists each bad
    file on its own.

The store runs on POSIX systems (Linux, macOS), whose file locks and links it relies on.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from experiments.errors import StoreURLError
from experiments.stores import _access
from experiments.stores._files_directory import Directory
from experiments.stores._files_layout import FORMAT, FORMAT_VERSION
from experiments.stores._files_reader import Reader
from experiments.stores._files_writer import Writer
from experiments.stores.base import Capability, Store
from experiments.stores.url import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from experiments.stores.changes import Change, Damage

__all__ = ["FORMAT", "FORMAT_VERSION", "FileStore"]


class FileStore(Store):
    """Records as JSON files in a directory; see the module documentation.

    The store's primitives are its parts' work: the
    :class:`~experiments.stores._files_directory.Directory` opens, makes and locks the
    directory, the :class:`~experiments.stores._files_reader.Reader` reads and
    verifies it, and the :class:`~experiments.stores._files_writer.Writer` writes to it.
    """

    scheme: ClassVar[str] = "files"
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.PERSISTENT,
            Capability.MULTIPROCESS,
            Capability.THREADSAFE,
            Capability.ERASURE,
            Capability.SNAPSHOT,
        }
    )

    def _setup(self, create: bool | None) -> None:
        url = self.url
        path = url.file_path
        if not path:
            raise StoreURLError(
                f"{url.redacted} names no directory; write files:///relative/dir or "
                "files:////absolute/dir"
            )
        url.options("files", "timeout")
        self.path = Path(path)
        self._directory = Directory(
            self.path,
            timeout=url.seconds("timeout", DEFAULT_TIMEOUT),
            create=create,
            check_open=self._check_open,
        )
        self._reader = Reader(self._directory)
        self._writer = Writer(self._directory, self._reader)
        if create is False and not self._directory.marker_exists():
            raise self._directory.missing()
        if create or _access.present(self.path):
            self._directory.prepare(create=bool(create))

    def exists(self) -> bool:
        return self._directory.exists()

    def _make_now(self) -> None:
        self._directory.ensure(write=True)

    def _setting(self, name: str) -> str | None:
        if not self.exists():
            return None
        self._directory.ensure(write=False)
        return self._directory.settings().get(name)

    def _put_setting(self, name: str, value: str | None) -> None:
        self._directory.put_setting(name, value)

    def _free_erased(self, *, vacuum: bool) -> str:
        del vacuum
        return (
            "every old version file was replaced by a new one; the file system frees the "
            "old blocks but does not overwrite them, and backups, snapshots and git "
            "history keep what they copied"
        )

    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        return self._writer.commit(changes)

    def _snapshot(self) -> contextlib.AbstractContextManager[None]:
        # The shared lock, held for the block: writers, who take it exclusive, wait.
        if not self._directory.exists():
            return contextlib.nullcontext()
        return self._directory.locked(exclusive=False)

    def _load(self, id: str) -> Mapping[str, Any] | None:  # noqa: A002 - it is an id
        current = self._reader.versions(id, every=False)
        return current[0] if current else None

    def _load_versions(self, id: str) -> list[Mapping[str, Any]]:  # noqa: A002 - it is an id
        return self._reader.versions(id, every=True)

    def _scan(self, kind: str | None) -> Iterator[Mapping[str, Any]]:
        return self._reader.scan(kind, every=False)

    def _scan_versions(self) -> Iterator[Mapping[str, Any]]:
        return self._reader.scan(None, every=True)

    def _count_versions(self) -> int:
        return self._reader.count_versions()

    def _verify_storage(self) -> Iterator[Damage | Mapping[str, Any]]:
        return self._reader.verify()
