"""Writing to a files store, and taking back a write that fails.

:class:`Writer` commits a batch of changes all or nothing.  Under the exclusive lock of
the store's :class:`~experiments.stores._files_directory.Directory` it finishes any
interrupted batch (``_files_journal``), makes the plan of the write (``_files_plan``)
and writes it: a single new version directly, a batch behind a journal (the commit
protocol in :mod:`experiments.stores.files`).  A write that fails is taken back before
the error is raised, so the error can say that nothing was written; only when taking
it back fails too does the error say that the write may or may not be stored.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Final

from experiments.errors import ConflictError, StoreError
from experiments.stores import _atomic
from experiments.stores._filenames import encode_id
from experiments.stores._files_journal import (
    Journal,
    digest,
    finish_rewrite,
    read_journal,
    recover,
    remove_records,
    staged_name,
    sweep,
    undo,
)
from experiments.stores._files_layout import JOURNAL, RECORDS, Dirs
from experiments.stores._files_plan import Plan, make_plan
from experiments.stores._files_record import place

if TYPE_CHECKING:
    from experiments.stores._files_directory import Directory
    from experiments.stores._files_reader import Reader
    from experiments.stores.changes import Change

__all__ = ["Writer"]

#: Records named in a message about a batch; the rest are "...".
_NAMED: Final = 3

#: The store's logger keeps the name users know it by.
_log = logging.getLogger("experiments.stores.files")


class _Uncertain(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A write failed where it cannot tell whether it is stored; the message says so."""


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__


class Writer:
    """Writes to one files store (see the module documentation)."""

    def __init__(self, directory: Directory, reader: Reader) -> None:
        self.directory = directory
        self.reader = reader
        self.path = directory.path

    def commit(self, changes: Iterable[Change]) -> list[Any]:
        """Apply ``changes`` all or nothing; one result per change (see ``Backend._commit``)."""
        pending = list(changes)
        if not pending:
            return []
        self.directory.ensure(write=True)
        try:
            with (
                self.directory.locked(exclusive=True),
                self.directory.open_dirs(make_records=True) as dirs,
            ):
                recover(dirs, self.path)
                assert dirs.records is not None
                plan = make_plan(self.reader, dirs.records, pending)
                self._write(dirs, plan)
        except _Uncertain as exc:
            raise StoreError(str(exc)) from exc.__cause__
        except OSError as exc:
            raise self.directory.failed("writing (nothing was written)", exc) from None
        return plan.results

    # --- a batch behind its journal -------------------------------------------------

    def _write(self, dirs: Dirs, plan: Plan) -> None:
        """Write a checked plan: all of it, or (after taking back what was done) nothing.

        A single new version needs no journal.  A batch is committed when its journal is
        removed, or, if it purges, when the journal says ``committed`` on disk; whatever
        fails before that is taken back, so the error can say that nothing was written.
        """
        assert dirs.records is not None
        created = tuple((i, r, digest(c)) for (i, r), c in plan.create.items())
        if not plan.purge and not plan.rewrite and len(plan.create) <= 1:
            if plan.create:
                self._write_one(dirs.records, plan.create, created)
            return
        purges = tuple(plan.purge)
        rewrites = tuple((i, r, digest(c)) for (i, r), c in plan.rewrite.items())
        pending = Journal("pending", created, purges, rewrites)
        try:
            if created or rewrites:
                _atomic.replace(JOURNAL, pending.to_bytes(), dirs.root)
                self._create_versions(dirs.records, plan.create)
                self._stage_rewrites(dirs.records, plan.rewrite)
            if purges or rewrites:
                journal = Journal("committed", created, purges, rewrites)
                _atomic.replace(JOURNAL, journal.to_bytes(), dirs.root)
            else:
                os.unlink(JOURNAL, dir_fd=dirs.root)
                _atomic.fsync_directory(dirs.root)
        except BaseException as exc:
            self._take_back(dirs, pending, exc, plan)
            raise
        if purges or rewrites:
            self._finish_purge(dirs, purges, rewrites)

    def _take_back(self, dirs: Dirs, pending: Journal, exc: BaseException, plan: Plan) -> None:
        """Undo a batch that failed before its commit was on disk; raise if that fails too.

        What to undo depends on how far it got, which the journal on disk tells: still
        pending (the usual case), already removed or said committed (a flush after the
        commit failed), or never written.  Undoing only removes files, so it works on a
        full disk too.
        """
        assert dirs.records is not None
        try:
            journal: Journal | None = read_journal(dirs.root, self.path)
        except (OSError, StoreError):
            journal = Journal("unknown", (), ())
        try:
            if journal is None:  # never written, or removed as the commit
                undo(dirs.records, pending.create)
                _atomic.fsync_directory(dirs.root)
                return
            if journal != pending:
                _atomic.replace(JOURNAL, pending.to_bytes(), dirs.root)
        except OSError as failed:
            raise _Uncertain(self._uncertain(plan, exc, failed)) from exc
        try:
            recover(dirs, self.path)  # undoes exactly what the journal names
        except OSError as failed:
            raise StoreError(
                f"{self.directory.where()}: a batch failed ({_reason(exc)}) and could not be "
                f"undone at once ({_reason(failed)}); nothing of it is read meanwhile, and it "
                "is undone when the store is next opened or written"
            ) from exc

    def _stage_rewrites(self, records: int, rewrite: Mapping[tuple[str, int], bytes]) -> None:
        """Write an erasure's new versions beside the old ones, flushed, not yet in place."""
        for (record_id, revision), content in rewrite.items():
            fd = self.directory.record_dir(records, encode_id(record_id))
            if fd is None:
                raise StoreError(f"record {record_id!r} vanished while it was being erased")
            try:
                _atomic.replace(staged_name(revision), content, fd)
            finally:
                os.close(fd)

    def _finish_purge(
        self,
        dirs: Dirs,
        purges: tuple[str, ...],
        rewrites: tuple[tuple[str, int, str], ...] = (),
    ) -> None:
        """Finish a committed batch: staged versions renamed in place, purged ones removed.

        What fails is finished on the next open or write.  A failure is tried once more
        at once (a passing fault), then left to the roll forward and logged.
        """
        assert dirs.records is not None
        for attempt in range(2):
            try:
                finish_rewrite(dirs.records, rewrites)
                remove_records(dirs.records, purges)
                with contextlib.suppress(FileNotFoundError):  # removed by the first attempt
                    os.unlink(JOURNAL, dir_fd=dirs.root)
                _atomic.fsync_directory(dirs.root)
            except OSError as exc:
                if attempt == 0:
                    continue
                failure = exc
            else:
                return
        _log.warning(
            "%s: the purge or erasure of %s is committed, but removing or replacing "
            "its files failed (%s); that is finished when the store is next opened or "
            "written",
            self.directory.where(),
            ", ".join([*purges, *dict.fromkeys(i for i, _, _ in rewrites)]),
            _reason(failure),
        )

    def _uncertain(self, plan: Plan, exc: BaseException, failed: OSError) -> str:
        """The message for a write that failed where it cannot tell what is stored."""
        ids = [
            repr(i)
            for i in dict.fromkeys(
                [i for i, _ in plan.create] + plan.purge + [i for i, _ in plan.rewrite]
            )
        ]
        shown = ", ".join(ids[:_NAMED]) + (", ..." if len(ids) > _NAMED else "")
        return (
            f"{self.directory.where()}: a write failed ({_reason(exc)}) after it had begun to "
            f"take effect, and taking it back failed too ({_reason(failed)}): it may or may "
            f"not have been stored; look up {shown} (get() or history(), or `experiments "
            "history ID`) before writing it again"
        )

    # --- versions -------------------------------------------------------------------

    def _write_one(
        self,
        records: int,
        create: Mapping[tuple[str, int], bytes],
        created: tuple[tuple[str, int, str], ...],
    ) -> None:
        """Write one version and flush it; if that fails, take it back (no journal needed).

        A save is done once ``current.json`` is renamed into place: before that the
        version it replaces is current, after it the new one is.
        """
        try:
            self._create_versions(records, create)
        except BaseException as exc:
            try:
                undo(records, created)
            except OSError as failed:
                raise _Uncertain(self._uncertain(Plan(create=dict(create)), exc, failed)) from exc
            raise

    def _create_versions(self, records: int, create: Mapping[tuple[str, int], bytes]) -> None:
        """Create the versions of a write, then flush the directories that changed.

        Each record's directory is open once, one at a time, so a batch of any size stays
        within the process's limit of open files.  On failure the journal (or, for a
        single version, :meth:`_write_one`) takes back the versions; this removes the
        directories it made.
        """
        made: list[str] = []
        by_record: dict[str, dict[int, bytes]] = {}
        for (record_id, revision), content in create.items():
            by_record.setdefault(record_id, {})[revision] = content
        try:
            for record_id, versions in by_record.items():
                name = encode_id(record_id)
                fd = self._make_record_dir(records, name, made)
                try:
                    sweep(fd)
                    place(fd, self.path / RECORDS / name, versions, self._conflict(record_id))
                finally:
                    os.close(fd)
            if made:
                _atomic.fsync_directory(records)
            for record_id in by_record:
                fd = _atomic.open_directory(encode_id(record_id), records)
                try:
                    _atomic.fsync_directory(fd)
                finally:
                    os.close(fd)
        except BaseException:
            for name in made:  # a directory this write made stays only if it holds a version
                with contextlib.suppress(OSError):
                    os.rmdir(name, dir_fd=records)
            raise

    def _make_record_dir(self, records: int, name: str, made: list[str]) -> int:
        """Open (making it if need be) a record's directory; note in ``made`` if made."""
        try:
            os.mkdir(name, dir_fd=records)
            made.append(name)
        except FileExistsError:
            pass
        fd = self.directory.record_dir(records, name)
        if fd is None:
            raise StoreError(
                f"{self.path / RECORDS / name} is not a directory; move it out of the store "
                "(nothing was written)"
            )
        return fd

    def _conflict(self, record_id: str) -> Callable[[int], ConflictError]:
        """The error for a version whose name another program took meanwhile."""

        def conflict(revision: int) -> ConflictError:
            return ConflictError(
                f"revision {revision} of {record_id!r} appeared in {self.directory.where()} "
                "while this write was being made: a program wrote there without taking its "
                "lock; nothing was written"
            )

        return conflict
