"""The JSON directory store: one readable file per version, made to be kept in git.

``files:///relative/dir`` or ``files:////absolute/dir`` names a directory laid out as::

    store.json                      format marker: what this directory is, which layout
    .gitignore                      keeps the working files below out of git
    records/<id>/00000001.json      revision 1 of the record <id>
    records/<id>/00000002.json      revision 2, and so on: the highest is the current one
    .lock                           working file: taken by every reader and writer
    .journal                        working file: only while a batch is being written

Each version file is the record's data as :func:`~experiments.serialization.to_data`
gives it, indented, in a fixed key order, with a final newline, so that a change shows
in ``git diff`` as the lines that changed.  A version file is never changed after it is
written; a save adds the next one.  An id becomes a directory name that cannot leave
``records/`` and cannot collide with another id, even on a case-insensitive file
system (see :mod:`experiments.stores._filenames`).

Writing
    A file is written under a hidden temporary name in its directory, flushed to disk,
    then given its final name, and the directory is flushed too: a crash leaves the
    whole file or none of it (at worst a stray ``.*.tmp`` file, which
    :meth:`~experiments.stores.Store.verify` lists and the next write there removes).
    A version gets its final name by a hard link, which fails if the name is taken, so a
    version is never overwritten.  Every write holds an exclusive ``flock`` on ``.lock``
    while it checks the revisions it builds on and writes; readers hold a shared one.
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
    A write that touches one file (a single save) needs nothing more.  A batch that
    creates several files, or purges, first writes ``.journal`` atomically: the versions
    it is about to create (id, revision and a SHA-256 of the content) and the records it
    will purge, in the state ``pending``.  Then it creates the versions.  If it purges,
    it rewrites the journal in the state ``committed``, and only then removes the purged
    records' directories.  Removing the journal is the end of the batch.

    A batch interrupted in ``pending`` is rolled back: the versions it created (those
    whose content matches the journal's digest) are removed.  One interrupted in
    ``committed`` is rolled forward: the purges are finished.  This happens when the
    store is next opened or written, under the exclusive lock; until then readers in
    processes that opened the store earlier ignore what the journal says is not
    committed.  So no reader ever sees part of a batch, and a crash at any moment
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
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import threading
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

from experiments.errors import ConflictError, SchemaError, StoreError, StoreURLError
from experiments.model import KINDS
from experiments.model._validate import ID_PATTERN
from experiments.serialization import SCHEMA_VERSION, from_data
from experiments.stores import _access, _atomic
from experiments.stores._filenames import (
    decode_id,
    encode_id,
    is_temporary,
    revision_of,
    version_name,
)
from experiments.stores.base import (
    Capability,
    Change,
    Damage,
    ImportVersion,
    Purge,
    Put,
    Store,
    conflict,
    import_conflict,
    missing_store,
    other_kind,
)
from experiments.stores.url import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores.url import StoreURL

__all__ = ["FORMAT", "FORMAT_VERSION", "FileStore"]

#: What ``store.json`` says this directory is.
FORMAT: Final = "strategy-experiments files store"
#: The layout version this library writes and reads (``store.json``'s ``version``).
FORMAT_VERSION: Final = 1

MARKER: Final = "store.json"
RECORDS: Final = "records"
LOCK: Final = ".lock"
JOURNAL: Final = ".journal"
GITIGNORE: Final = ".gitignore"

_GITIGNORE_TEXT: Final = (
    "# Working files of strategy-experiments: never data, never to be committed.\n"
    "/.lock\n"
    "/.journal\n"
    ".*.tmp\n"
)
_RESTORE: Final = (
    "restore it from version control or a backup, or list all damage with `experiments verify`"
)
_UNWRITABLE: Final = (errno.EROFS, errno.EACCES, errno.EPERM)

#: Records named in a message about a batch; the rest are "...".
_NAMED: Final = 3

_log = logging.getLogger(__name__)
_CUT_NAME: Final = re.compile(r"[a-z0-9_.%^-]{150}~[0-9a-f]{40}")


def _dumps(data: Mapping[str, Any]) -> bytes:
    """A version file's bytes: indented, in the converter's key order, newline at the end."""
    try:
        return (json.dumps(data, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    except UnicodeEncodeError as exc:
        raise StoreError(
            f"record {data.get('id')!r} holds text that cannot be written as UTF-8 ({exc})"
        ) from None


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


class _Uncertain(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A write failed where it cannot tell whether it is stored; the message says so."""


def _reason(exc: BaseException) -> str:
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__


class _Unreadable(Exception):  # noqa: N818 - internal signal, never leaves this module
    """A stored file that does not hold what it should; the message says what is wrong."""


@attrs.frozen
class _Journal:
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
    def parse(cls, raw: bytes) -> _Journal:
        try:
            body = json.loads(raw)
            state = body["state"]
            create = tuple(
                (str(record_id), int(revision), str(digest))
                for record_id, revision, digest in body["create"]
            )
            purge = tuple(str(record_id) for record_id in body["purge"])
        except (ValueError, TypeError, KeyError, RecursionError) as exc:
            raise _Unreadable(f"is not a journal this version can read ({exc!r})") from None
        if body.get("journal") != 1 or state not in ("pending", "committed"):
            raise _Unreadable("is a journal of an unknown version or state")
        for record_id, revision, _ in create:
            if not ID_PATTERN.fullmatch(record_id) or revision < 1:
                raise _Unreadable(f"names an impossible version ({record_id!r}, {revision})")
        for record_id in purge:
            if not ID_PATTERN.fullmatch(record_id):
                raise _Unreadable(f"names an impossible record ({record_id!r})")
        return cls(state, create, purge)


@attrs.frozen
class _View:
    """What readers leave out: the unfinished parts of an interrupted batch, if any."""

    hidden: frozenset[tuple[str, int]] = frozenset()
    gone: frozenset[str] = frozenset()

    @classmethod
    def of(cls, journal: _Journal | None) -> _View:
        if journal is None:
            return cls()
        if journal.state == "pending":
            return cls(hidden=frozenset((encode_id(i), r) for i, r, _ in journal.create))
        return cls(gone=frozenset(encode_id(i) for i in journal.purge))


@attrs.frozen
class _Dirs:
    """Open descriptors of the store directory and of ``records/`` (None if absent)."""

    root: int
    records: int | None


@attrs.define
class _Plan:
    """What a batch will write, worked out (and checked) before anything is written."""

    results: list[Any] = attrs.Factory(list)
    create: dict[tuple[str, int], bytes] = attrs.Factory(dict)
    purge: list[str] = attrs.Factory(list)


class FileStore(Store):
    """Records as JSON files in a directory; see the module documentation."""

    scheme: ClassVar[str] = "files"
    capabilities: frozenset[Capability] = frozenset(
        {Capability.PERSISTENT, Capability.MULTIPROCESS, Capability.THREADSAFE}
    )

    def __init__(
        self,
        url: StoreURL,
        *,
        plugins: Plugins | None = None,
        create: bool | None = None,
        actor: str | None = None,
    ) -> None:
        super().__init__(url, plugins=plugins, actor=actor)
        path = url.file_path
        if not path:
            raise StoreURLError(
                f"{url.redacted} names no directory; write files:///relative/dir or "
                "files:////absolute/dir"
            )
        url.options("files", "timeout")
        self._timeout = url.seconds("timeout", DEFAULT_TIMEOUT)
        self.path = Path(path)
        self._create = create
        self._ready = False
        self._ready_lock = threading.Lock()
        self._pid = os.getpid()
        if create is False and not self._marker_exists():
            raise self._missing()
        if create or _access.present(self.path):
            self._prepare(create=bool(create))

    # --- the directory ------------------------------------------------------------------

    def _where(self) -> str:
        return f"files store {str(self.path)!r}"

    def _missing(self) -> StoreError:
        return missing_store(self.path)

    def _marker_exists(self) -> bool:
        marker = self.path / MARKER
        return _access.present(marker) and marker.is_file()

    def exists(self) -> bool:
        return self._ready or self._marker_exists()

    def _failed(self, doing: str, exc: OSError) -> StoreError:
        if exc.errno == errno.ENOENT and not self._marker_exists():
            return self._missing()
        if isinstance(exc, _atomic.LinkError):
            return StoreError(
                f"{self._where()}: {doing} failed: {exc.filename!r} {exc.strerror}, which the "
                f"store never follows; {_RESTORE}"
            )
        reason = exc.strerror or str(exc)
        if exc.errno in _UNWRITABLE:
            reason = _access.cause(self.path / MARKER) or reason
        return StoreError(f"{self._where()}: {doing} failed: {reason}")

    def _check_process(self) -> None:
        """In a child of fork(), a new thread lock: another thread may have held the old one."""
        if self._pid != os.getpid():
            self._ready_lock = threading.Lock()
            self._pid = os.getpid()

    @contextlib.contextmanager
    def _locked(self, *, exclusive: bool) -> Iterator[None]:
        """The store's lock, shared or exclusive; StoreError if it stays taken too long."""
        self._check_process()
        try:
            with _atomic.lock(self.path / LOCK, exclusive=exclusive, timeout=self._timeout):
                yield
        except _atomic.LockTimeoutError as exc:
            held = "; held by " + ", ".join(exc.holders) if exc.holders else ""
            doing = "write" if exclusive else "read"
            raise StoreError(
                f"{self._where()}: could not {doing}: its lock ({self.path / LOCK}) stayed "
                f"taken for more than {exc.timeout:g}s{held}; wait for that program to "
                "finish and try again, stop it if it hangs, or raise ?timeout= in the URL"
            ) from None

    def _prepare(self, *, create: bool) -> None:
        """Check the directory is a store (making it one if asked), and finish any batch."""
        self._check_process()
        with self._ready_lock:
            if self._ready:
                return
            try:
                if not self._marker_exists():
                    if not create:
                        self._check_adoptable()
                        return
                    self._make()
                self._check_marker()
                self._recover_on_open()
            except OSError as exc:
                raise self._failed("opening it", exc) from None
            self._ready = True

    def _check_adoptable(self) -> None:
        """A directory without a marker may become a store only if nothing else is in it."""
        if not self.path.is_dir():
            raise StoreError(
                f"{str(self.path)!r} is a file, not a directory; a files:// store is a "
                "directory of its own: choose another path"
            )
        with os.scandir(self.path) as entries:
            foreign = [entry.name for entry in entries if not _made_by_us(entry)]
        if foreign and not self._marker_exists():  # made by another process meanwhile: fine
            shown = ", ".join(sorted(foreign)[:5])
            raise StoreError(
                f"{str(self.path)!r} is not a strategy-experiments store: it has no {MARKER} "
                f"but holds other files ({shown}); choose an empty or new directory"
            )

    def _make(self) -> None:
        parent = self.path.absolute().parent
        if not self.path.exists():
            if not parent.is_dir():
                raise StoreError(
                    f"cannot create {str(self.path)!r}: the directory {str(parent)!r} "
                    "does not exist"
                )
            with contextlib.suppress(FileExistsError):
                self.path.mkdir()
            parent_fd = os.open(parent, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
            try:
                _atomic.fsync_directory(parent_fd)
            finally:
                os.close(parent_fd)
        self._check_adoptable()  # before the lock, so a foreign directory gets no lock file
        with self._locked(exclusive=True), self._open_dirs() as dirs:
            if self._marker_exists():
                return  # another process made it while we waited for the lock
            with contextlib.suppress(FileExistsError):
                _atomic.create_exclusive(GITIGNORE, _GITIGNORE_TEXT.encode(), dirs.root)
            with contextlib.suppress(FileExistsError):
                os.mkdir(RECORDS, dir_fd=dirs.root)
            marker = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "layout": "records/<id>/<revision>.json; see the strategy-experiments docs",
            }
            body = (json.dumps(marker, indent=2) + "\n").encode()
            _atomic.create_exclusive(MARKER, body, dirs.root)
            _atomic.fsync_directory(dirs.root)

    def _check_marker(self) -> None:
        where = str(self.path / MARKER)
        try:
            with self._open_dirs() as dirs:
                raw = _atomic.read_bytes(MARKER, dirs.root)
        except FileNotFoundError:
            raise self._missing() from None
        except _atomic.LinkError as exc:
            raise StoreError(f"{where} {exc.strerror}; the store never follows links") from None
        try:
            body = json.loads(raw)
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict) or body.get("format") != FORMAT:
            raise StoreError(
                f"{where} is not the marker of a strategy-experiments files store "
                f'(it should say "format": "{FORMAT}"); {_RESTORE}'
            )
        version = body.get("version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise StoreError(f"{where} holds no valid format version; {_RESTORE}")
        if version > FORMAT_VERSION:
            raise SchemaError(
                f"{where}: the store was written by a newer strategy-experiments (files "
                f"store format {version}; this version reads up to {FORMAT_VERSION}); "
                "upgrade: pip install --upgrade strategy-experiments"
            )

    @contextlib.contextmanager
    def _open_dirs(self, *, make_records: bool = False) -> Iterator[_Dirs]:
        root = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        records: int | None = None
        try:
            try:
                records = _atomic.open_directory(RECORDS, root)
            except FileNotFoundError:
                if make_records:
                    os.mkdir(RECORDS, dir_fd=root)
                    _atomic.fsync_directory(root)
                    records = _atomic.open_directory(RECORDS, root)
            except _atomic.LinkError as exc:
                raise StoreError(
                    f"{self.path / RECORDS} {exc.strerror}; the store never follows links: "
                    f"put the records directory itself there; {_RESTORE}"
                ) from None
            yield _Dirs(root, records)
        finally:
            if records is not None:
                os.close(records)
            os.close(root)

    def _ensure(self, *, write: bool) -> None:
        self._check_open()
        if self._ready:
            return
        if not write and not self._marker_exists():
            raise self._missing()
        if write and self._create is False and not self._marker_exists():
            raise self._missing()
        self._prepare(create=write)
        if not self._ready:
            raise self._missing()

    # --- the journal --------------------------------------------------------------------

    def _journal(self, root: int) -> _Journal | None:
        try:
            raw = _atomic.read_bytes(JOURNAL, root)
        except FileNotFoundError:
            return None
        try:
            return _Journal.parse(raw)
        except _Unreadable as exc:
            raise StoreError(
                f"{self.path / JOURNAL} (an interrupted batch) {exc}; a newer version of "
                "strategy-experiments may have written it"
            ) from None

    def _recover_on_open(self) -> None:
        if not (self.path / JOURNAL).exists():
            return
        try:
            with self._locked(exclusive=True), self._open_dirs() as dirs:
                self._recover(dirs)
        except OSError as exc:
            if exc.errno not in _UNWRITABLE:
                raise
            # Read-only here: readers leave out what the journal says is unfinished.

    def _recover(self, dirs: _Dirs) -> None:
        """Finish or undo an interrupted batch; the caller holds the exclusive lock."""
        for name in _atomic.names(dirs.root):
            if is_temporary(name):
                os.unlink(name, dir_fd=dirs.root)
        journal = self._journal(dirs.root)
        if journal is None:
            return
        if dirs.records is not None:
            if journal.state == "pending":
                self._undo(dirs.records, journal.create)
            else:
                self._remove_records(dirs.records, journal.purge)
        os.unlink(JOURNAL, dir_fd=dirs.root)
        _atomic.fsync_directory(dirs.root)

    def _undo(self, records: int, created: Iterable[tuple[str, int, str]]) -> None:
        """Remove versions a batch created (only if they hold what it wrote)."""
        by_name: dict[str, list[tuple[int, str]]] = {}
        for record_id, revision, digest in created:
            by_name.setdefault(encode_id(record_id), []).append((revision, digest))
        for name, versions in by_name.items():
            try:
                fd = _atomic.open_directory(name, records)
            except FileNotFoundError:
                continue
            try:
                for revision, digest in versions:
                    try:
                        content = _atomic.read_bytes(version_name(revision), fd)
                    except FileNotFoundError:
                        continue
                    if _digest(content) == digest:
                        os.unlink(version_name(revision), dir_fd=fd)
                _sweep(fd)
                _atomic.fsync_directory(fd)
            finally:
                os.close(fd)
            with contextlib.suppress(OSError):  # left alone unless empty
                os.rmdir(name, dir_fd=records)
        _atomic.fsync_directory(records)

    def _remove_records(self, records: int, ids: Iterable[str]) -> None:
        for record_id in ids:
            with contextlib.suppress(FileNotFoundError):
                shutil.rmtree(encode_id(record_id), dir_fd=records)
        _atomic.fsync_directory(records)

    # --- reading ------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[tuple[_Dirs, _View]]:
        """The open store under a shared lock, and what an interrupted batch hides."""
        self._ensure(write=False)
        try:
            with self._locked(exclusive=False), self._open_dirs() as dirs:
                yield dirs, _View.of(self._journal(dirs.root))
        except OSError as exc:
            raise self._failed("reading", exc) from None

    def _record_dir(self, records: int, name: str) -> int | None:
        """The descriptor of a record's directory; None if there is none."""
        try:
            return _atomic.open_directory(name, records)
        except FileNotFoundError:
            return None
        except _atomic.LinkError as exc:
            if exc.errno == errno.ENOTDIR and not (self.path / RECORDS / name).is_symlink():
                return None  # a plain file where no record is: verify() reports it
            raise StoreError(
                f"{self.path / RECORDS / name} {exc.strerror}; the store never follows "
                f"links: {_RESTORE}"
            ) from None

    def _revisions(self, fd: int, name: str, view: _View) -> list[int]:
        if name in view.gone:
            return []
        found = []
        for entry in _atomic.names(fd):
            revision = revision_of(entry)
            if revision is not None and (name, revision) not in view.hidden:
                found.append(revision)
        return sorted(found)

    def _parse(self, raw: bytes, name: str, revision: int) -> dict[str, Any]:
        """The data in a version file, checked to be what its place says it is."""
        if not raw:
            raise _Unreadable("is empty (a write was cut off, or the file was truncated)")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _Unreadable(
                f"is not UTF-8 text (byte {raw[exc.start]:#04x} at offset {exc.start})"
            ) from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise _Unreadable(
                f"is not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno}): "
                "it is damaged or half-written"
            ) from None
        except RecursionError:
            raise _Unreadable("is not a record: its JSON is nested too deeply") from None
        if not isinstance(data, dict):
            raise _Unreadable(f"holds a JSON {type(data).__name__}, not a record")
        schema = data.get("schema")
        if isinstance(schema, bool) or not isinstance(schema, int) or schema < 1:
            raise _Unreadable(f"holds no valid schema version (got {schema!r})")
        if schema > SCHEMA_VERSION:
            raise _Unreadable(
                f"holds a record of schema version {schema}, newer than the {SCHEMA_VERSION} "
                "this version of strategy-experiments reads; upgrade: "
                "pip install --upgrade strategy-experiments"
            )
        kind = data.get("kind")
        if not isinstance(kind, str) or kind not in KINDS:
            raise _Unreadable(f"holds an unknown kind of record ({kind!r})")
        record_id = data.get("id")
        if not isinstance(record_id, str) or encode_id(record_id) != name:
            raise _Unreadable(
                f"holds the record {record_id!r}, which does not belong in this directory"
            )
        if type(data.get("revision")) is not int or data["revision"] != revision:
            raise _Unreadable(
                f"holds revision {data.get('revision')!r}, but its name says {revision}"
            )
        return data

    def _read(self, fd: int, name: str, revision: int) -> dict[str, Any]:
        """A version's data; StoreError naming the file if it cannot be read."""
        path = self.path / RECORDS / name / version_name(revision)
        try:
            return self._parse(_atomic.read_bytes(version_name(revision), fd), name, revision)
        except _atomic.LinkError as exc:
            raise StoreError(
                f"{path} {exc.strerror}; the store never follows links: {_RESTORE}"
            ) from None
        except _Unreadable as exc:
            raise StoreError(f"{path} {exc}; {_RESTORE}") from None

    def _load(self, id: str) -> Mapping[str, Any] | None:  # noqa: A002 - it is an id
        if not ID_PATTERN.fullmatch(id):
            return None  # no record can have such an id
        name = encode_id(id)
        with self._reading() as (dirs, view):
            if dirs.records is None:
                return None
            fd = self._record_dir(dirs.records, name)
            if fd is None:
                return None
            try:
                revisions = self._revisions(fd, name, view)
                return self._read(fd, name, revisions[-1]) if revisions else None
            finally:
                os.close(fd)

    def _load_versions(self, id: str) -> list[Mapping[str, Any]]:  # noqa: A002 - it is an id
        if not ID_PATTERN.fullmatch(id):
            return []
        name = encode_id(id)
        with self._reading() as (dirs, view):
            if dirs.records is None:
                return []
            fd = self._record_dir(dirs.records, name)
            if fd is None:
                return []
            try:
                return [self._read(fd, name, r) for r in self._revisions(fd, name, view)]
            finally:
                os.close(fd)

    def _listing(self) -> list[tuple[str, str, list[int]]]:
        """(id, directory name, visible revisions) of every record, by id, as of now."""
        listed: list[tuple[str, str, list[int]]] = []
        with self._reading() as (dirs, view):
            if dirs.records is None:
                return []
            for name in _atomic.names(dirs.records):
                is_record, record_id = _record_name(name)
                if not is_record:
                    continue  # not a record's directory: verify() reports it
                fd = self._record_dir(dirs.records, name)
                if fd is None:
                    continue
                try:
                    revisions = self._revisions(fd, name, view)
                    if revisions and record_id is None:  # a cut name: the file knows
                        record_id = self._read(fd, name, revisions[-1])["id"]
                finally:
                    os.close(fd)
                if revisions and record_id is not None:
                    listed.append((record_id, name, revisions))
        listed.sort()
        return listed

    def _stream(
        self, listed: list[tuple[str, str, list[int]]], *, every: bool, kind: str | None = None
    ) -> Iterator[Mapping[str, Any]]:
        """Read what a listing names, lazily; records purged since are left out."""
        try:
            with self._open_dirs() as dirs:
                if dirs.records is None:
                    return
                for _, name, revisions in listed:
                    self._check_open()
                    try:
                        fd = _atomic.open_directory(name, dirs.records)
                    except FileNotFoundError:
                        continue
                    try:
                        for revision in revisions if every else revisions[-1:]:
                            try:
                                data = self._read(fd, name, revision)
                            except FileNotFoundError:
                                break  # purged since the listing
                            if kind is None or data["kind"] == kind:
                                yield data
                    finally:
                        os.close(fd)
        except OSError as exc:
            raise self._failed("reading", exc) from None

    def _scan(self, kind: str | None) -> Iterator[Mapping[str, Any]]:
        return self._stream(self._listing(), every=False, kind=kind)

    def _scan_versions(self) -> Iterator[Mapping[str, Any]]:
        return self._stream(self._listing(), every=True)

    # --- verification -------------------------------------------------------------------

    def _verify_storage(self) -> Iterator[Damage | Mapping[str, Any]]:
        try:
            self._check_marker()
        except (StoreError, SchemaError) as exc:
            yield Damage(str(self.path / MARKER), str(exc))
            return
        except OSError as exc:
            yield Damage(str(self.path / MARKER), f"cannot be read ({exc.strerror})")
            return
        with self._reading() as (dirs, view):
            found = list(self._inspect(dirs, view))
        yield from found

    def _inspect(self, dirs: _Dirs, view: _View) -> Iterator[Damage | Mapping[str, Any]]:
        """Every version's data and every problem, one file at a time, changing nothing."""
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
            is_record, record_id = _record_name(name)
            if path.is_symlink():
                yield Damage(
                    str(path),
                    f"is a symbolic link to {str(path.readlink())!r}, which the store never "
                    f"follows: {_RESTORE}",
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
        self, records: int, name: str, record_id: str | None, view: _View
    ) -> Iterator[Damage | Mapping[str, Any]]:
        try:
            fd = _atomic.open_directory(name, records)
            entries = sorted(_atomic.names(fd))
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror}); {_RESTORE}"
            yield Damage(str(self.path / RECORDS / name), problem, record_id)
            return
        try:
            for entry in entries:
                path = self.path / RECORDS / name / entry
                revision = revision_of(entry)
                if is_temporary(entry):
                    yield _stray(path)
                elif entry.startswith("."):
                    continue  # hidden files of other tools (.DS_Store) are no versions
                elif revision is None:
                    yield Damage(
                        str(path),
                        "is not a version file (its name is not <revision>.json); the "
                        "store ignores it: move it out",
                        record_id,
                    )
                elif (name, revision) in view.hidden or name in view.gone:
                    continue
                else:
                    try:
                        yield self._parse(_atomic.read_bytes(entry, fd), name, revision)
                    except _atomic.LinkError as exc:
                        problem = f"{exc.strerror}, which the store never follows: {_RESTORE}"
                        yield Damage(str(path), problem, record_id)
                    except _Unreadable as exc:
                        yield Damage(str(path), f"{exc}; {_RESTORE}", record_id)
                    except OSError as exc:
                        problem = f"cannot be read ({exc.strerror}); {_RESTORE}"
                        yield Damage(str(path), problem, record_id)
        finally:
            os.close(fd)

    # --- writing ------------------------------------------------------------------------

    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        pending = list(changes)
        if not pending:
            return []
        self._ensure(write=True)
        try:
            with (
                self._locked(exclusive=True),
                self._open_dirs(make_records=True) as dirs,
            ):
                self._recover(dirs)
                assert dirs.records is not None
                plan = self._plan(dirs.records, pending)
                self._write(dirs, plan)
        except _Uncertain as exc:
            raise StoreError(str(exc)) from exc.__cause__
        except OSError as exc:
            raise self._failed("writing (nothing was written)", exc) from None
        return plan.results

    def _plan(self, records: int, changes: list[Change]) -> _Plan:
        """Check every change against the stored revisions; raise before writing anything."""
        planner = _Planner(self, records)
        for change in changes:
            if isinstance(change, Put):
                planner.put(change)
            elif isinstance(change, Purge):
                planner.purge(change)
            elif isinstance(change, ImportVersion):
                planner.import_version(change)
            else:  # pragma: no cover - Change admits nothing else
                raise TypeError(change)
        return planner.plan

    def _write(self, dirs: _Dirs, plan: _Plan) -> None:
        """Write a checked plan: all of it, or (after taking back what was done) nothing.

        A single new version needs no journal.  A batch is committed when its journal is
        removed, or, if it purges, when the journal says ``committed`` on disk; whatever
        fails before that is taken back, so the error can say that nothing was written.
        """
        assert dirs.records is not None
        if not plan.purge and len(plan.create) <= 1:
            if plan.create:
                self._write_one(dirs.records, plan.create)
            return
        created = tuple((i, r, _digest(c)) for (i, r), c in plan.create.items())
        purges = tuple(plan.purge)
        undo = _Journal("pending", created, purges)
        try:
            if created:
                _atomic.replace(JOURNAL, undo.to_bytes(), dirs.root)
                self._create_versions(dirs.records, plan.create)
            if purges:
                journal = _Journal("committed", created, purges)
                _atomic.replace(JOURNAL, journal.to_bytes(), dirs.root)
            else:
                os.unlink(JOURNAL, dir_fd=dirs.root)
                _atomic.fsync_directory(dirs.root)
        except BaseException as exc:
            self._take_back(dirs, undo, exc, plan)
            raise
        if purges:
            self._finish_purge(dirs, purges)

    def _take_back(self, dirs: _Dirs, undo: _Journal, exc: BaseException, plan: _Plan) -> None:
        """Undo a batch that failed before its commit was on disk; raise if that fails too.

        What to undo depends on how far it got, which the journal on disk tells: still
        pending (the usual case), already removed or said committed (a flush after the
        commit failed), or never written.  Undoing only removes files, so it works on a
        full disk too.
        """
        assert dirs.records is not None
        try:
            journal: _Journal | None = self._journal(dirs.root)
        except (OSError, StoreError):
            journal = _Journal("unknown", (), ())
        try:
            if journal is None:  # never written, or removed as the commit
                self._undo(dirs.records, undo.create)
                _atomic.fsync_directory(dirs.root)
                return
            if journal != undo:
                _atomic.replace(JOURNAL, undo.to_bytes(), dirs.root)
        except OSError as failed:
            raise _Uncertain(self._uncertain(plan, exc, failed)) from exc
        try:
            self._recover(dirs)  # undoes exactly what the journal names
        except OSError as failed:
            raise StoreError(
                f"{self._where()}: a batch failed ({_reason(exc)}) and could not be undone "
                f"at once ({_reason(failed)}); nothing of it is read meanwhile, and it is "
                "undone when the store is next opened or written"
            ) from exc

    def _finish_purge(self, dirs: _Dirs, purges: tuple[str, ...]) -> None:
        """Remove what a committed purge took; what fails is finished on the next open or write.

        A failure is tried once more at once (a passing fault), then left to the roll
        forward and logged.
        """
        assert dirs.records is not None
        for attempt in range(2):
            try:
                self._remove_records(dirs.records, purges)
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
            "%s: the purge of %s is committed and hidden from every reader, but removing "
            "its files failed (%s); they are removed when the store is next opened or "
            "written",
            self._where(),
            ", ".join(purges),
            _reason(failure),
        )

    def _uncertain(self, plan: _Plan, exc: BaseException, failed: OSError) -> str:
        """The message for a write that failed where it cannot tell what is stored."""
        ids = [repr(i) for i in dict.fromkeys([i for i, _ in plan.create] + plan.purge)]
        shown = ", ".join(ids[:_NAMED]) + (", ..." if len(ids) > _NAMED else "")
        return (
            f"{self._where()}: a write failed ({_reason(exc)}) after it had begun to take "
            f"effect, and taking it back failed too ({_reason(failed)}): it may or may not "
            f"have been stored; look up {shown} (get() or history(), or `experiments "
            "history ID`) before writing it again"
        )

    def _write_one(self, records: int, create: Mapping[tuple[str, int], bytes]) -> None:
        """Create one version, and flush it; if the flush fails, remove it again."""
        ((record_id, revision), content) = next(iter(create.items()))
        name = encode_id(record_id)
        made: list[str] = []
        fd = self._make_record_dir(records, name, made)
        linked = False
        try:
            _sweep(fd)
            self._link_version(fd, record_id, revision, content)
            linked = True
            if made:
                _atomic.fsync_directory(records)
            _atomic.fsync_directory(fd)
        except BaseException as exc:
            try:
                if linked:
                    os.unlink(version_name(revision), dir_fd=fd)
                    _atomic.fsync_directory(fd)
                for directory in made:
                    os.rmdir(directory, dir_fd=records)
                    _atomic.fsync_directory(records)
            except OSError as failed:
                if linked:
                    plan = _Plan(create=dict(create))
                    raise _Uncertain(self._uncertain(plan, exc, failed)) from exc
            raise
        finally:
            os.close(fd)

    def _link_version(self, fd: int, record_id: str, revision: int, content: bytes) -> None:
        """Create a version file; ConflictError if the name is taken."""
        try:
            _atomic.create_exclusive(version_name(revision), content, fd)
        except FileExistsError:
            raise ConflictError(
                f"revision {revision} of {record_id!r} appeared in {self._where()} "
                "while this batch was being written: a program wrote there without "
                "taking its lock; nothing was written"
            ) from None

    def _make_record_dir(self, records: int, name: str, made: list[str]) -> int:
        """Open (making it if need be) a record's directory; note in ``made`` if made."""
        try:
            os.mkdir(name, dir_fd=records)
            made.append(name)
        except FileExistsError:
            pass
        fd = self._record_dir(records, name)
        if fd is None:
            raise StoreError(
                f"{self.path / RECORDS / name} is not a directory; move it out of the store "
                "(nothing was written)"
            )
        return fd

    def _create_versions(self, records: int, create: Mapping[tuple[str, int], bytes]) -> None:
        """Create the versions of a batch, then flush the directories that changed.

        One directory is open at a time, so a batch of any size stays within the
        process's limit of open files.  On failure the journal takes back the versions;
        this removes the directories it made.
        """
        made: list[str] = []
        touched: dict[str, None] = {}  # record directories to flush, in order
        try:
            for (record_id, revision), content in create.items():
                name = encode_id(record_id)
                fd = self._make_record_dir(records, name, made)
                try:
                    if name not in touched:
                        _sweep(fd)
                        touched[name] = None
                    self._link_version(fd, record_id, revision, content)
                finally:
                    os.close(fd)
            if made:
                _atomic.fsync_directory(records)
            for name in touched:
                fd = _atomic.open_directory(name, records)
                try:
                    _atomic.fsync_directory(fd)
                finally:
                    os.close(fd)
        except BaseException:
            for name in made:  # a directory this write made stays only if it holds a version
                with contextlib.suppress(OSError):
                    os.rmdir(name, dir_fd=records)
            raise


def _made_by_us(entry: os.DirEntry[str]) -> bool:
    """Whether an entry of a directory with no marker yet was left by making a store there."""
    if entry.name in (LOCK, MARKER) or is_temporary(entry.name):
        return True
    if entry.name == GITIGNORE and entry.is_file(follow_symlinks=False):
        try:
            return Path(entry.path).read_text(encoding="utf-8") == _GITIGNORE_TEXT
        except (OSError, ValueError):
            return False
    if entry.name == RECORDS and entry.is_dir(follow_symlinks=False):
        with os.scandir(entry.path) as inside:
            return next(inside, None) is None
    return False


def _record_name(name: str) -> tuple[bool, str | None]:
    """Whether ``name`` is a record's directory, and its id unless the name is cut."""
    if _CUT_NAME.fullmatch(name):
        return True, None
    record_id = decode_id(name)
    return (record_id is not None and ID_PATTERN.fullmatch(record_id) is not None), record_id


def _sweep(fd: int) -> None:
    """Remove temporary files an interrupted write left; only under the exclusive lock."""
    for name in _atomic.names(fd):
        if is_temporary(name):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(name, dir_fd=fd)


def _stray(path: Path) -> Damage:
    return Damage(
        str(path),
        "is a temporary file left by an interrupted write (the write did not happen); "
        "it is safe to delete, and the next write there removes it",
    )


class _Planner:
    """Works out what a batch will write, against what is stored and planned so far."""

    def __init__(self, store: FileStore, records: int) -> None:
        self.store = store
        self.records = records
        self.plan = _Plan()
        self.known: dict[str, dict[int, bytes | None]] = {}  # planned content, None on disk
        self.purged: set[str] = set()

    def versions(self, record_id: str) -> dict[int, bytes | None]:
        if record_id not in self.known:
            name = encode_id(record_id)
            fd = self.store._record_dir(self.records, name)  # noqa: SLF001 - its helper
            on_disk: list[int] = []
            if fd is not None:
                try:
                    on_disk = self.store._revisions(fd, name, _View())  # noqa: SLF001
                finally:
                    os.close(fd)
            self.known[record_id] = dict.fromkeys(on_disk)
        return self.known[record_id]

    def data_at(self, record_id: str, revision: int) -> Mapping[str, Any]:
        planned = self.known[record_id][revision]
        if planned is not None:
            loaded: dict[str, Any] = json.loads(planned)
            return loaded
        name = encode_id(record_id)
        fd = _atomic.open_directory(name, self.records)
        try:
            return self.store._read(fd, name, revision)  # noqa: SLF001
        finally:
            os.close(fd)

    def refuse_reuse(self, record_id: str) -> None:
        if record_id in self.purged:
            raise StoreError(
                f"record {record_id!r} is purged and written again in one batch; the "
                f"{self.store._where()} cannot do both at once: commit the purge first"  # noqa: SLF001
            )

    def put(self, change: Put) -> None:
        record = change.record
        self.refuse_reuse(record.id)
        stored_versions = self.versions(record.id)
        stored = max(stored_versions, default=0)
        if change.expected is None and stored:
            self.plan.results.append(from_data(self.data_at(record.id, stored)))
            return
        if change.expected is not None and change.expected != stored:
            raise conflict(record, change.expected, stored)
        if stored:
            stored_kind = str(self.data_at(record.id, stored)["kind"])
            if stored_kind != record.kind:
                raise other_kind(record, stored_kind)
        content = _dumps(change.data)
        stored_versions[record.revision] = content
        self.plan.create[record.id, record.revision] = content
        self.plan.results.append(record)

    def purge(self, change: Purge) -> None:
        stored_versions = self.versions(change.id)
        kind = None
        if stored_versions:
            kind = str(self.data_at(change.id, max(stored_versions))["kind"])
        for revision in [r for r, c in stored_versions.items() if c is not None]:
            del self.plan.create[change.id, revision]
        stored_versions.clear()
        self.purged.add(change.id)
        self.plan.purge.append(change.id)
        self.plan.results.append(kind)

    def import_version(self, change: ImportVersion) -> None:
        record = change.record
        self.refuse_reuse(record.id)
        stored_versions = self.versions(record.id)
        if stored_versions:
            stored_kind = str(self.data_at(record.id, max(stored_versions))["kind"])
            if stored_kind != record.kind:
                raise other_kind(record, stored_kind)
        content = _dumps(change.data)
        if record.revision in stored_versions:
            if self.data_at(record.id, record.revision) != json.loads(content):
                raise import_conflict(record)
            self.plan.results.append(False)
            return
        stored_versions[record.revision] = content
        self.plan.create[record.id, record.revision] = content
        self.plan.results.append(True)
