"""Many teams, one server: records in a PostgreSQL database every team's scripts share.

``postgresql://user:password@host:5432/database`` (or ``postgres://``) opens the store in
the database's ``public`` schema.  Besides libpq's own connection parameters
(``sslmode``, ``connect_timeout``, ``application_name``, ...), the URL takes:

``?schema=programme_2026``
    The PostgreSQL schema (namespace) that holds the store's tables, so that several
    programmes can share one database.  It is created with the store if it is missing.
``?pool_min=1`` and ``?pool_max=10``
    How many connections this store keeps open at least, and uses at most.
``?pool_timeout=30``
    Seconds to wait for a free connection (or for the server) before giving up.

The layout mirrors the SQLite backend: ``records`` holds the current version of each
record, ``versions`` every version, ``experiments_migrations`` the store schema versions
applied.  The exact JSON text is the source of truth (``data``), so numbers read back as
they were written; queries and aggregation run in SQL over a ``jsonb`` copy of the
current version (``doc``).  Writes take one READ COMMITTED transaction each, with the
revision in the ``WHERE`` clause of every update, so no update is ever lost.  Schema
migrations run under an advisory lock, so that clients connecting at once to a new or
older store apply them exactly once.  Passwords never appear in messages, logs or
``repr``: the store is named by its redacted URL everywhere.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import threading
from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from typing import Any, ClassVar, Final

import psycopg
from psycopg.conninfo import conninfo_to_dict

from experiments import __version__
from experiments.errors import (
    ExperimentsError,
    StoreError,
)
from experiments.query import (
    BoundMeasure,
    FieldInfo,
)
from experiments.stores import _postgres_writes
from experiments.stores._postgres_connect import (
    MIN_SERVER,
    OPTIONS,
    Pool,
    configure,
    connect_failure,
    failure_of,
    lock_key,
    lost,
    quote_ident,
    scrub,
    settings,
)
from experiments.stores._postgres_dialect import DIALECT, converters
from experiments.stores._postgres_layout import MIGRATIONS, views
from experiments.stores._postgres_snapshot import Held, held_rows, snapshot
from experiments.stores._refusals import newer_layout
from experiments.stores._sqlstore import Converter, SQLStore, versions_read
from experiments.stores.changes import Change, Damage, ImportVersion, Put, SetSetting

__all__ = ["MIGRATIONS", "PostgresStore"]

#: New records inserted by one statement at most.
_CHUNK: Final = 1000

_log = logging.getLogger(__name__)


class PostgresStore(SQLStore[psycopg.Cursor[Any]]):
    """Records in a PostgreSQL database; see the module documentation for URL options."""

    scheme: ClassVar[str] = "postgresql"
    dialect = DIALECT

    def _setup(self, create: bool | None) -> None:
        url = self.url
        self.settings = settings(url)
        self.schema = self.settings.schema
        self.schema_sql = quote_ident(self.schema)
        """The schema's name as SQL writes it (quoted)."""
        self.current_table = f"{self.schema_sql}.records"
        self._create = create
        self._lock = threading.Lock()
        self._pool: Pool | None = None
        self._ready = False
        self._cursors = itertools.count()
        self._snapshot_held = Held()  # the connection of this thread's reading() block
        failure: StoreError | None
        try:
            conninfo_to_dict(self.settings.conninfo)
        except psycopg.Error as exc:
            failure = StoreError(
                f"{url.redacted} is not a PostgreSQL URL libpq understands: "
                f"{scrub(str(exc), self.settings.secrets)}; write "
                "postgresql://user:password@host:5432/database?schema=name; besides "
                "libpq's parameters (sslmode, connect_timeout, ...) the URL takes "
                f"{', '.join(sorted(OPTIONS))}"
            )
        else:
            failure = None
        if failure is not None:
            raise failure
        if not self._prepare(create=bool(create)) and create is False:
            raise self._missing()

    # --- naming and errors ----------------------------------------------------------

    def _where(self) -> str:
        return f"PostgreSQL store {self.url.redacted} (schema {self.schema!r})"

    def _missing(self) -> StoreError:
        return StoreError(
            f"there is no store in schema {self.schema!r} of {self.url.redacted}; check the "
            "URL and its ?schema=, or create the store with connect(url, create=True) "
            "(a first write through connect(url) creates it too)"
        )

    def _diagnose(self) -> StoreError | None:
        """Why the pool found no connection, if the server itself is the problem."""
        try:
            with self._direct(timeout=min(self.settings.pool_timeout, 10)):
                pass
        except StoreError as exc:
            return exc
        return None

    # --- connections ----------------------------------------------------------------

    @contextlib.contextmanager
    def _direct(self, *, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A connection of its own, outside the pool: its errors say exactly what failed."""
        kwargs = dict(self.settings.kwargs)
        if timeout is not None:
            kwargs["connect_timeout"] = max(1, int(timeout))
        failure: StoreError | None
        try:
            connection = psycopg.connect(self.settings.conninfo, autocommit=True, **kwargs)
        except psycopg.Error as exc:
            failure = connect_failure(self, exc)
        else:
            failure = None
        if failure is not None:
            raise failure
        try:
            yield connection
        finally:
            connection.close()

    def _pooled(self) -> Pool:
        """The pool, opened on first use with its minimum of connections ready.

        Waiting for them, rather than letting the first request race the pool's own
        connecting, keeps that request from making the pool grow by one more.  A pool
        that cannot connect raises PoolTimeout, which :meth:`_failure` explains.
        """
        self._check_open()
        pool = self._pool
        if pool is not None:
            return pool
        with self._lock:
            if self._pool is None:
                self._check_open()
                _log.debug(
                    "opening a pool of %d to %d connections to %s",
                    self.settings.pool_min,
                    self.settings.pool_max,
                    self.url.redacted,
                )
                pool = Pool(
                    self.settings.conninfo,
                    kwargs={**self.settings.kwargs, "autocommit": True},
                    min_size=self.settings.pool_min,
                    max_size=self.settings.pool_max,
                    timeout=self.settings.pool_timeout,
                    open=False,
                    name=f"experiments-{self.schema}",
                    configure=configure,
                    num_workers=2,
                )
                try:
                    pool.open(wait=True, timeout=self.settings.pool_timeout)
                except BaseException:
                    pool.close(timeout=1)
                    raise
                self._pool = pool
            return self._pool

    def _close(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.close(timeout=5)

    # --- the schema -----------------------------------------------------------------

    def _prepare(self, *, create: bool) -> bool:
        """Check the server and the schema; migrate or create it.  Whether it is ready."""
        failure: ExperimentsError | None
        with self._direct() as connection:
            self._check_server(connection)
            doing = "checking the store's tables"
            try:
                version = self._version(connection)
                if version < len(MIGRATIONS) and (version > 0 or create):
                    doing = "creating or upgrading the store's tables"
                    self._migrate(connection)
                    version = len(MIGRATIONS)
            except psycopg.Error as exc:
                failure = failure_of(self, exc, doing)
            else:
                failure = None
        if failure is not None:
            raise failure
        self._ready = version > 0
        return self._ready

    def _check_server(self, connection: psycopg.Connection[Any]) -> None:
        info = connection.info
        if info.server_version < MIN_SERVER:
            raise StoreError(
                f"{self.url.redacted} runs PostgreSQL {info.server_version // 10000}; "
                "strategy-experiments needs PostgreSQL 12 or newer"
            )
        encoding = info.parameter_status("server_encoding")
        if encoding is not None and encoding.upper() not in ("UTF8", "UTF-8"):
            raise StoreError(
                f"the database of {self.url.redacted} uses the encoding {encoding}, "
                "which cannot hold every text a record may contain; create it with "
                "ENCODING 'UTF8'"
            )

    def _version(self, connection: psycopg.Connection[Any]) -> int:
        """The store schema version in our schema: 0 if none; refuses foreign tables."""
        # A query of the catalog, not to_regclass(): after waiting for the migration
        # lock, the backend's cache may still say a table another client just made is
        # not there, while a query sees everything committed before it started.
        rows = connection.execute(
            "SELECT c.relname FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = ANY(%s)",
            (self.schema, ["experiments_migrations", "records", "versions"]),
        ).fetchall()
        present = {str(row[0]) for row in rows}
        if "experiments_migrations" not in present:
            if present:
                raise StoreError(
                    f"schema {self.schema!r} of {self.url.redacted} already has a table "
                    f"{' and '.join(sorted(present))} that is not a strategy-experiments "
                    "store; choose another schema with ?schema=name in the URL"
                )
            return 0
        found = connection.execute(
            f"SELECT coalesce(max(version), 0) FROM {self.schema_sql}.experiments_migrations"
        ).fetchone()
        version = int(found[0]) if found is not None else 0
        if version > len(MIGRATIONS):
            where = f"schema {self.schema!r} of {self.url.redacted}"
            raise newer_layout(where, "store schema", version, len(MIGRATIONS))
        return version

    def _migrate(self, connection: psycopg.Connection[Any]) -> None:
        """Apply missing migrations; with many clients at once, exactly one does."""
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(self.schema),))
            version = self._version(connection)
            if version >= len(MIGRATIONS):
                return
            exists = connection.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchone()
            if exists is None:
                connection.execute(f"CREATE SCHEMA {self.schema_sql}")
            for number in range(version + 1, len(MIGRATIONS) + 1):
                _log.debug("applying store schema %d to %s", number, self._where())
                for step in MIGRATIONS[number - 1]:
                    if isinstance(step, str):
                        connection.execute(step.format(s=self.schema_sql))
                    else:
                        step(connection, self.schema_sql)
                connection.execute(
                    f"INSERT INTO {self.schema_sql}.experiments_migrations (version, library) "
                    "VALUES (%s, %s)",
                    (number, __version__),
                )
            for statement in views():  # the analyst's views, as this release makes them
                connection.execute(statement.format(s=self.schema_sql))

    def _ensure(self, *, write: bool = False) -> None:
        """Fail now if the store is closed or missing; create it for a first write."""
        self._check_open()
        if self._ready:
            return
        with self._lock:
            if not self._ready:
                self._prepare(create=write and self._create is not False)
        if not self._ready:
            raise self._missing()

    def exists(self) -> bool:
        if self._ready:
            return True
        with self._lock:
            return self._prepare(create=False)

    # --- running SQL ----------------------------------------------------------------

    def _refresh(self, exc: psycopg.Error) -> bool:
        """Whether to try again after ``exc``: a pooled connection found dead.

        Idle connections die unnoticed (a server restart, an administrator, a firewall's
        idle timeout); the first use finds out.  Rather than test every connection before
        every use, which costs a round trip each time, a call that finds one dead before
        doing anything has the pool weed out the dead ones and tries once more.
        """
        if not lost(exc):
            return False
        pool = self._pool
        if pool is not None:
            with contextlib.suppress(psycopg.Error):
                pool.check()
        return True

    def _snapshot(self) -> contextlib.AbstractContextManager[None]:
        return snapshot(self)

    def _fetch(self, doing: str, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a short query, on a pooled connection (the snapshot's, if held)."""
        held = self._snapshot_held.connection
        if held is not None:
            try:
                return held.execute(sql, tuple(params)).fetchall()
            except psycopg.Error as exc:
                raise failure_of(self, exc, doing) from None
        for attempt in (1, 2):
            try:
                with self._pooled().connection() as connection:
                    rows = connection.execute(sql, tuple(params)).fetchall()
            except psycopg.Error as exc:
                if attempt == 1 and self._refresh(exc):
                    continue
                failure = failure_of(self, exc, doing)
            else:
                return rows
            raise failure
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _stream(
        self, doing: str, sql: str, params: Iterable[Any] = ()
    ) -> Iterator[tuple[Any, ...]]:
        """Rows of a query through a server-side cursor, holding one connection meanwhile."""
        started = False
        for attempt in (1, 2):
            rows = self._stream_rows(sql, tuple(params))
            try:
                for row in rows:
                    started = True
                    yield row
            except psycopg.Error as exc:
                if attempt == 1 and not started and self._refresh(exc):
                    continue
                failure = failure_of(self, exc, doing)
            else:
                return
            finally:
                # Closing a result left half-read ends its cursor and transaction now,
                # not in a finalizer; if the connection is gone meanwhile, so are they.
                with contextlib.suppress(psycopg.Error):
                    rows.close()
            raise failure

    def _stream_rows(
        self, sql: str, params: tuple[Any, ...]
    ) -> Generator[tuple[Any, ...], None, None]:
        name = f"experiments_{next(self._cursors)}"
        if self._snapshot_held.connection is not None:  # inside the snapshot's transaction
            yield from held_rows(self, name, sql, params)
            return
        with (
            self._pooled().connection() as connection,
            connection.transaction(),
            connection.cursor(name=name) as cursor,
        ):
            cursor.itersize = 2000
            cursor.execute(sql, params)
            yield from cursor

    # --- reading ----------------------------------------------------------------------

    def _load(self, id: str) -> Mapping[str, Any] | None:  # noqa: A002 - it is an id
        self._ensure()
        rows = self._fetch(
            f"reading {id!r}", f"SELECT data FROM {self.schema_sql}.records WHERE id = %s", (id,)
        )
        return self._decode_row(rows[0][0], f"record {id!r}") if rows else None

    def _load_many(self, ids: Sequence[str]) -> Mapping[str, Mapping[str, Any]]:
        # One round trip across the network for every candidate a reference may name.
        self._ensure()
        rows = self._fetch(
            f"reading {len(ids)} records",
            f"SELECT id, data FROM {self.schema_sql}.records WHERE id = ANY(%s)",
            (list(ids),),
        )
        return {rid: self._decode_row(text, f"record {rid!r}") for rid, text in rows}

    def _load_versions(self, id: str) -> list[Mapping[str, Any]]:  # noqa: A002 - it is an id
        self._ensure()
        rows = self._fetch(
            f"reading the history of {id!r}",
            f"SELECT revision, data FROM {self.schema_sql}.versions WHERE id = %s "
            "ORDER BY revision",
            (id,),
        )
        return [self._decode_row(data, f"record {id!r} revision {rev}") for rev, data in rows]

    def _scan(self, kind: str | None) -> Iterator[Mapping[str, Any]]:
        self._ensure()
        if kind is None:
            rows = self._stream(
                "reading records", f"SELECT id, data FROM {self.schema_sql}.records ORDER BY id"
            )
        else:
            rows = self._stream(
                "reading records",
                f"SELECT id, data FROM {self.schema_sql}.records WHERE kind = %s ORDER BY id",
                (kind,),
            )
        return (self._decode_row(text, f"record {record_id!r}") for record_id, text in rows)

    def _scan_versions(self) -> Iterator[Mapping[str, Any]]:
        self._ensure()
        rows = self._stream(
            "reading every version",
            f"SELECT id, revision, data FROM {self.schema_sql}.versions ORDER BY id, revision",
        )
        return (
            self._decode_row(text, f"record {record_id!r} revision {revision}")
            for record_id, revision, text in rows
        )

    def _count_versions(self) -> int:
        self._ensure()
        rows = self._fetch("counting versions", f"SELECT count(*) FROM {self.schema_sql}.versions")
        return int(rows[0][0])

    def _read(self, doing: str, sql: str, params: Sequence[Any]) -> Iterator[tuple[Any, ...]]:
        self._ensure()
        return self._stream(doing, sql, params)

    def _converters(
        self, group_by: list[tuple[str, FieldInfo]], measures: dict[str, BoundMeasure]
    ) -> list[tuple[int, Converter]]:
        return converters(group_by, measures)

    def _verify_storage(self) -> Iterator[Damage | Mapping[str, Any]]:
        try:
            self._ensure()
            adrift = self._fetch(
                "verifying",
                f"SELECT r.id, r.revision FROM {self.schema_sql}.records r "
                f"LEFT JOIN {self.schema_sql}.versions v "
                "ON v.id = r.id AND v.revision = r.revision "
                "WHERE v.id IS NULL OR v.data <> r.data ORDER BY r.id",
            )
            rows = self._stream(
                "verifying",
                f"SELECT id, revision, data FROM {self.schema_sql}.versions ORDER BY id, revision",
            )
            for record_id, revision in adrift:
                yield Damage(
                    f"{self._where()}: record {record_id!r}",
                    f"its current version (revision {revision}) is not the one in its history",
                    record_id,
                )
            yield from versions_read(rows, self._where())
        except StoreError as exc:
            yield Damage(self._where(), str(exc))

    # --- writing ----------------------------------------------------------------------

    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        self._ensure(write=True)
        changes = list(changes)  # a connection lost at BEGIN is tried again: read it twice
        for attempt in (1, 2):
            results: list[Any] = []
            begun = committing = False
            try:
                with (
                    self._pooled().connection() as connection,
                    connection.transaction(),
                    connection.cursor() as cursor,
                ):
                    begun = True
                    results = self._apply_changes(cursor, changes, run=_CHUNK)
                    committing = True
            except psycopg.Error as exc:
                # A connection found dead at BEGIN has done nothing: safe to try again.
                if attempt == 1 and not begun and self._refresh(exc):
                    continue
                failure = failure_of(self, exc, "writing", writing=True, committing=committing)
            else:
                return results
            raise failure
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def vacuum_statements(self) -> tuple[str, ...]:
        """What an operator runs after an erasure so that no old row holds erased data.

        ``VACUUM FULL`` rewrites the tables (and their TOAST tables and indexes) without
        the dead rows; ``CHECKPOINT`` lets the server recycle the write-ahead log that
        still holds them.  Both lock or load the server: run them in a quiet moment.
        """
        tables = ", ".join(f"{self.schema_sql}.{t}" for t in ("records", "versions"))
        return (f"VACUUM (FULL, ANALYZE) {tables}", "CHECKPOINT")

    def _free_erased(self, *, vacuum: bool) -> str:
        statements = self.vacuum_statements()
        if not vacuum:
            return (
                "PostgreSQL keeps the old rows in the table files until they are vacuumed, "
                f"and in its write-ahead log until it is recycled: run {'; '.join(statements)} "
                "(or `experiments erase --vacuum`)"
            )
        vacuum_full, checkpoint = statements
        try:
            with self._pooled().connection() as connection:
                connection.execute(vacuum_full)
                try:
                    connection.execute(checkpoint)
                except psycopg.errors.InsufficientPrivilege:
                    checkpointed = False
                else:
                    checkpointed = True
        except psycopg.Error as exc:
            raise failure_of(self, exc, "vacuuming after the erasure, which is committed") from None
        done = (
            "the server checkpointed"
            if checkpointed
            else f"a superuser (or a role with pg_checkpoint) must still run {checkpoint}"
        )
        return (
            f"the tables were rewritten without the old rows ({vacuum_full}) and {done}; old "
            "write-ahead log segments are recycled by the server, and backups, archives and "
            "replicas still hold what they copied"
        )

    def _insert_many(self, cursor: psycopg.Cursor[Any], puts: list[Put]) -> list[Any]:
        return _postgres_writes.insert_many(self, cursor, puts)

    def _put(self, cursor: psycopg.Cursor[Any], change: Put) -> Any:
        return _postgres_writes.put_one(self, cursor, change)

    def _current_revision(self, cursor: psycopg.Cursor[Any], record_id: str) -> int | None:
        row = cursor.execute(
            f"SELECT revision FROM {self.schema_sql}.records WHERE id = %s FOR UPDATE",
            (record_id,),
        ).fetchone()
        return None if row is None else int(row[0])

    def _purge(self, cursor: psycopg.Cursor[Any], record_id: str) -> str | None:
        return _postgres_writes.purge(self, cursor, record_id)

    def _make_now(self) -> None:
        self._ensure(write=True)

    def _setting(self, name: str) -> str | None:
        if not self.exists():
            return None
        rows = self._fetch(
            "reading its settings",
            f"SELECT value FROM {self.schema_sql}.settings WHERE name = %s",
            (name,),
        )
        return str(rows[0][0]) if rows else None

    def _store_setting(self, cursor: psycopg.Cursor[Any], change: SetSetting) -> None:
        _postgres_writes.store_setting(self, cursor, change)

    def _import(self, cursor: psycopg.Cursor[Any], change: ImportVersion) -> bool:
        return _postgres_writes.import_version(self, cursor, change)
