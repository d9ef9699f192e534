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
import errno
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
    CURRENT,
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
from experiments.stores._files_record import history
from experiments.stores.changes import Damage

if TYPE_CHECKING:
    from pathlib import Path

    from experiments.stores._files_directory import Directory

__all__ = ["Listing", "Reader", "parse_version"]

#: (id, directory name, visible revisions and the file each was in, revisions read from
#: where a committed erasure staged them) of each record.
Listing = list[tuple[str, str, dict[int, str], frozenset[int]]]


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

    def found(self, fd: int, name: str, view: View) -> tuple[dict[int, str], dict[str, Any] | None]:
        """The visible versions in the record directory ``fd`` (named ``name``).

        Revision -> file, in order (``current.json`` for the revision it holds), and
        the data of ``current.json`` if it is visible.  A store written before
        ``current.json`` existed has only history files: the last is current.
        """
        if name in view.gone:
            return {}, None
        files = {r: f for r, f in history(fd).items() if (name, r) not in view.hidden}
        current = self._current(fd, name)
        if current is not None and (name, current["revision"]) not in view.hidden:
            files[current["revision"]] = CURRENT
            if (name, current["revision"]) in view.rewritten:
                current = self.read(fd, name, current["revision"], current_first=True, staged=True)
        else:
            current = None
        return dict(sorted(files.items())), current

    def revisions(self, fd: int, name: str, view: View) -> list[int]:
        """The visible revisions in the record directory ``fd`` (named ``name``), in order."""
        return list(self.found(fd, name, view)[0])

    def read(
        self,
        fd: int,
        name: str,
        revision: int,
        *,
        current_first: bool = False,
        staged: bool = False,
    ) -> dict[str, Any]:
        """A version's data; StoreError naming the file if it cannot be read.

        The version is in the history, or in ``current.json`` while it is current;
        ``current_first`` looks there first, for a version that was current when it was
        listed.  A save keeps the current version in the history before it replaces
        it, so a version not found in one place is looked for in the other, and in the
        first again.  FileNotFoundError if the record has no such version any more.

        ``staged``: a committed erasure replaces this version, and its new content is
        read from where it was staged until it is renamed in place.
        """
        if staged:
            try:
                return self._parse(fd, name, staged_name(revision), revision)
            except FileNotFoundError:
                pass  # renamed in place already
        places = [CURRENT, version_name(revision)] * 2
        for entry in places[0:3] if current_first else places[1:4]:
            if entry == CURRENT:
                current = self._current(fd, name)
                if current is not None and current["revision"] == revision:
                    return current
                continue
            try:
                return self._parse(fd, name, entry, revision)
            except FileNotFoundError:
                continue
        raise FileNotFoundError(errno.ENOENT, "no such version", version_name(revision))

    def _current(self, fd: int, name: str) -> dict[str, Any] | None:
        """The data of ``current.json`` in a record's directory, or None if there is none."""
        try:
            return self._parse(fd, name, CURRENT, None)
        except FileNotFoundError:
            return None

    def _parse(self, fd: int, name: str, entry: str, revision: int | None) -> dict[str, Any]:
        path = self.path / RECORDS / name / entry
        try:
            return parse_version(_atomic.read_bytes(entry, fd), name, revision)
        except _atomic.LinkError as exc:
            raise link_refused(path, exc) from None
        except Unreadable as exc:
            raise exc.refused(path) from None

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
                files, current = self.found(fd, name, view)
                return [
                    current
                    if files[r] == CURRENT and current
                    else self.read(fd, name, r, staged=(name, r) in view.rewritten)
                    for r in _chosen(list(files), every=every)
                ]
            finally:
                os.close(fd)

    # --- every record ---------------------------------------------------------------

    def scan(self, kind: str | None, *, every: bool) -> Iterator[Mapping[str, Any]]:
        """The records as of now, by id, read lazily: current versions, or ``every`` one."""
        return self._stream(self._listing(), every=every, kind=kind)

    def count_versions(self) -> int:
        """How many versions :meth:`scan` yields with ``every``, from the file names alone."""
        return sum(len(files) for _, _, files, _ in self._listing())

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
                    files, current = self.found(fd, name, view)
                    if files and record_id is None:  # a cut name: the file knows
                        record_id = (current or self.read(fd, name, max(files)))["id"]
                finally:
                    os.close(fd)
                if files and record_id is not None:
                    staged = frozenset(r for r in files if (name, r) in view.rewritten)
                    listed.append((record_id, name, files, staged))
        listed.sort(key=lambda item: item[0])
        return listed

    def _stream(
        self, listed: Listing, *, every: bool, kind: str | None
    ) -> Iterator[Mapping[str, Any]]:
        """Read the versions a listing names, lazily; records purged since are left out."""
        try:
            with self.directory.open_dirs() as dirs:
                if dirs.records is None:
                    return
                for _, name, files, staged in listed:
                    self.directory.check_open()
                    try:
                        fd = _atomic.open_directory(name, dirs.records)
                    except FileNotFoundError:
                        continue
                    try:
                        for revision in _chosen(list(files), every=every):
                            try:
                                data = self.read(
                                    fd,
                                    name,
                                    revision,
                                    current_first=files[revision] == CURRENT,
                                    staged=revision in staged,
                                )
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
            current = None
            if CURRENT in entries:  # first, to tell a history file that repeats it
                current = self._inspect_entry(fd, name, CURRENT, record_id, view)
                if current is not None:
                    yield current
            for entry in entries:
                if entry == CURRENT:
                    continue
                found = self._inspect_entry(fd, name, entry, record_id, view)
                if isinstance(found, dict) and isinstance(current, dict):
                    found = _against_current(found, current, self.path / RECORDS / name / entry)
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
        if revision is None and entry != CURRENT:
            return Damage(
                str(path),
                f"is not a version file (its name is not {CURRENT} or <revision>.json); "
                "the store ignores it: move it out",
                record_id,
            )
        if (name, revision) in view.hidden or name in view.gone:
            return None
        found = _checked(fd, name, entry, revision, path, record_id)
        if isinstance(found, Damage):
            return found
        staged = staged_name(found["revision"])
        if (name, found["revision"]) in view.rewritten and _present(staged, fd):
            found = _checked(fd, name, staged, found["revision"], path.with_name(staged), record_id)
            if isinstance(found, Damage):
                return found
        return None if (name, found["revision"]) in view.hidden else found


def _checked(
    fd: int, name: str, entry: str, revision: int | None, path: Path, record_id: str | None
) -> Damage | dict[str, Any]:
    """The data of the version file ``entry``, or the damage it is."""
    try:
        return parse_version(_atomic.read_bytes(entry, fd), name, revision)
    except _atomic.LinkError as exc:
        problem = f"{exc.strerror}, which the store never follows: {RESTORE}"
        return Damage(str(path), problem, record_id)
    except Unreadable as exc:
        return Damage(str(path), exc.problem, record_id)
    except OSError as exc:
        return Damage(str(path), _cannot_read(exc), record_id)


def _present(entry: str, fd: int) -> bool:
    """Whether the directory ``fd`` holds ``entry`` (a committed erasure's staged file)."""
    try:
        os.stat(entry, dir_fd=fd, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def _against_current(
    data: dict[str, Any], current: dict[str, Any], path: Path
) -> Damage | dict[str, Any] | None:
    """A history file's data, None if it repeats ``current.json``, or the damage it is."""
    if data["revision"] != current["revision"]:
        return data
    if data == current:
        return None  # the copy a save makes first, left by a crash: history once saved again
    return Damage(
        str(path),
        f"holds revision {data['revision']}, as {CURRENT} next to it does, but not the same "
        "record: keep the right one and remove the other",
        data["id"],
    )


def parse_version(raw: bytes, name: str, revision: int | None) -> dict[str, Any]:
    """The data in a version file, checked to be what its place says it is.

    ``revision`` is the one its name says; None for ``current.json``, which holds any.
    """
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
    if version_number(data.get("revision")) is None:
        raise Unreadable(f"holds no valid revision (got {data.get('revision')!r})")
    if revision is not None and data["revision"] != revision:
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
