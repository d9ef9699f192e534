"""The embedded default: one SQLite file, safe for several processes writing at once.

The file runs in WAL mode; every write transaction starts with ``BEGIN IMMEDIATE`` so
that concurrent writers queue on the busy timeout instead of failing half-way, and
``synchronous=FULL`` makes every committed write survive a power cut.  URL options:

``?synchronous=normal``
    Trade durability for speed: a power cut may lose the last transactions (an
    application crash still loses nothing).  ``off`` goes further still.
``?timeout=30``
    Seconds a writer waits for another to finish before giving up (default 30).

Purged records leave nothing readable behind: the store runs with ``secure_delete``, so
freed pages are overwritten with zeros, and the write-ahead log is checkpointed and
truncated after a purge, or, if a reader still holds a snapshot from before it, after
the next write or when the store closes.

Reading never makes a store: an empty file (or a SQLite file with no tables yet) is an
error for reads and :meth:`~experiments.stores.Store.verify`, and becomes a store on the
first write (or with ``create=True``).  A store on a file system mounted read-only is
read as it is (SQLite's immutable mode), unless its write-ahead log holds changes not
yet in the file; errors name the cause: a read-only mount, or a file or directory this
user may not write.  A store on a network file system (NFS, SMB, 9p, sshfs, ...) is
refused unless that is mounted read-only: WAL mode needs memory shared by every process
that opens the file, which machines sharing a file over a network do not share.  A
store opened before :func:`os.fork` gets connections of its own in the child; the
parent's are never used there, as SQLite requires.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import sqlite3
import sys
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final

from experiments.errors import StoreError, StoreURLError
from experiments.stores import _access, _sqlite_writes
from experiments.stores._refusals import missing_store
from experiments.stores._sqlite_dialect import DIALECT, FSum
from experiments.stores._sqlite_file import (
    ThreadConnections,
    check_identity,
    error_for,
    has_content,
    migrate,
    readable_as_it_is,
    refuse_network_file_system,
    uri_path,
)
from experiments.stores._sqlite_layout import APPLICATION_ID, MIGRATIONS
from experiments.stores._sqlstore import (
    SQLStore,
    change_types,
    versions_read,
)
from experiments.stores.url import DEFAULT_TIMEOUT

if TYPE_CHECKING:
    from experiments.stores.changes import (
        Change,
        Damage,
        ImportVersion,
        Purge,
        Put,
        Rewrite,
        SetSetting,
    )

#: The store's layout, for tools that look inside a file (see ``_sqlite_layout``).
__all__ = ["APPLICATION_ID", "MIGRATIONS", "SQLiteStore"]

#: The most ids one look-up names: SQLite before 3.32 takes at most 999 parameters.
_IDS_A_STATEMENT: Final = 500

#: What the driver raises: its own errors, and text it cannot decode from a damaged file.
_DRIVER_ERRORS: Final = (sqlite3.Error, UnicodeDecodeError)

# The page cache of the connection that writes and reads records one at a time: 8 MB
# keeps the indexes a bulk write walks at hand.
_CACHE_KIB: Final = 8000
# The page cache of the connection that streams queries and aggregations.  They read a
# kind (or its JSON) once from end to end, so SQLite's default 2 MB serves them as
# fast as more would; a larger cache only holds pages that are not read again, in
# memory that a roll-up of a hundred thousand experiments needs for its facts.
_STREAMING_CACHE_KIB: Final = 2000

_SYNCHRONOUS: Final = {"full": "FULL", "normal": "NORMAL", "off": "OFF", "extra": "EXTRA"}


class SQLiteStore(SQLStore[sqlite3.Connection]):
    """Records in one SQLite file; see the module documentation for URL options."""

    scheme: ClassVar[str] = "sqlite"
    dialect = DIALECT
    current_table = "current"

    def _setup(self, create: bool | None) -> None:
        url = self.url
        path = url.file_path
        if not path or path == ":memory:":
            raise StoreURLError(
                f"{url.redacted} names no file; write sqlite:///relative/path.db or "
                "sqlite:////absolute/path.db (use memory:// for a store in memory)"
            )
        self.path = Path(path)
        synchronous = url.params.get("synchronous", "full").lower()
        if synchronous not in _SYNCHRONOUS:
            raise StoreURLError(
                f"{url.redacted}: synchronous={synchronous!r} is not one of "
                f"{', '.join(_SYNCHRONOUS)}"
            )
        self._synchronous = _SYNCHRONOUS[synchronous]
        self._timeout = url.seconds("timeout", DEFAULT_TIMEOUT)
        url.options("SQLite", "synchronous", "timeout")
        self._create = create
        self._lock = threading.Lock()
        self._local = ThreadConnections()
        self._connections: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._immutable = False  # read as it is, on a read-only file system
        self._ready = False
        self._erasure_pending = False
        _OPEN.add(self)
        if create is False and not _access.present(self.path):
            raise self._missing()
        # An empty file is no store yet: like a missing one, the first write makes it one.
        if create is not None or has_content(self.path):
            self._prepare(create=create)

    # --- files and connections ----------------------------------------------------

    def _where(self) -> str:
        return f"SQLite store {str(self.path)!r}"

    def _missing(self) -> StoreError:
        return missing_store(self.path)

    def exists(self) -> bool:
        return self._ready or _access.present(self.path)

    def _error(self, exc: sqlite3.Error | UnicodeDecodeError) -> StoreError:
        return error_for(exc, self.path, self._where(), self._timeout)

    def _not_a_store_yet(self) -> StoreError:
        return StoreError(
            f"{str(self.path)!r} is empty, not a strategy-experiments store yet; create one "
            "there with `experiments init` (or connect(url, create=True)), or check the path"
        )

    def _open(self, *, create: bool, cache_kib: int = _CACHE_KIB) -> sqlite3.Connection:
        mode = "rwc" if create else "rw"
        uri = f"file:{uri_path(self.path)}?mode={mode}"
        if self._immutable:
            uri = f"file:{uri_path(self.path)}?mode=ro&immutable=1"
        try:
            connection = sqlite3.connect(
                uri,
                uri=True,
                timeout=self._timeout,
                isolation_level=None,
                check_same_thread=False,
                cached_statements=256,
            )
        except sqlite3.Error as exc:
            if not _access.present(self.path):
                raise self._missing() from None
            raise self._error(exc) from None
        try:
            connection.execute(f"PRAGMA synchronous={self._synchronous}")
            connection.execute(f"PRAGMA cache_size=-{int(cache_kib)}")
            connection.execute("PRAGMA secure_delete=ON")
            # typeshed declares aggregates as int-valued; SQLite takes any SQL value.
            connection.create_aggregate("experiments_fsum", 1, FSum)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            connection.close()
            if (
                not create
                and not self._immutable
                and readable_as_it_is(exc, self.path, self._where())
            ):
                self._immutable = True
                return self._open(create=False, cache_kib=cache_kib)
            raise self._error(exc) from None
        with self._lock:
            self._connections.append(connection)
        return connection

    def _discard(self, connection: sqlite3.Connection) -> None:
        """Close a connection of a failed open, so it leaves nothing behind."""
        with self._lock:
            if connection in self._connections:
                self._connections.remove(connection)
        with contextlib.suppress(sqlite3.Error):
            connection.close()

    def _prepare(self, *, create: bool | None) -> None:
        """Check the file is ours (or empty), and bring its schema up to date, once.

        A file with no schema yet is made a store only with ``create``; without it that
        is an error (reading never makes a store), and with None it is left for the
        first write.
        """
        if not create and not _access.present(self.path):
            raise self._missing()
        if not _access.present(self.path.parent):
            raise StoreError(
                f"cannot create {str(self.path)!r}: the directory "
                f"{str(self.path.parent)!r} does not exist"
            )
        refuse_network_file_system(self.path)
        connection = self._open(create=bool(create))
        try:
            version = check_identity(connection, self.path)
            if version == 0 and not create:
                if create is None:
                    self._discard(connection)
                    return
                raise self._not_a_store_yet()  # noqa: TRY301 - cleaned up as any failure
            if version < len(MIGRATIONS):
                migrate(connection, self.path, self._timeout)
        except BaseException as exc:
            self._discard(connection)  # or it keeps -wal and -shm files next to the store
            if isinstance(exc, _DRIVER_ERRORS):
                raise self._error(exc) from None
            raise
        self._local.connection = connection
        self._ready = True

    def _after_fork(self) -> None:
        """In a child of fork(): connections of its own; the parent's are never touched.

        SQLite forbids using a connection in a child process, closing it included: the
        parent's are kept (never used, never closed) until the child ends.
        """
        if self._pid == os.getpid():
            return
        _INHERITED.extend(self._connections)
        self._connections = []
        self._local = ThreadConnections()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _connection(self, *, write: bool = False) -> sqlite3.Connection:
        self._check_open()
        self._after_fork()
        connection = self._local.connection
        if connection is not None:
            return connection
        if not self._ready:
            with self._lock:
                ready = self._ready
            if not ready:
                if not write and not _access.present(self.path):
                    raise self._missing()
                self._prepare(create=write and self._create is not False)
        connection = self._local.connection or self._open(create=False)  # _prepare's, or new
        self._local.connection = connection
        return connection

    def _reader(self) -> sqlite3.Connection:
        """A second connection per thread for streaming reads, so writes can go on."""
        self._after_fork()
        reader: sqlite3.Connection | None = self._local.reader
        if reader is None:
            self._connection()
            reader = self._open(create=False, cache_kib=_STREAMING_CACHE_KIB)
            self._local.reader = reader
        return reader

    def _close(self) -> None:
        self._after_fork()
        if self._erasure_pending:
            connection: sqlite3.Connection | None = self._local.connection
            if connection is not None:
                for reader in self._connections:
                    if reader is not connection:
                        with contextlib.suppress(sqlite3.Error):
                            reader.close()
                self._forget_purged(connection)
        with self._lock:
            connections, self._connections = self._connections, []
        for connection in connections:
            with contextlib.suppress(sqlite3.Error):  # closing is best effort
                connection.close()

    # --- reading ------------------------------------------------------------------

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
        # Rows are passed on in batches, which C unpacks: a roll-up reads a million rows,
        # and resuming a generator for each of them took about a quarter of a second.
        return itertools.chain.from_iterable(self._batches(sql, tuple(params)))

    def _batches(self, sql: str, params: tuple[Any, ...]) -> Iterator[list[tuple[Any, ...]]]:
        try:
            cursor = self._reader().execute(sql, params)
            while rows := cursor.fetchmany(512):
                yield rows
        except _DRIVER_ERRORS as exc:
            raise self._error(exc) from None

    @contextlib.contextmanager
    def _snapshot(self) -> Iterator[None]:
        """A read transaction on this thread's reading connection, which every read uses.

        In WAL mode it sees the database as it was when the block began, writers going on.
        """
        if not self.exists():  # nothing to read yet, nor to hold
            yield
            return
        reader = self._reader()
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT 1 FROM records LIMIT 1").fetchall()  # the state is taken
        except _DRIVER_ERRORS as exc:
            with contextlib.suppress(sqlite3.Error):
                reader.execute("ROLLBACK")
            raise self._error(exc) from None
        self._local.pinned = True
        try:
            yield
        finally:
            self._local.pinned = False
            with contextlib.suppress(sqlite3.Error):  # a read: nothing to lose in ending it
                reader.execute("ROLLBACK")

    def _looking_up(self) -> sqlite3.Connection:
        """The connection for a look-up: the reading one while a snapshot is held."""
        return self._reader() if self._local.pinned else self._connection()

    def _load(self, id: str) -> Mapping[str, Any] | None:  # noqa: A002 - it is an id
        try:
            row = (
                self._looking_up()
                .execute("SELECT data FROM current WHERE id = ?", (id,))
                .fetchone()
            )
        except _DRIVER_ERRORS as exc:
            raise self._error(exc) from None
        return None if row is None else self._decode_row(row[0], f"record {id!r}")

    def _load_many(self, ids: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        if len(ids) < 2:  # noqa: PLR2004 - one id (or none) needs no list
            return super()._load_many(ids)
        found: dict[str, Mapping[str, Any]] = {}
        for start in range(0, len(ids), _IDS_A_STATEMENT):
            chunk = tuple(ids[start : start + _IDS_A_STATEMENT])
            sql = f"SELECT id, data FROM current WHERE id IN ({', '.join('?' * len(chunk))})"
            try:
                rows = self._looking_up().execute(sql, chunk).fetchall()
            except _DRIVER_ERRORS as exc:
                raise self._error(exc) from None
            for record_id, text in rows:
                found[record_id] = self._decode_row(text, f"record {record_id!r}")
        return found

    def _load_versions(self, id: str) -> list[Mapping[str, Any]]:  # noqa: A002
        try:
            rows = (
                self._looking_up()
                .execute(
                    "SELECT revision, data FROM versions WHERE id = ? ORDER BY revision", (id,)
                )
                .fetchall()
            )
        except _DRIVER_ERRORS as exc:
            raise self._error(exc) from None
        return [self._decode_row(data, f"record {id!r} revision {rev}") for rev, data in rows]

    def _scan(self, kind: str | None) -> Iterator[Mapping[str, Any]]:
        if kind is None:
            rows = self._rows("SELECT id, data FROM current ORDER BY id")
        else:
            rows = self._rows("SELECT id, data FROM current WHERE kind = ? ORDER BY id", (kind,))
        for record_id, text in rows:
            yield self._decode_row(text, f"record {record_id!r}")

    def _scan_versions(self) -> Iterator[Mapping[str, Any]]:
        rows = self._rows("SELECT id, revision, data FROM versions ORDER BY id, revision")
        for record_id, revision, text in rows:
            yield self._decode_row(text, f"record {record_id!r} revision {revision}")

    def _count_versions(self) -> int:
        return int(next(self._rows("SELECT count(*) FROM versions"))[0])

    def _read(self, doing: str, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        self._connection()  # fail now, not at the first next(), when there is no store
        return self._rows(sql, params)

    def _verify_storage(self) -> Iterator[Damage | Mapping[str, Any]]:
        from experiments.stores.changes import Damage  # noqa: PLC0415 - verify() only

        try:
            connection = self._connection()
            problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
        except (*_DRIVER_ERRORS, StoreError) as exc:
            message = str(exc) if isinstance(exc, StoreError) else str(self._error(exc))
            yield Damage(str(self.path), message)
            return
        if problems != ["ok"]:
            for problem in problems:
                yield Damage(str(self.path), f"SQLite integrity: {problem}")
        try:
            rows = list(self._rows("SELECT id, revision, data FROM versions ORDER BY id, revision"))
        except StoreError as exc:
            yield Damage(str(self.path), str(exc))
            return
        yield from versions_read(rows, str(self.path))
        del rows
        yield from self._rows_adrift()

    def _rows_adrift(self) -> Iterator[Damage]:
        """Rows of ``records`` that are not what their current version writes."""
        from experiments.stores import _sqlite_rows  # noqa: PLC0415 - verify() only
        from experiments.stores.changes import Damage  # noqa: PLC0415

        try:
            yield from _sqlite_rows.rows_adrift(self._rows, str(self.path))
        except StoreError as exc:
            yield Damage(str(self.path), str(exc))

    # --- writing ------------------------------------------------------------------

    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        _, purge, _, rewrite, _ = change_types()
        connection = self._connection(write=True)
        try:
            connection.execute("BEGIN IMMEDIATE")
        except _DRIVER_ERRORS as exc:
            raise self._error(exc) from None
        purges: list[str]
        applied: Iterable[Change]
        if isinstance(changes, list):  # a batch's, all known: noted without a generator
            purges = [change.id for change in changes if isinstance(change, (purge, rewrite))]
            applied = changes
        else:  # an import streams: nothing is kept
            purges = []
            applied = _noting_purges(changes, (purge, rewrite), purges)
        try:
            # Every run of new records goes in with executemany, however long.
            results = self._apply_changes(connection, applied, run=sys.maxsize)
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(exc, _DRIVER_ERRORS):
                raise self._error(exc) from None
            raise
        if purges or self._erasure_pending:
            self._forget_purged(connection)
        return results

    def _insert_many(self, connection: sqlite3.Connection, puts: list[Put]) -> list[Any]:
        return _sqlite_writes.insert_many(self, connection, puts)

    def _put(self, connection: sqlite3.Connection, change: Put) -> Any:
        return _sqlite_writes.put_one(self, connection, change)

    def _current_revision(self, connection: sqlite3.Connection, record_id: str) -> int | None:
        row = connection.execute(
            "SELECT revision FROM records WHERE id = ?", (record_id,)
        ).fetchone()
        return None if row is None else int(row[0])

    def _make_now(self) -> None:
        self._connection(write=True)

    def _setting(self, name: str) -> str | None:
        if not self.exists():
            return None
        sql = "SELECT value FROM settings WHERE name = ?"
        rows = self._read("reading its settings", sql, [name])
        values = [str(value) for (value,) in rows]
        return values[0] if values else None

    def _store_setting(self, connection: sqlite3.Connection, change: SetSetting) -> None:
        _sqlite_writes.store_setting(connection, change)

    def _purge(self, connection: sqlite3.Connection, record_id: str) -> str | None:
        return _sqlite_writes.purge(connection, record_id)

    def _import(self, connection: sqlite3.Connection, change: ImportVersion) -> bool:
        return _sqlite_writes.import_version(connection, change)

    def _free_erased(self, *, vacuum: bool) -> str:
        del vacuum  # secure_delete already overwrote the freed pages
        if self._erasure_pending:
            return (
                "the freed pages are overwritten with zeros; a reader still holds an older "
                "snapshot, so the write-ahead log is emptied after the next write or when "
                "the store closes"
            )
        return (
            "the freed pages are overwritten with zeros (secure_delete) and the write-ahead "
            "log is checkpointed and truncated"
        )

    def _forget_purged(self, connection: sqlite3.Connection) -> None:
        """Move purged pages out of the write-ahead log, then empty the log.

        The zeroed pages reach the database file and the log is truncated, unless a
        reader still holds a snapshot from before the purge: then it is tried again
        after each later write and when the store closes, until it succeeds.
        """
        try:
            connection.execute("PRAGMA busy_timeout = 250")
            busy, _, _ = connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            busy = 1
        finally:
            with contextlib.suppress(sqlite3.Error):
                connection.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        self._erasure_pending = bool(busy)


#: Every open SQLite store, so that a child of fork() leaves its parent's connections be.
_OPEN: Final[weakref.WeakSet[SQLiteStore]] = weakref.WeakSet()
#: Connections a child of fork() inherited: kept so that they are never closed there.
_INHERITED: Final[list[sqlite3.Connection]] = []


def _noting_purges(
    changes: Iterable[Change], kinds: tuple[type[Purge], type[Rewrite]], purges: list[str]
) -> Iterator[Change]:
    """``changes`` as they stream by, the ids of the purges and rewrites among them noted."""
    for change in changes:
        if isinstance(change, kinds):
            purges.append(change.id)
        yield change


def _forget_parents_connections() -> None:
    for store in list(_OPEN):
        store._after_fork()  # noqa: SLF001 - the module's own class


os.register_at_fork(after_in_child=_forget_parents_connections)
