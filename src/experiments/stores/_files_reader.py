"""Reading a files store: its records for queries, and every file one by one for verify().

:class:`Reader` lists the records, reads and checks their version files
(:func:`parse_version`: a file must be the record and revision its place says), and
inspects the whole directory for :meth:`~experiments.stores.Store.verify`, reporting
each bad file on its own.  It reads under the shared lock of the store's
:class:`~experiments.stores._files_directory.Directory`, through the
:class:`~experiments.stores._files_journal.View` of an interrupted batch, and changes
nothing.  The plan of a write (``_files_plan``) reads the stored versions through it.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from experiments.errors import SchemaError, StoreError
from experiments.model import KINDS
from experiments.model._validate import ID_PATTERN
from experiments.serialization import SCHEMA_VERSION
from experiments.stores import _atomic
from experiments.stores._filenames import encode_id, is_temporary, revision_of, version_name
from experiments.stores._files_journal import View, read_journal, staged_name
from experiments.stores._files_layout import (
    JOURNAL,
    MARKER,
    RECORDS,
    RESTORE,
    Dirs,
    Unreadable,
    link_refused,
    record_name,
    version_number,
)
from experiments.stores.changes import Damage

if TYPE_CHECKING:
    from pathlib import Path

    from experiments.stores._files_directory import Directory

__all__ = ["Listing", "Reader", "parse_version"]

#: (id, directory name, visible revisions) of each record.
Listing = list[tuple[str, str, list[int], frozenset[int]]]


class Reader:
    """Reads the records of one files store (see the module documentation)."""

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self.path = directory.path

    @contextlib.contextmanager
    def reading(self) -> Iterator[tuple[Dirs, View]]:
        """The open store under a shared lock, and what an interrupted batch hides."""
        self.directory.ensure(write=False)
        try:
            with self.directory.locked(exclusive=False), self.directory.open_dirs() as dirs:
                yield dirs, View.of(read_journal(dirs.root, self.path))
        except OSError as exc:
            raise self.directory.failed("reading", exc) from None

    # --- versions -------------------------------------------------------------------

    @staticmethod
    def revisions(fd: int, name: str, view: View) -> list[int]:
        """The visible revisions in the record directory ``fd`` (named ``name``), in order."""
        if name in view.gone:
            return []
        found = []
        for entry in _atomic.names(fd):
            revision = revision_of(entry)
            if revision is not None and (name, revision) not in view.hidden:
                found.append(revision)
        return sorted(found)

    def read(self, fd: int, name: str, revision: int, *, staged: bool = False) -> dict[str, Any]:
        """A version's data; StoreError naming the file if it cannot be read.

        ``staged``: a committed erasure replaces this version, and its new content is
        read from where it was staged until it is renamed in place.
        """
        if staged:
            try:
                return self._read_file(fd, name, revision, staged_name(revision))
            except FileNotFoundError:
                pass  # renamed in place already
        return self._read_file(fd, name, revision, version_name(revision))

    def _read_file(self, fd: int, name: str, revision: int, entry: str) -> dict[str, Any]:
        path = self.path / RECORDS / name / entry
        try:
            return parse_version(_atomic.read_bytes(entry, fd), name, revision)
        except _atomic.LinkError as exc:
            raise link_refused(path, exc) from None
        except Unreadable as exc:
            raise StoreError(f"{path} {exc}; {RESTORE}") from None

    def versions(self, record_id: str, *, every: bool) -> list[Mapping[str, Any]]:
        """Every visible version of a record, oldest first, or (``every=False``) the last."""
        if not ID_PATTERN.fullmatch(record_id):
            return []  # no record can have such an id
        name = encode_id(record_id)
        with self.reading() as (dirs, view):
            if dirs.records is None:
                return []
            fd = self.directory.record_dir(dirs.records, name)
            if fd is None:
                return []
            try:
                revisions = self.revisions(fd, name, view)
                return [
                    self.read(fd, name, r, staged=(name, r) in view.rewritten)
                    for r in _chosen(revisions, every=every)
                ]
            finally:
                os.close(fd)

    # --- every record ---------------------------------------------------------------

    def scan(self, kind: str | None, *, every: bool) -> Iterator[Mapping[str, Any]]:
        """The records as of now, by id, read lazily: current versions, or ``every`` one."""
        return self._stream(self._listing(), every=every, kind=kind)

    def _listing(self) -> Listing:
        """(id, directory name, visible revisions) of every record, by id, as of now."""
        listed: Listing = []
        with self.reading() as (dirs, view):
            if dirs.records is None:
                return []
            for name in _atomic.names(dirs.records):
                is_record, record_id = record_name(name)
                if not is_record:
                    continue  # not a record's directory: verify() reports it
                fd = self.directory.record_dir(dirs.records, name)
                if fd is None:
                    continue
                try:
                    revisions = self.revisions(fd, name, view)
                    if revisions and record_id is None:  # a cut name: the file knows
                        record_id = self.read(fd, name, revisions[-1])["id"]
                finally:
                    os.close(fd)
                if revisions and record_id is not None:
                    staged = frozenset(r for r in revisions if (name, r) in view.rewritten)
                    listed.append((record_id, name, revisions, staged))
        listed.sort()
        return listed

    def _stream(
        self, listed: Listing, *, every: bool, kind: str | None
    ) -> Iterator[Mapping[str, Any]]:
        """Read what a listing names, lazily; records purged since are left out."""
        try:
            with self.directory.open_dirs() as dirs:
                if dirs.records is None:
                    return
                for _, name, revisions, staged in listed:
                    self.directory.check_open()
                    try:
                        fd = _atomic.open_directory(name, dirs.records)
                    except FileNotFoundError:
                        continue
                    try:
                        for revision in _chosen(revisions, every=every):
                            try:
                                data = self.read(fd, name, revision, staged=revision in staged)
                            except FileNotFoundError:
                                break  # purged since the listing
                            if kind is None or data["kind"] == kind:
                                yield data
                    finally:
                        os.close(fd)
        except OSError as exc:
            raise self.directory.failed("reading", exc) from None

    # --- verification ---------------------------------------------------------------

    def verify(self) -> Iterator[Damage | Mapping[str, Any]]:
        """Every version's data and every problem, one file at a time, changing nothing."""
        try:
            self.directory.check_marker()
        except (StoreError, SchemaError) as exc:
            yield Damage(str(self.path / MARKER), str(exc))
            return
        except OSError as exc:
            yield Damage(str(self.path / MARKER), f"cannot be read ({exc.strerror})")
            return
        with self.reading() as (dirs, view):
            found = list(self._inspect(dirs, view))
        yield from found

    def _inspect(self, dirs: Dirs, view: View) -> Iterator[Damage | Mapping[str, Any]]:
        for name in sorted(_atomic.names(dirs.root)):
            if is_temporary(name):
                yield _stray(self.path / name)
        if (self.path / JOURNAL).exists():
            yield Damage(
                str(self.path / JOURNAL),
                "a batch was interrupted here; it is undone (or, if it was committed, "
                "finished) when the store is next opened or written",
            )
        if dirs.records is None:
            return
        for name in sorted(_atomic.names(dirs.records)):
            path = self.path / RECORDS / name
            if is_temporary(name):
                yield _stray(path)
                continue
            if name.startswith("."):
                continue
            is_record, record_id = record_name(name)
            if path.is_symlink():
                yield Damage(
                    str(path),
                    f"is a symbolic link to {str(path.readlink())!r}, which the store never "
                    f"follows: {RESTORE}",
                    record_id,
                )
                continue
            if not path.is_dir():
                yield Damage(str(path), "is not a record directory; move it out of the store")
                continue
            if not is_record:
                yield Damage(
                    str(path),
                    "is not a record directory: its name is not the encoding of an id; "
                    "move it out of the store",
                )
                continue
            yield from self._inspect_record(dirs.records, name, record_id, view)

    def _inspect_record(
        self, records: int, name: str, record_id: str | None, view: View
    ) -> Iterator[Damage | Mapping[str, Any]]:
        try:
            fd = _atomic.open_directory(name, records)
            entries = sorted(_atomic.names(fd))
        except OSError as exc:
            yield Damage(str(self.path / RECORDS / name), _cannot_read(exc), record_id)
            return
        try:
            for entry in entries:
                found = self._inspect_entry(fd, name, entry, record_id, view)
                if found is not None:
                    yield found
        finally:
            os.close(fd)

    def _inspect_entry(
        self, fd: int, name: str, entry: str, record_id: str | None, view: View
    ) -> Damage | Mapping[str, Any] | None:
        """A visible version's data, the damage of a file in a record's directory, or None."""
        path = self.path / RECORDS / name / entry
        revision = revision_of(entry)
        if is_temporary(entry):
            return _stray(path)
        if entry.startswith("."):
            return None  # hidden files of other tools (.DS_Store) are no versions
        if revision is None:
            return Damage(
                str(path),
                "is not a version file (its name is not <revision>.json); the "
                "store ignores it: move it out",
                record_id,
            )
        if (name, revision) in view.hidden or name in view.gone:
            return None
        if (name, revision) in view.rewritten and _present(staged_name(revision), fd):
            entry, path = staged_name(revision), path.with_name(staged_name(revision))
        try:
            return parse_version(_atomic.read_bytes(entry, fd), name, revision)
        except _atomic.LinkError as exc:
            problem = f"{exc.strerror}, which the store never follows: {RESTORE}"
            return Damage(str(path), problem, record_id)
        except Unreadable as exc:
            return Damage(str(path), f"{exc}; {RESTORE}", record_id)
        except OSError as exc:
            return Damage(str(path), _cannot_read(exc), record_id)


def _present(entry: str, fd: int) -> bool:
    """Whether the directory ``fd`` holds ``entry`` (a committed erasure's staged file)."""
    try:
        os.stat(entry, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def parse_version(raw: bytes, name: str, revision: int) -> dict[str, Any]:
    """The data in a version file, checked to be what its place says it is."""
    if not raw:
        raise Unreadable("is empty (a write was cut off, or the file was truncated)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Unreadable(
            f"is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start})"
        ) from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise Unreadable(
            f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): "
            "it is damaged or half-written"
        ) from None
    except RecursionError:
        raise Unreadable("is not a record: its JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise Unreadable(f"holds a JSON {type(data).__name__}, not a record")
    schema = version_number(data.get("schema"))
    if schema is None:
        raise Unreadable(f"holds no valid schema version (got {data.get('schema')!r})")
    if schema > SCHEMA_VERSION:
        raise Unreadable(
            f"holds a record of schema version {schema}, newer than the {SCHEMA_VERSION} "
            "this version of strategy-experiments reads; upgrade: "
            "pip install --upgrade strategy-experiments"
        )
    kind = data.get("kind")
    if not isinstance(kind, str) or kind not in KINDS:
        raise Unreadable(f"holds an unknown kind of record ({kind!r})")
    record_id = data.get("id")
    if not isinstance(record_id, str) or encode_id(record_id) != name:
        raise Unreadable(f"holds the record {record_id!r}, which does not belong in this directory")
    if type(data.get("revision")) is not int or data["revision"] != revision:
        raise Unreadable(f"holds revision {data.get('revision')!r}, but its name says {revision}")
    return data


def _cannot_read(exc: OSError) -> str:
    return f"cannot be read ({exc.strerror}); {RESTORE}"


def _chosen(revisions: list[int], *, every: bool) -> list[int]:
    """All of ``revisions``, or only the last (the current version) unless ``every``."""
    return revisions if every else revisions[-1:]


def _stray(path: Path) -> Damage:
    return Damage(
        str(path),
        "is a temporary file left by an interrupted write (the write did not happen); "
        "it is safe to delete, and the next write there removes it",
    )
