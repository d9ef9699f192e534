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
import json
import math
import os
import sqlite3
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Final, NamedTuple

from experiments.errors import ConflictError, SchemaError, StoreError, StoreURLError
from experiments.model import KINDS
from experiments.query import BoundExpr, BoundMeasure, FieldInfo, FieldType, Order, field_types
from experiments.serialization import dumps, from_data
from experiments.stores import _access, _mounts, _sql
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
    from experiments.model import Record
    from experiments.plugins import Plugins
    from experiments.stores.url import StoreURL

__all__ = ["SQLiteStore"]

#: ``PRAGMA application_id`` of a strategy-experiments store ("EXPR"), which tells our
#: files from other programs' SQLite databases.
APPLICATION_ID: Final = 0x45585052


def _hot_fields() -> dict[str, FieldType]:
    """Fields copied into ``records`` at write time, so queries need not parse JSON.

    Every short field any kind has; long free text (descriptions, observations, notes),
    personal names and structured data stay in the JSON of ``versions`` only.
    """
    left_out = {
        "id", "kind", "revision", "metadata", "criterion", "abandon_reason", "challenge",
        "description", "details", "insight", "link", "name", "next_action", "observation",
        "rationale", "text", "next_steps", "facilitators", "decided_by", "scaffold",
    }  # fmt: skip
    hot: dict[str, FieldType] = {}
    for kind in KINDS:
        for name, info in field_types(kind).items():
            if name not in left_out and info.kind is not FieldType.OTHER:
                hot[name] = info.kind
    return dict(sorted(hot.items()))


#: Hot field name -> how it is stored (times as their fixed-width UTC text, lists as JSON).
HOT: Final = _hot_fields()

# The hot columns of the first layout, as it was written: a migration never changes.
_FIRST_HOT: Final = (
    "abandoned_at", "assumption", "baseline", "changed_by", "concluded_at", "created_at",
    "decided_at", "deleted_at", "department", "due", "evidence", "experiment", "external",
    "fidelity", "group", "hypothesis", "involvement", "key_result", "level", "measured_at",
    "metric", "noted_at", "objective", "objectives", "observed_at", "outcome", "owner",
    "parent", "participant", "participants", "pseudonymous", "reason", "role", "shown_at",
    "slug", "sprint", "stance", "started_at", "statement", "status", "tags", "target",
    "team", "time_box", "title", "unit", "updated_at", "value", "verdict", "version",
    "weight",
)  # fmt: skip

# The hot columns layout 3 adds, as it was written.
_THIRD_HOT: Final = (
    "template", "since", "shown_as", "roles", "stances", "min_departments", "min_external",
    "to_start", "to_conclude", "mandatory_for", "position",
)  # fmt: skip

_CURRENT_VIEW: Final = """CREATE VIEW current AS
            SELECT r.*, v.data AS data
            FROM records r LEFT JOIN versions v ON v.id = r.id AND v.revision = r.revision"""

#: Store schema migrations: ``MIGRATIONS[n - 1]`` takes the file from version n-1 to n.
#: They run in order, each exactly once, under one write lock (see ``_migrate``).
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        # Every version's data is written once, in `versions`.  `records` holds one row
        # per record: which revision is current, and its short fields as columns; the
        # `current` view joins the two.  Rows are clustered by kind, so reading all
        # records of one kind reads consecutive pages.
        f"""CREATE TABLE records (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            deleted INTEGER NOT NULL DEFAULT 0,
            {", ".join(f'"{name}"' for name in _FIRST_HOT)},
            PRIMARY KEY (kind, id)
        ) WITHOUT ROWID""",
        "CREATE UNIQUE INDEX records_id ON records (id)",
        'CREATE INDEX records_experiment ON records ("experiment") WHERE "experiment" IS NOT NULL',
        """CREATE TABLE versions (
            id TEXT NOT NULL,
            revision INTEGER NOT NULL,
            data TEXT NOT NULL,
            PRIMARY KEY (id, revision)
        )""",
        _CURRENT_VIEW,
    ),
    (
        # 2: a decision names the decision it revises.  No stored decision revised one.
        'ALTER TABLE records ADD COLUMN "revises"',
        # The view's r.* was expanded when it was made: make it again to see the column.
        "DROP VIEW current",
        _CURRENT_VIEW,
    ),
    (
        # 3: templates and sprint phases; an experiment's template, a key result's start,
        # the fidelity a prototype was first shown at.  Only the last has stored values:
        # a prototype shown before 3 was shown as finished as it is (as the schema says).
        *(f'ALTER TABLE records ADD COLUMN "{name}"' for name in _THIRD_HOT),
        """UPDATE records SET "shown_as" = "fidelity"
            WHERE kind = 'prototype' AND "shown_at" IS NOT NULL""",
        "DROP VIEW current",
        _CURRENT_VIEW,
    ),
)

_LAID_OUT: Final = set(_FIRST_HOT) | {"revises"} | set(_THIRD_HOT)
assert set(HOT) == _LAID_OUT, f"a hot column without a migration: {set(HOT) ^ _LAID_OUT}"


class _KindSQL(NamedTuple):
    """How the records of one kind are written: the hot columns they fill, and the SQL."""

    plan: tuple[tuple[str, FieldType], ...]
    insert: str
    update: str
    upsert: str


def _kind_sql(names: Iterable[str]) -> _KindSQL:
    # Only the kind's own columns are named: the others stay NULL for its rows, and
    # binding fifty-odd NULLs made every insert three times slower.
    plan = tuple((name, HOT[name]) for name in names if name in HOT)
    columns = "".join(f', "{name}"' for name, _ in plan)
    marks = ", ?" * len(plan)
    insert = (
        f"INSERT INTO records (id, kind, revision, deleted{columns}) VALUES (?, ?, ?, ?{marks})"
    )
    update = (
        "UPDATE records SET revision = ?, deleted = ?"
        + "".join(f', "{name}" = ?' for name, _ in plan)
        + " WHERE id = ? AND revision = ? AND kind = ?"
    )
    upsert = (
        insert
        + " ON CONFLICT (id) DO UPDATE SET revision = excluded.revision, "
        + "deleted = excluded.deleted"
        + "".join(f', "{name}" = excluded."{name}"' for name, _ in plan)
        + " WHERE excluded.revision > records.revision AND excluded.kind = records.kind"
    )
    return _KindSQL(plan, insert, update, upsert)


_KIND_SQL: Final = {kind: _kind_sql(field_types(kind)) for kind in KINDS}
_ANY_KIND_SQL: Final = _kind_sql(HOT)


def _sql_for(record: Record) -> _KindSQL:
    return _KIND_SQL.get(record.kind, _ANY_KIND_SQL)


def _hot_values(plan: tuple[tuple[str, FieldType], ...], data: Mapping[str, Any]) -> list[Any]:
    values: list[Any] = []
    for name, kind in plan:
        value = data.get(name)
        if value is not None:
            if kind is FieldType.DATETIME:
                value = value[:27]
            elif kind is FieldType.LIST:
                value = dumps(value) if value else "[]"  # most tags lists are empty
            elif kind is FieldType.BOOL:
                value = int(value)
        values.append(value)
    return values


#: What the driver raises: its own errors, and text it cannot decode from a damaged file.
_DRIVER_ERRORS: Final = (sqlite3.Error, UnicodeDecodeError)

_SYNCHRONOUS: Final = {"full": "FULL", "normal": "NORMAL", "off": "OFF", "extra": "EXTRA"}


class _FSum:
    """SUM as :func:`math.fsum` computes it; SQLite's own sum rounds at every step."""

    def __init__(self) -> None:
        self.values: list[float] = []

    def step(self, value: float | None) -> None:
        if value is not None:
            self.values.append(value)

    def finalize(self) -> float | None:
        return math.fsum(self.values) if self.values else None


class _SQLite:
    """How SQL reads fields in SQLite: hot columns where there are, the JSON otherwise."""

    placeholder = "?"
    lateral = ""
    sum_function = "experiments_fsum"
    unlimited = "-1"

    def raw_field(self, name: str, table: str = "r") -> str:
        if name in HOT and HOT[name] is not FieldType.DATETIME:
            return f'{table}."{name}"'
        if name in ("id", "kind", "revision"):
            return f"{table}.{name}"
        return f"json_extract({table}.data, '$.\"{name}\"')"

    def field(self, name: str, info: FieldInfo, table: str = "r") -> str:
        if name in HOT or name in ("id", "kind", "revision"):
            return f'{table}."{name}"'
        raw = self.raw_field(name, table)
        return f"substr({raw}, 1, 27)" if info.kind is FieldType.DATETIME else raw

    def list_elements(self, name: str, alias: str, table: str = "r") -> str:
        if name in HOT:
            return f'json_each({table}."{name}") AS {alias}'
        return f"json_each({table}.data, '$.\"{name}\"') AS {alias}"

    def list_length(self, name: str, table: str = "r") -> str:
        if name in HOT:
            return f'json_array_length({table}."{name}")'
        return f"json_array_length({table}.data, '$.\"{name}\"')"

    def false(self) -> str:
        return "0"

    def order(self, expression: str, *, descending: bool) -> str:
        # SQLite sorts NULL first ascending and last descending: what we promise.
        return f"{expression} DESC" if descending else expression


_DIALECT: Final = _SQLite()


class SQLiteStore(Store):
    """Records in one SQLite file; see the module documentation for URL options."""

    scheme: ClassVar[str] = "sqlite"
    capabilities: frozenset[Capability] = frozenset(
        {
            Capability.PERSISTENT,
            Capability.MULTIPROCESS,
            Capability.THREADSAFE,
            Capability.QUERY_PUSHDOWN,
            Capability.AGGREGATION_PUSHDOWN,
        }
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
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._pid = os.getpid()
        self._immutable = False  # read as it is, on a read-only file system
        self._ready = False
        self._erasure_pending = False
        _OPEN.add(self)
        if create is False and not _access.present(self.path):
            raise self._missing()
        # An empty file is no store yet: like a missing one, the first write makes it one.
        if create is not None or _has_content(self.path):
            self._prepare(create=create)

    # --- files and connections ----------------------------------------------------

    def _where(self) -> str:
        return f"SQLite store {str(self.path)!r}"

    def _missing(self) -> StoreError:
        return missing_store(self.path)

    def exists(self) -> bool:
        return self._ready or _access.present(self.path)

    def _error(self, exc: sqlite3.Error | UnicodeDecodeError) -> StoreError:
        message = str(exc)
        if isinstance(exc, UnicodeDecodeError) or "decode to UTF-8" in message:
            return StoreError(  # text SQLite hands back is not UTF-8
                f"{self._where()} is damaged: it holds text that is not UTF-8; restore it "
                "from a backup, or see what can still be read with `experiments verify`"
            )
        if "file is not a database" in message or "not a database" in message:
            return StoreError(
                f"{str(self.path)!r} is not a strategy-experiments store: it is not a "
                "SQLite database (garbage, truncated or another format)"
            )
        if "malformed" in message:
            return StoreError(
                f"{self._where()} is damaged ({message}); restore it from a backup, or "
                "see what can still be read with `experiments verify`"
            )
        if "locked" in message or "busy" in message:
            return StoreError(
                f"{self._where()} stayed locked by another writer for more than "
                f"{self._timeout:g}s; try again, or raise ?timeout= in the URL"
            )
        if "readonly" in message or "read-only" in message or "unable to open" in message:
            cause = _access.cause(
                self.path,
                in_directory=getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_DIRECTORY",
                companions="SQLite keeps the store's -wal and -shm files next to it",
            )
            return StoreError(f"{self._where()}: {cause or message}")
        return StoreError(f"{self._where()}: {message}")

    def _not_a_store_yet(self) -> StoreError:
        return StoreError(
            f"{str(self.path)!r} is empty, not a strategy-experiments store yet; create one "
            "there with `experiments init` (or connect(url, create=True)), or check the path"
        )

    def _open(self, *, create: bool) -> sqlite3.Connection:
        mode = "rwc" if create else "rw"
        uri = f"file:{_uri_path(self.path)}?mode={mode}"
        if self._immutable:
            uri = f"file:{_uri_path(self.path)}?mode=ro&immutable=1"
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
            connection.execute("PRAGMA cache_size=-8000")  # 8 MB: roll-ups read whole kinds
            connection.execute("PRAGMA secure_delete=ON")
            # typeshed declares aggregates as int-valued; SQLite takes any SQL value.
            connection.create_aggregate("experiments_fsum", 1, _FSum)  # type: ignore[arg-type]
        except sqlite3.Error as exc:
            connection.close()
            if not create and not self._immutable and self._readable_as_it_is(exc):
                self._immutable = True
                return self._open(create=False)
            raise self._error(exc) from None
        with self._lock:
            self._connections.append(connection)
        return connection

    def _readable_as_it_is(self, exc: sqlite3.Error) -> bool:
        """Whether a store that cannot be opened is on a read-only file system, whole.

        Reading a store in WAL mode needs its ``-shm`` file, which a read-only file system
        cannot make.  Nobody can write the store there either, so it is read as it is
        (SQLite's immutable mode), unless its write-ahead log holds changes not yet in
        the file: those would be missed, so that is an error saying what to do.
        """
        if getattr(exc, "sqlite_errorname", "") != "SQLITE_CANTOPEN":
            return False
        if not _access.read_only_file_system(self.path):
            return False
        log = self.path.with_name(self.path.name + "-wal")
        if _has_content(log):
            raise StoreError(
                f"{self._where()} is on a read-only file system, and its write-ahead log "
                f"({log.name}) holds changes not yet in the file, which cannot be read "
                "there; open it once where it can be written (or copy the .db and "
                "-wal files to such a place)"
            ) from None
        return True

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
        self._refuse_network_file_system()
        connection = self._open(create=bool(create))
        try:
            version = self._check_identity(connection)
            if version == 0 and not create:
                if create is None:
                    self._discard(connection)
                    return
                raise self._not_a_store_yet()  # noqa: TRY301 - cleaned up as any failure
            if version < len(MIGRATIONS):
                self._migrate(connection)
        except BaseException as exc:
            self._discard(connection)  # or it keeps -wal and -shm files next to the store
            if isinstance(exc, _DRIVER_ERRORS):
                raise self._error(exc) from None
            raise
        self._local.connection = connection
        self._ready = True

    def _refuse_network_file_system(self) -> None:
        table = _mounts.mount_table()
        mount = None if table is None else _mounts.mount_of(self.path, table)
        if mount is not None and mount.networked and not mount.read_only:
            raise StoreError(
                f"{str(self.path)!r} is on a network file system ({mount.type} at "
                f"{mount.point}), where a SQLite store can be damaged without any error: "
                "its write-ahead log needs memory that processes on different machines "
                "do not share, and such file systems' locks are unreliable; keep the "
                "store on a local disk, or use a PostgreSQL store (postgresql://) that "
                "many machines share"
            )

    def _migrate(self, connection: sqlite3.Connection) -> None:
        """Apply missing migrations; with several processes at once, exactly one does."""
        self._enter_wal(connection)
        connection.execute("BEGIN IMMEDIATE")
        try:
            version = self._check_identity(connection)
            for number in range(version + 1, len(MIGRATIONS) + 1):
                for statement in MIGRATIONS[number - 1]:
                    connection.execute(statement)
            if version < len(MIGRATIONS):
                connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
                connection.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
            connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise

    def _enter_wal(self, connection: sqlite3.Connection) -> None:
        """Switch the file to WAL, waiting up to the store's timeout for other openers.

        The switch needs the file to itself and SQLite's busy handler does not wait for
        it, so processes opening a new store at once would fail here without the retry.
        """
        deadline = time.monotonic() + self._timeout
        pause = 0.001
        while True:
            try:
                connection.execute("PRAGMA journal_mode=WAL")
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() >= deadline:
                    raise
                time.sleep(pause)
                pause = min(pause * 2, 0.05)
            else:
                return

    def _check_identity(self, connection: sqlite3.Connection) -> int:
        # One statement reads one snapshot: read apart, another process creating the
        # store between them looks like a foreign database (tables but no id yet).
        application_id, version, names = connection.execute(
            "SELECT (SELECT application_id FROM pragma_application_id),"
            " (SELECT user_version FROM pragma_user_version),"
            " (SELECT json_group_array(name) FROM"
            "  (SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name))"
        ).fetchone()
        tables: list[str] = json.loads(names)
        if application_id == 0 and not tables:
            return 0
        if application_id != APPLICATION_ID:
            shown = ", ".join(tables[:5]) or "none"
            raise StoreError(
                f"{str(self.path)!r} is a SQLite database of another program (tables: "
                f"{shown}), not a strategy-experiments store; choose another path"
            )
        if version > len(MIGRATIONS):
            raise SchemaError(
                f"{str(self.path)!r} was written by a newer strategy-experiments (store "
                f"schema {version}; this version reads up to {len(MIGRATIONS)}); upgrade: "
                "pip install --upgrade strategy-experiments"
            )
        return int(version)

    def _after_fork(self) -> None:
        """In a child of fork(): connections of its own; the parent's are never touched.

        SQLite forbids using a connection in a child process, closing it included: the
        parent's are kept (never used, never closed) until the child ends.
        """
        if self._pid == os.getpid():
            return
        _INHERITED.extend(self._connections)
        self._connections = []
        self._local = threading.local()
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def _connection(self, *, write: bool = False) -> sqlite3.Connection:
        self._check_open()
        self._after_fork()
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None:
            return connection
        if not self._ready:
            with self._lock:
                ready = self._ready
            if not ready:
                if not write and not _access.present(self.path):
                    raise self._missing()
                self._prepare(create=write and self._create is not False)
                return self._local.connection  # type: ignore[no-any-return]
        connection = self._open(create=False)
        self._local.connection = connection
        return connection

    def _reader(self) -> sqlite3.Connection:
        """A second connection per thread for streaming reads, so writes can go on."""
        self._after_fork()
        reader: sqlite3.Connection | None = getattr(self._local, "reader", None)
        if reader is None:
            self._connection()
            reader = self._open(create=False)
            self._local.reader = reader
        return reader

    def _close(self) -> None:
        self._after_fork()
        if self._erasure_pending:
            connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
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

    def _decode_row(self, text: str | None, where: str) -> Mapping[str, Any]:
        if not isinstance(text, str | bytes):  # a current revision with no version stored
            raise StoreError(f"{self._where()}: {where} has no data for its current revision")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise StoreError(f"{self._where()}: {where} holds unreadable data ({exc})") from None
        if not isinstance(data, dict):
            raise StoreError(f"{self._where()}: {where} holds data that is not a record")
        return data

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> Iterator[tuple[Any, ...]]:
        try:
            cursor = self._reader().execute(sql, tuple(params))
            while True:
                rows = cursor.fetchmany(512)
                if not rows:
                    return
                yield from rows
        except _DRIVER_ERRORS as exc:
            raise self._error(exc) from None

    def _load(self, id: str) -> Mapping[str, Any] | None:  # noqa: A002 - it is an id
        try:
            row = (
                self._connection()
                .execute("SELECT data FROM current WHERE id = ?", (id,))
                .fetchone()
            )
        except _DRIVER_ERRORS as exc:
            raise self._error(exc) from None
        return None if row is None else self._decode_row(row[0], f"record {id!r}")

    def _load_versions(self, id: str) -> list[Mapping[str, Any]]:  # noqa: A002
        try:
            rows = (
                self._connection()
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

    def _select(
        self,
        kind: str | None,
        where: BoundExpr | None,
        orders: tuple[Order, ...],
        limit: int | None,
        offset: int,
        include_deleted: bool,
    ) -> Iterator[Mapping[str, Any]]:
        self._connection()  # fail now, not at the first next(), when there is no store
        sql, params = _sql.select_sql(
            _DIALECT, "current", kind, where, orders, limit, offset, include_deleted
        )
        return (self._decode_row(row[0], "a record") for row in self._rows(sql, params))

    def _aggregate(
        self,
        kind: str | None,
        where: BoundExpr | None,
        group_by: list[tuple[str, FieldInfo]],
        measures: dict[str, BoundMeasure],
        include_deleted: bool,
    ) -> Iterable[dict[str, Any]]:
        self._connection()
        sql, params, labels = _sql.aggregate_sql(
            _DIALECT, "current", kind, where, group_by, measures, include_deleted
        )
        return (dict(zip(labels, row)) for row in self._rows(sql, params))  # noqa: B905

    def _verify_storage(self) -> Iterator[Damage | Mapping[str, Any]]:
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
        for record_id, revision, text in rows:
            try:
                data = json.loads(text)
            except ValueError as exc:
                yield Damage(
                    f"{self.path}: record {record_id!r} revision {revision}",
                    f"unreadable JSON ({exc})",
                    record_id,
                )
                continue
            yield data

    # --- writing ------------------------------------------------------------------

    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        connection = self._connection(write=True)
        results: list[Any] = []
        purged = False
        try:
            connection.execute("BEGIN IMMEDIATE")
        except _DRIVER_ERRORS as exc:
            raise self._error(exc) from None
        try:
            fresh: list[Put] = []  # a run of new records, inserted with executemany
            for change in changes:
                if isinstance(change, Put) and change.expected == 0:
                    fresh.append(change)
                    continue
                if fresh:
                    results.extend(self._insert_many(connection, fresh))
                    fresh = []
                if isinstance(change, Put):
                    results.append(self._put(connection, change))
                elif isinstance(change, Purge):
                    results.append(self._purge(connection, change.id))
                    purged = True
                elif isinstance(change, ImportVersion):
                    results.append(self._import(connection, change))
                else:  # pragma: no cover - Change admits nothing else
                    raise TypeError(change)  # noqa: TRY301 - rolled back like any failure
            if fresh:
                results.extend(self._insert_many(connection, fresh))
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            if isinstance(exc, _DRIVER_ERRORS):
                raise self._error(exc) from None
            raise
        if purged or self._erasure_pending:
            self._forget_purged(connection)
        return results

    def _insert_many(self, connection: sqlite3.Connection, puts: list[Put]) -> list[Any]:
        """Insert new records in two statements; on a clash, find it one by one."""
        if len(puts) == 1:
            return [self._put(connection, puts[0])]
        pointers: dict[str, list[tuple[Any, ...]]] = defaultdict(list)  # by statement
        for put in puts:
            record = put.record
            sql = _sql_for(record)
            pointers[sql.insert].append(
                (
                    record.id,
                    record.kind,
                    record.revision,
                    int(record.deleted_at is not None),
                    *_hot_values(sql.plan, put.data),
                )
            )
        connection.execute("SAVEPOINT fresh_records")
        try:
            for statement, rows in pointers.items():
                connection.executemany(statement, rows)
            connection.executemany(
                "INSERT INTO versions (id, revision, data) VALUES (?, ?, ?)",
                [(put.record.id, put.record.revision, dumps(put.data)) for put in puts],
            )
        except sqlite3.IntegrityError:
            connection.execute("ROLLBACK TO fresh_records")
            connection.execute("RELEASE fresh_records")
            return [self._put(connection, put) for put in puts]  # raises the precise conflict
        connection.execute("RELEASE fresh_records")
        return [put.record for put in puts]

    def _put(self, connection: sqlite3.Connection, change: Put) -> Any:
        record = change.record
        text = dumps(change.data)
        deleted = 0 if record.deleted_at is None else 1
        sql = _sql_for(record)
        if not change.expected:
            try:
                connection.execute(
                    sql.insert,
                    (
                        record.id,
                        record.kind,
                        record.revision,
                        deleted,
                        *_hot_values(sql.plan, change.data),
                    ),
                )
            except sqlite3.IntegrityError:
                row = connection.execute(
                    "SELECT revision, data FROM current WHERE id = ?", (record.id,)
                ).fetchone()
                if change.expected is None:
                    return from_data(self._decode_row(row[1], f"record {record.id!r}"))
                raise conflict(record, 0, row[0]) from None
        else:
            updated = connection.execute(
                sql.update,
                (
                    record.revision,
                    deleted,
                    *_hot_values(sql.plan, change.data),
                    record.id,
                    change.expected,
                    record.kind,
                ),
            )
            if updated.rowcount != 1:
                row = connection.execute(
                    "SELECT revision, kind FROM records WHERE id = ?", (record.id,)
                ).fetchone()
                if row is not None and row[1] != record.kind:
                    raise other_kind(record, row[1])
                raise conflict(record, change.expected, 0 if row is None else row[0])
        try:
            connection.execute(
                "INSERT INTO versions (id, revision, data) VALUES (?, ?, ?)",
                (record.id, record.revision, text),
            )
        except sqlite3.IntegrityError:
            raise ConflictError(
                f"{record.label()} revision {record.revision} is already in the history of "
                f"{self._where()}; the store is inconsistent, run `experiments verify`"
            ) from None
        return record

    def _purge(self, connection: sqlite3.Connection, record_id: str) -> str | None:
        row = connection.execute("SELECT kind FROM records WHERE id = ?", (record_id,)).fetchone()
        connection.execute("DELETE FROM versions WHERE id = ?", (record_id,))
        connection.execute("DELETE FROM records WHERE id = ?", (record_id,))
        return None if row is None else str(row[0])

    def _import(self, connection: sqlite3.Connection, change: ImportVersion) -> bool:
        record = change.record
        text = dumps(change.data)
        stored = connection.execute(
            "SELECT kind FROM records WHERE id = ?", (record.id,)
        ).fetchone()
        if stored is not None and stored[0] != record.kind:
            raise other_kind(record, stored[0])
        row = connection.execute(
            "SELECT data FROM versions WHERE id = ? AND revision = ?", (record.id, record.revision)
        ).fetchone()
        if row is not None:
            if json.loads(row[0]) != json.loads(text):
                raise import_conflict(record)
            return False
        connection.execute(
            "INSERT INTO versions (id, revision, data) VALUES (?, ?, ?)",
            (record.id, record.revision, text),
        )
        sql = _sql_for(record)
        connection.execute(
            sql.upsert,
            (
                record.id,
                record.kind,
                record.revision,
                int(record.deleted_at is not None),
                *_hot_values(sql.plan, change.data),
            ),
        )
        return True

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


def _forget_parents_connections() -> None:
    for store in list(_OPEN):
        store._after_fork()  # noqa: SLF001 - the module's own class


os.register_at_fork(after_in_child=_forget_parents_connections)


def _has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def _uri_path(path: Path) -> str:
    text = os.fspath(path.absolute())
    for char, escaped in (("%", "%25"), ("?", "%3f"), ("#", "%23")):
        text = text.replace(char, escaped)
    return text
