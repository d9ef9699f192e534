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
import decimal
import hashlib
import itertools
import json
import logging
import random
import re
import threading
import urllib.parse
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final, cast

import attrs
import psycopg
from psycopg import IsolationLevel
from psycopg.conninfo import conninfo_to_dict
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from experiments import __version__
from experiments.errors import (
    ConflictError,
    ExperimentsError,
    SchemaError,
    StoreError,
    StoreURLError,
)
from experiments.query import (
    All,
    AnyOf,
    Bound,
    BoundExpr,
    BoundMeasure,
    Count,
    CountDistinct,
    Expr,
    FieldInfo,
    FieldType,
    Latest,
    Not,
    Order,
    Sum,
)
from experiments.serialization import dumps, from_data
from experiments.stores import _sql
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
    other_kind,
)

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores.url import StoreURL

__all__ = ["MIGRATIONS", "PostgresStore"]

_log = logging.getLogger(__name__)

#: Scalar fields that refer to other records: the purge cascade and the roll-up look
#: records up by them, so each gets an index (these in the first layout; later fields
#: get theirs in the migration that brings them).
_REFERENCE_FIELDS: Final = (
    "experiment",
    "objective",
    "participant",
    "hypothesis",
    "key_result",
    "parent",
    "sprint",
)


def _reference_index(field: str) -> str:
    value = f"((doc ->> '{field}') COLLATE \"C\")"
    return (
        f"CREATE INDEX records_{field} ON {{s}}.records (kind, {value}) WHERE {value} IS NOT NULL"
    )


#: Store schema migrations: ``MIGRATIONS[n - 1]`` takes a schema from version n-1 to n.
#: ``{s}`` stands for the quoted schema name.  Statistics are off for the data columns:
#: the planner never needs them, and a histogram would keep samples of purged records.
MIGRATIONS: Final[tuple[tuple[str, ...], ...]] = (
    (
        """CREATE TABLE {s}.experiments_migrations (
            version integer PRIMARY KEY,
            applied_at timestamptz NOT NULL DEFAULT now(),
            applied_by text NOT NULL DEFAULT current_user,
            library text NOT NULL
        )""",
        """CREATE TABLE {s}.records (
            id text COLLATE "C" PRIMARY KEY,
            kind text COLLATE "C" NOT NULL,
            revision integer NOT NULL,
            deleted smallint NOT NULL DEFAULT 0,
            data text NOT NULL,
            doc jsonb NOT NULL
        )""",
        "CREATE INDEX records_kind ON {s}.records (kind, id)",
        *(_reference_index(field) for field in _REFERENCE_FIELDS),
        """CREATE TABLE {s}.versions (
            id text COLLATE "C" NOT NULL,
            revision integer NOT NULL,
            data text NOT NULL,
            PRIMARY KEY (id, revision)
        )""",
        "ALTER TABLE {s}.records ALTER COLUMN data SET STATISTICS 0",
        "ALTER TABLE {s}.records ALTER COLUMN doc SET STATISTICS 0",
        "ALTER TABLE {s}.versions ALTER COLUMN data SET STATISTICS 0",
    ),
    (
        # 2: a decision names the decision it revises; the purge cascade looks it up.
        _reference_index("revises"),
    ),
    (
        # 3: an experiment names the template it was made from, and a phase its sprint
        # (the sprint index covers every kind already).  The query copy of a prototype
        # shown before 3 gets the fidelity it was first shown at, as reading it gives.
        _reference_index("template"),
        """UPDATE {s}.records
            SET doc = jsonb_set(doc, '{{shown_as}}', doc -> 'fidelity')
            WHERE kind = 'prototype' AND doc ->> 'shown_at' IS NOT NULL
            AND doc ->> 'shown_as' IS NULL""",
    ),
)

#: URL options this backend reads; every other query parameter goes to libpq.
_OPTIONS: Final = frozenset({"schema", "pool_min", "pool_max", "pool_timeout"})
_SCHEMA_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_$-]{0,62}")
_MIN_SERVER: Final = 120000
_SECRET_PARAMS: Final = frozenset({"password", "passwd", "pass", "secret", "token", "sslpassword"})
_HIDDEN: Final = "***"
#: SQLSTATEs of a connection that went away mid-way: class 08, and an administrator
#: or the server shutting the session down.
_LOST: Final = frozenset({"57P01", "57P02", "57P03"})
#: New records inserted by one statement at most.
_CHUNK: Final = 1000
#: SQLSTATEs meaning another transaction got in the way: retrying is the cure.
_CONTENDED: Final = frozenset({"40001", "40P01", "55P03"})


# --- the query copy ------------------------------------------------------------------
#
# jsonb keeps numbers as exact decimals; the copy spells each float as the exact value of
# its binary form, so SQL compares and sums the very numbers Python does.  Filter values
# go in as the same exact decimals, booleans as 0 and 1.  Text needs nothing: records
# never hold NUL, the one character jsonb refuses (the model rejects it).


def _exact(number: float) -> str:
    """A float as the exact decimal value of its binary form, as JSON.

    Summing these as ``numeric`` is exact, so a pushed-down sum rounds once, like
    :func:`math.fsum`; a trailing ".0" keeps floats apart from integers.
    """
    text = str(decimal.Decimal(number))
    return text if "." in text or "E" in text else text + ".0"


_dumps: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _doc(data: Mapping[str, Any], text: str) -> str:
    """The jsonb copy of a record that queries run on, given its JSON ``text``.

    Without a float among its fields (most kinds) that is the text itself.
    """
    if not any(type(value) is float for value in data.values()):
        return text
    parts = []
    for key, value in data.items():
        rendered = _exact(value) if isinstance(value, float) else _dumps(value)
        parts.append(f"{_dumps(key)}:{rendered}")
    return "{" + ",".join(parts) + "}"


def _number(value: decimal.Decimal) -> int | float:
    """A numeric from the query copy as the int or float it was stored as."""
    return int(value) if int(value.as_tuple().exponent) >= 0 else float(value)


def _encode_value(info: FieldInfo, value: Any) -> Any:
    if isinstance(value, tuple):
        return tuple(_encode_value(info, v) for v in value)
    if value is None:
        return None
    if info.kind is FieldType.NUMBER:
        return decimal.Decimal(value)
    if info.kind is FieldType.BOOL:
        return int(value)
    return value


def _encode_filter(expr: BoundExpr | None) -> BoundExpr | None:
    """Filter values in the form the query copy stores them in."""
    return None if expr is None else cast("BoundExpr", _encoded(expr))


def _encoded(expr: Expr) -> Expr:
    if isinstance(expr, Bound):
        return attrs.evolve(expr, value=_encode_value(expr.info, expr.value))
    if isinstance(expr, All | AnyOf):
        return type(expr)(tuple(_encoded(part) for part in expr.parts))
    if isinstance(expr, Not):
        return Not(_encoded(expr.part))
    return expr


class _PostgreSQL:
    """How SQL reads fields out of the ``doc`` column in PostgreSQL.

    Text compares under the "C" collation, which is code point order in UTF-8, as in
    Python; numbers compare as exact ``numeric``; booleans as 0 and 1 (PostgreSQL has
    no MIN or MAX of booleans).
    """

    placeholder = "%s"
    lateral = "LATERAL "
    sum_function = "SUM"  # over numeric: exact
    unlimited = "ALL"

    def raw_field(self, name: str, table: str = "r") -> str:
        # JSON text of the value, decoded in Python: there is no MAX(jsonb).
        return f"(({table}.doc -> '{name}')::text)"

    def field(self, name: str, info: FieldInfo, table: str = "r") -> str:
        if name == "id":
            return f"{table}.id"
        if name == "kind":
            return f"{table}.kind"
        text = f"({table}.doc ->> '{name}')"
        if info.kind is FieldType.NUMBER:
            return f"({text}::numeric)"
        if info.kind is FieldType.BOOL:
            return f"({text}::boolean::integer)"
        if info.kind is FieldType.DATETIME:
            return f'(left({text}, 27) COLLATE "C")'
        return f'({text} COLLATE "C")'

    def _array(self, name: str, table: str) -> str:
        value = f"{table}.doc -> '{name}'"
        return f"(CASE WHEN jsonb_typeof({value}) = 'array' THEN {value} END)"

    def list_elements(self, name: str, alias: str, table: str = "r") -> str:
        return f"jsonb_array_elements_text({self._array(name, table)}) AS {alias}(value)"

    def list_length(self, name: str, table: str = "r") -> str:
        return f"jsonb_array_length({self._array(name, table)})"

    def false(self) -> str:
        return "FALSE"

    def order(self, expression: str, *, descending: bool) -> str:
        return f"{expression} DESC NULLS LAST" if descending else f"{expression} ASC NULLS FIRST"


_DIALECT: Final = _PostgreSQL()


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lock_key(schema: str) -> int:
    """The advisory lock that serialises migrations of one schema (per database)."""
    digest = hashlib.blake2b(f"strategy-experiments/{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@attrs.frozen
class _Settings:
    """What a URL says: where to connect (secret), and this backend's options."""

    conninfo: str = attrs.field(repr=False)
    kwargs: dict[str, Any]
    secrets: tuple[str, ...] = attrs.field(repr=False)
    schema: str
    pool_min: int
    pool_max: int
    pool_timeout: float


def _settings(url: StoreURL) -> _Settings:
    parts = urllib.parse.urlsplit(url.raw)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in pairs if k in _OPTIONS}
    theirs = [(k, v) for k, v in pairs if k not in _OPTIONS]
    secrets = {v for k, v in pairs if k.lower() in _SECRET_PARAMS}
    secrets.update(urllib.parse.quote(s, safe="") for s in list(secrets))
    if parts.password:
        secrets.add(parts.password)
        secrets.add(urllib.parse.unquote(parts.password))
    # Spelled out: urlunsplit() would drop the // of a URL without a host (a socket).
    query = urllib.parse.urlencode(theirs)
    conninfo = f"postgresql://{parts.netloc}{parts.path}" + (f"?{query}" if query else "")
    schema = ours.get("schema", "public")
    if not _SCHEMA_NAME.fullmatch(schema) or schema.lower().startswith("pg_"):
        raise StoreURLError(
            f"{url.redacted}: schema={schema!r} is not a usable schema name; use letters, "
            "digits, _ and -, at most 63, not starting with a digit or pg_"
        )

    def number(name: str, default: str, low: float) -> float:
        try:
            value = float(ours.get(name, default))
        except ValueError:
            value = low - 1
        if not low <= value < float("inf"):
            raise StoreURLError(f"{url.redacted}: {name} must be a number of at least {low:g}")
        return value

    pool_min = int(number("pool_min", "1", 0))
    pool_max = int(number("pool_max", "10", 1))
    if pool_max < pool_min:
        raise StoreURLError(f"{url.redacted}: pool_max must be at least pool_min ({pool_min})")
    kwargs: dict[str, Any] = {"client_encoding": "UTF8"}
    given = {k for k, _ in theirs}
    if "application_name" not in given:
        kwargs["application_name"] = "strategy-experiments"
    if "connect_timeout" not in given:
        kwargs["connect_timeout"] = 10
    return _Settings(
        conninfo=conninfo,
        kwargs=kwargs,
        secrets=tuple(sorted((s for s in secrets if s), key=len, reverse=True)),
        schema=schema,
        pool_min=pool_min,
        pool_max=pool_max,
        pool_timeout=number("pool_timeout", "30", 0.1),
    )


def _configure(connection: psycopg.Connection[Any]) -> None:
    connection.isolation_level = IsolationLevel.READ_COMMITTED


class _Pool(ConnectionPool[psycopg.Connection[Any]]):
    """A pool whose worker threads draw their jitter from a generator of their own.

    psycopg_pool spreads connection lifetimes with the process-wide ``random``, from
    background threads: a script that seeds ``random`` to repeat an analysis would get
    different numbers depending on when the pool happened to connect.
    """

    _random: ClassVar[random.Random] = random.Random()  # noqa: S311 - jitter, not secrets

    @classmethod
    def _jitter(cls, value: float, min_pc: float, max_pc: float) -> float:
        return value * (1.0 + ((max_pc - min_pc) * cls._random.random()) + min_pc)


class PostgresStore(Store):
    """Records in a PostgreSQL database; see the module documentation for URL options."""

    scheme: ClassVar[str] = "postgresql"
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
        self._settings = _settings(url)
        self.schema = self._settings.schema
        self._s = _quote_ident(self.schema)
        self._create = create
        self._lock = threading.Lock()
        self._pool: _Pool | None = None
        self._ready = False
        self._cursors = itertools.count()
        failure: StoreError | None
        try:
            conninfo_to_dict(self._settings.conninfo)
        except psycopg.Error as exc:
            failure = StoreError(
                f"{url.redacted} is not a PostgreSQL URL libpq understands: "
                f"{self._scrub(str(exc))}; write "
                "postgresql://user:password@host:5432/database?schema=name; besides "
                "libpq's parameters (sslmode, connect_timeout, ...) the URL takes "
                f"{', '.join(sorted(_OPTIONS))}"
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

    def _scrub(self, text: str) -> str:
        """Driver text on one line, with every secret of the URL masked."""
        for secret in self._settings.secrets:
            text = text.replace(secret, _HIDDEN)
        return " ".join(text.split())

    def _missing(self) -> StoreError:
        return StoreError(
            f"there is no store in schema {self.schema!r} of {self.url.redacted}; check the "
            "URL and its ?schema=, or create the store with connect(url, create=True) "
            "(a first write through connect(url) creates it too)"
        )

    def _failure(
        self, exc: Exception, doing: str, *, writing: bool = False, committing: bool = False
    ) -> ExperimentsError:
        """The error to raise for a driver error: scrubbed, and saying what to do.

        Driver errors are never chained: their text, scrubbed of secrets, is in ours.
        """
        message = self._scrub(str(exc))
        state = getattr(exc, "sqlstate", None) or ""
        if isinstance(exc, PoolTimeout):
            found = self._diagnose()
            if found is not None:
                return found
            return StoreError(
                f"no free connection to {self.url.redacted} within "
                f"{self._settings.pool_timeout:g}s while {doing}: every one of this store's "
                f"connections (pool_max={self._settings.pool_max}) is in use, by other "
                "threads or by query results not read to the end; finish or close those "
                "iterators, or raise ?pool_max= in the URL"
            )
        if isinstance(exc, PoolClosed):
            return StoreError(f"store {self.url.redacted} is closed; open it again with connect()")
        if state in _CONTENDED:
            return ConflictError(
                f"{self._where()}: another transaction got in the way while {doing} "
                f"({message}); nothing was written, try again"
            )
        if state == "42501":
            return StoreError(
                f"{self._where()}: the role is not allowed to do this while {doing} "
                f"({message}); grant it the privileges listed in the documentation "
                "('Many teams, one server')"
            )
        if _lost(exc):
            if committing:
                outcome = (
                    "it is unknown whether the write was committed: read the records back "
                    "before retrying (a retried save of the same revision raises "
                    "ConflictError if it was stored)"
                )
            elif writing:
                outcome = "nothing of this write was committed; it can simply be retried"
            else:
                outcome = "try again"
            return StoreError(
                f"the connection to {self.url.redacted} was lost while {doing} ({message}); "
                f"{outcome}. The next call connects again."
            )
        return StoreError(f"{self._where()}: {doing} failed: {message}")

    def _connect_failure(self, exc: Exception) -> StoreError:
        message = self._scrub(str(exc))
        lowered = message.lower()
        if "password" in lowered or "authentication" in lowered:
            hint = (
                "check the user name and password in the URL (or in PGPASSWORD or "
                "~/.pgpass), and that the server's pg_hba.conf lets this user in"
            )
        elif "resolve" in lowered or "translate host name" in lowered:
            hint = "check the host name in the URL"
        elif "refused" in lowered or "timeout" in lowered or "timed out" in lowered:
            hint = "check the host and port, and that the server is running and reachable"
        elif "does not exist" in lowered:
            hint = "check the database and user names; a database administrator creates them"
        else:
            hint = "check the URL and that the server is running"
        return StoreError(f"cannot connect to {self.url.redacted}: {message}; {hint}")

    def _diagnose(self) -> StoreError | None:
        """Why the pool found no connection, if the server itself is the problem."""
        try:
            with self._direct(timeout=min(self._settings.pool_timeout, 10)):
                pass
        except StoreError as exc:
            return exc
        return None

    # --- connections ----------------------------------------------------------------

    @contextlib.contextmanager
    def _direct(self, *, timeout: float | None = None) -> Iterator[psycopg.Connection[Any]]:
        """A connection of its own, outside the pool: its errors say exactly what failed."""
        kwargs = dict(self._settings.kwargs)
        if timeout is not None:
            kwargs["connect_timeout"] = max(1, int(timeout))
        failure: StoreError | None
        try:
            connection = psycopg.connect(self._settings.conninfo, autocommit=True, **kwargs)
        except psycopg.Error as exc:
            failure = self._connect_failure(exc)
        else:
            failure = None
        if failure is not None:
            raise failure
        try:
            yield connection
        finally:
            connection.close()

    def _pooled(self) -> _Pool:
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
                    self._settings.pool_min,
                    self._settings.pool_max,
                    self.url.redacted,
                )
                pool = _Pool(
                    self._settings.conninfo,
                    kwargs={**self._settings.kwargs, "autocommit": True},
                    min_size=self._settings.pool_min,
                    max_size=self._settings.pool_max,
                    timeout=self._settings.pool_timeout,
                    open=False,
                    name=f"experiments-{self.schema}",
                    configure=_configure,
                    num_workers=2,
                )
                try:
                    pool.open(wait=True, timeout=self._settings.pool_timeout)
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
                failure = self._failure(exc, doing)
            else:
                failure = None
        if failure is not None:
            raise failure
        self._ready = version > 0
        return self._ready

    def _check_server(self, connection: psycopg.Connection[Any]) -> None:
        info = connection.info
        if info.server_version < _MIN_SERVER:
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
            f"SELECT coalesce(max(version), 0) FROM {self._s}.experiments_migrations"
        ).fetchone()
        version = int(found[0]) if found is not None else 0
        if version > len(MIGRATIONS):
            raise SchemaError(
                f"schema {self.schema!r} of {self.url.redacted} was written by a newer "
                f"strategy-experiments (store schema {version}; this version reads up to "
                f"{len(MIGRATIONS)}); upgrade: pip install --upgrade strategy-experiments"
            )
        return version

    def _migrate(self, connection: psycopg.Connection[Any]) -> None:
        """Apply missing migrations; with many clients at once, exactly one does."""
        with connection.transaction():
            connection.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(self.schema),))
            version = self._version(connection)
            if version >= len(MIGRATIONS):
                return
            exists = connection.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (self.schema,)
            ).fetchone()
            if exists is None:
                connection.execute(f"CREATE SCHEMA {self._s}")
            for number in range(version + 1, len(MIGRATIONS) + 1):
                _log.debug("applying store schema %d to %s", number, self._where())
                for statement in MIGRATIONS[number - 1]:
                    connection.execute(statement.format(s=self._s))
                connection.execute(
                    f"INSERT INTO {self._s}.experiments_migrations (version, library) "
                    "VALUES (%s, %s)",
                    (number, __version__),
                )

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
        if not _lost(exc):
            return False
        pool = self._pool
        if pool is not None:
            with contextlib.suppress(psycopg.Error):
                pool.check()
        return True

    def _fetch(self, doing: str, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Every row of a short query, on a pooled connection."""
        for attempt in (1, 2):
            try:
                with self._pooled().connection() as connection:
                    rows = connection.execute(sql, tuple(params)).fetchall()
            except psycopg.Error as exc:
                if attempt == 1 and self._refresh(exc):
                    continue
                failure = self._failure(exc, doing)
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
                failure = self._failure(exc, doing)
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
        with (
            self._pooled().connection() as connection,
            connection.transaction(),
            connection.cursor(name=f"experiments_{next(self._cursors)}") as cursor,
        ):
            cursor.itersize = 2000
            cursor.execute(sql, params)
            yield from cursor

    def _decode_row(self, text: str, where: str) -> Mapping[str, Any]:
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise StoreError(f"{self._where()}: {where} holds unreadable data ({exc})") from None
        if not isinstance(data, dict):
            raise StoreError(f"{self._where()}: {where} holds data that is not a record")
        return data

    # --- reading ----------------------------------------------------------------------

    def _load(self, id: str) -> Mapping[str, Any] | None:  # noqa: A002 - it is an id
        self._ensure()
        rows = self._fetch(
            f"reading {id!r}", f"SELECT data FROM {self._s}.records WHERE id = %s", (id,)
        )
        return self._decode_row(rows[0][0], f"record {id!r}") if rows else None

    def _load_versions(self, id: str) -> list[Mapping[str, Any]]:  # noqa: A002 - it is an id
        self._ensure()
        rows = self._fetch(
            f"reading the history of {id!r}",
            f"SELECT revision, data FROM {self._s}.versions WHERE id = %s ORDER BY revision",
            (id,),
        )
        return [self._decode_row(data, f"record {id!r} revision {rev}") for rev, data in rows]

    def _scan(self, kind: str | None) -> Iterator[Mapping[str, Any]]:
        self._ensure()
        if kind is None:
            rows = self._stream(
                "reading records", f"SELECT id, data FROM {self._s}.records ORDER BY id"
            )
        else:
            rows = self._stream(
                "reading records",
                f"SELECT id, data FROM {self._s}.records WHERE kind = %s ORDER BY id",
                (kind,),
            )
        return (self._decode_row(text, f"record {record_id!r}") for record_id, text in rows)

    def _scan_versions(self) -> Iterator[Mapping[str, Any]]:
        self._ensure()
        rows = self._stream(
            "reading every version",
            f"SELECT id, revision, data FROM {self._s}.versions ORDER BY id, revision",
        )
        return (
            self._decode_row(text, f"record {record_id!r} revision {revision}")
            for record_id, revision, text in rows
        )

    def _select(
        self,
        kind: str | None,
        where: BoundExpr | None,
        orders: tuple[Order, ...],
        limit: int | None,
        offset: int,
        include_deleted: bool,
    ) -> Iterator[Mapping[str, Any]]:
        self._ensure()
        sql, params = _sql.select_sql(
            _DIALECT,
            f"{self._s}.records",
            kind,
            _encode_filter(where),
            orders,
            limit,
            offset,
            include_deleted,
        )
        rows = self._stream("running a query", sql, params)
        return (self._decode_row(row[0], "a record") for row in rows)

    def _aggregate(
        self,
        kind: str | None,
        where: BoundExpr | None,
        group_by: list[tuple[str, FieldInfo]],
        measures: dict[str, BoundMeasure],
        include_deleted: bool,
    ) -> Iterator[dict[str, Any]]:
        self._ensure()
        sql, params, labels = _sql.aggregate_sql(
            _DIALECT,
            f"{self._s}.records",
            kind,
            _encode_filter(where),
            group_by,
            measures,
            include_deleted,
        )
        # Only numbers, sums and latest values need converting; the rest is as stored.
        converters = [
            (index, convert)
            for index, convert in enumerate(
                [_group_converter(info) for _, info in group_by]
                + [_measure_converter(m) for m in measures.values()]
            )
            if convert is not None
        ]
        rows = self._stream("aggregating", sql, params)
        if not converters:
            return (dict(zip(labels, row, strict=True)) for row in rows)
        return _converted(rows, labels, converters)

    def _verify_storage(self) -> Iterator[Damage | Mapping[str, Any]]:
        try:
            self._ensure()
            adrift = self._fetch(
                "verifying",
                f"SELECT r.id, r.revision FROM {self._s}.records r "
                f"LEFT JOIN {self._s}.versions v ON v.id = r.id AND v.revision = r.revision "
                "WHERE v.id IS NULL OR v.data <> r.data ORDER BY r.id",
            )
            rows = self._stream(
                "verifying",
                f"SELECT id, revision, data FROM {self._s}.versions ORDER BY id, revision",
            )
            for record_id, revision in adrift:
                yield Damage(
                    f"{self._where()}: record {record_id!r}",
                    f"its current version (revision {revision}) is not the one in its history",
                    record_id,
                )
            for record_id, revision, text in rows:
                try:
                    data = json.loads(text)
                except ValueError as exc:
                    yield Damage(
                        f"{self._where()}: record {record_id!r} revision {revision}",
                        f"unreadable JSON ({exc})",
                        record_id,
                    )
                    continue
                yield data
        except StoreError as exc:
            yield Damage(self._where(), str(exc))

    # --- writing ----------------------------------------------------------------------

    def _commit(self, changes: Iterable[Change]) -> list[Any]:
        self._ensure(write=True)
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
                    fresh: list[Put] = []  # a run of new records, inserted together
                    for change in changes:
                        if isinstance(change, Put) and change.expected == 0:
                            fresh.append(change)
                            if len(fresh) < _CHUNK:
                                continue
                        if fresh:
                            results.extend(self._insert_many(cursor, fresh))
                            fresh = []
                        if isinstance(change, Put):
                            if change.expected != 0:
                                results.append(self._put(cursor, change))
                        elif isinstance(change, Purge):
                            results.append(self._purge(cursor, change.id))
                        elif isinstance(change, ImportVersion):
                            results.append(self._import(cursor, change))
                        else:  # pragma: no cover - Change admits nothing else
                            raise TypeError(change)
                    if fresh:
                        results.extend(self._insert_many(cursor, fresh))
                    committing = True
            except psycopg.Error as exc:
                # A connection found dead at BEGIN has done nothing: safe to try again.
                if attempt == 1 and not begun and self._refresh(exc):
                    continue
                failure = self._failure(exc, "writing", writing=True, committing=committing)
            else:
                return results
            raise failure
        raise AssertionError  # pragma: no cover - the loop returns or raises

    def _insert_many(self, cursor: psycopg.Cursor[Any], puts: list[Put]) -> list[Any]:
        """New records in one statement per table; on any clash, one by one.

        One round trip instead of two per record: what makes a bulk batch fast on a
        server across the network.  The one-by-one path raises the precise conflict.
        """
        if len(puts) == 1:
            return [self._put(cursor, puts[0])]
        s = self._s
        ids = [put.record.id for put in puts]
        revisions = [put.record.revision for put in puts]
        texts = [dumps(put.data) for put in puts]
        docs = [_doc(put.data, text) for put, text in zip(puts, texts, strict=True)]
        cursor.execute("SAVEPOINT fresh_records")
        cursor.execute(
            f"INSERT INTO {s}.records (id, kind, revision, deleted, data, doc) "
            # %b: binary arrays; the text format would escape every quote of the JSON.
            "SELECT i, k, r, d, t, j::jsonb FROM unnest(%b::text[], %b::text[], %b::integer[], "
            "%b::smallint[], %b::text[], %b::text[]) AS u (i, k, r, d, t, j) "
            "ON CONFLICT (id) DO NOTHING",
            (
                ids,
                [put.record.kind for put in puts],
                revisions,
                [int(put.record.deleted_at is not None) for put in puts],
                texts,
                docs,
            ),
        )
        if cursor.rowcount == len(puts):
            cursor.execute(
                f"INSERT INTO {s}.versions (id, revision, data) "
                "SELECT * FROM unnest(%b::text[], %b::integer[], %b::text[]) "
                "ON CONFLICT DO NOTHING",
                (ids, revisions, texts),
            )
        if cursor.rowcount != len(puts):
            cursor.execute("ROLLBACK TO SAVEPOINT fresh_records")
            return [self._put(cursor, put) for put in puts]
        cursor.execute("RELEASE SAVEPOINT fresh_records")
        return [put.record for put in puts]

    def _put(self, cursor: psycopg.Cursor[Any], change: Put) -> Any:
        record = change.record
        text = dumps(change.data)
        doc = _doc(change.data, text)
        deleted = 0 if record.deleted_at is None else 1
        s = self._s
        if not change.expected:
            for _ in range(3):  # a record purged between the insert and the read: again
                cursor.execute(
                    f"INSERT INTO {s}.records (id, kind, revision, deleted, data, doc) "
                    "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO NOTHING",
                    (record.id, record.kind, record.revision, deleted, text, doc),
                )
                if cursor.rowcount == 1:
                    break
                stored = cursor.execute(
                    f"SELECT revision, data FROM {s}.records WHERE id = %s",
                    (record.id,),
                ).fetchone()
                if stored is None:
                    continue
                if change.expected is None:
                    return from_data(self._decode_row(stored[1], f"record {record.id!r}"))
                raise conflict(record, 0, stored[0])
            else:
                raise ConflictError(
                    f"{record.label()} was created and removed again by others while this "
                    "write ran; nothing was written, try again"
                )
        else:
            cursor.execute(
                f"UPDATE {s}.records SET revision = %s, deleted = %s, data = %s, doc = %s "
                "WHERE id = %s AND revision = %s AND kind = %s",
                (record.revision, deleted, text, doc, record.id, change.expected, record.kind),
            )
            if cursor.rowcount != 1:
                stored = cursor.execute(
                    f"SELECT revision, kind FROM {s}.records WHERE id = %s",
                    (record.id,),
                ).fetchone()
                if stored is not None and stored[1] != record.kind:
                    raise other_kind(record, stored[1])
                raise conflict(record, change.expected, 0 if stored is None else stored[0])
        cursor.execute(
            f"INSERT INTO {s}.versions (id, revision, data) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (record.id, record.revision, text),
        )
        if cursor.rowcount != 1:
            raise ConflictError(
                f"{record.label()} revision {record.revision} is already in the history of "
                f"{self._where()}; the store is inconsistent, run `experiments verify`"
            )
        return record

    def _purge(self, cursor: psycopg.Cursor[Any], record_id: str) -> str | None:
        row = cursor.execute(
            f"DELETE FROM {self._s}.records WHERE id = %s RETURNING kind",
            (record_id,),
        ).fetchone()
        cursor.execute(
            f"DELETE FROM {self._s}.versions WHERE id = %s",
            (record_id,),
        )
        return None if row is None else str(row[0])

    def _import(self, cursor: psycopg.Cursor[Any], change: ImportVersion) -> bool:
        record = change.record
        text = dumps(change.data)
        s = self._s
        stored = cursor.execute(
            f"SELECT kind FROM {s}.records WHERE id = %s", (record.id,)
        ).fetchone()
        if stored is not None and stored[0] != record.kind:
            raise other_kind(record, stored[0])
        cursor.execute(
            f"INSERT INTO {s}.versions (id, revision, data) VALUES (%s, %s, %s) "
            "ON CONFLICT DO NOTHING",
            (record.id, record.revision, text),
        )
        if cursor.rowcount != 1:
            stored = cursor.execute(
                f"SELECT data FROM {s}.versions WHERE id = %s AND revision = %s",
                (record.id, record.revision),
            ).fetchone()
            if stored is None or json.loads(stored[0]) != json.loads(text):
                raise import_conflict(record)
            return False
        cursor.execute(
            f"INSERT INTO {s}.records AS r (id, kind, revision, deleted, data, doc) "
            "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET "
            "revision = excluded.revision, deleted = excluded.deleted, data = excluded.data, "
            "doc = excluded.doc WHERE excluded.revision > r.revision AND excluded.kind = r.kind",
            (
                record.id,
                record.kind,
                record.revision,
                int(record.deleted_at is not None),
                text,
                _doc(change.data, text),
            ),
        )
        return True


_Converter = Callable[[Any], Any]


def _group_converter(info: FieldInfo) -> _Converter | None:
    """How a group key comes back as stored: numbers as the int or float they were."""
    return _number if info.kind is FieldType.NUMBER else None


def _measure_converter(measure: BoundMeasure) -> _Converter | None:
    """How a measure from SQL becomes what the Python fallback computes."""
    kind = measure.measure
    if isinstance(kind, Sum):
        return float
    if isinstance(kind, Latest):
        return json.loads
    if isinstance(kind, Count | CountDistinct):
        return None
    assert measure.info is not None
    return _group_converter(measure.info)


def _converted(
    rows: Iterable[tuple[Any, ...]], labels: list[str], converters: list[tuple[int, _Converter]]
) -> Iterator[dict[str, Any]]:
    for row in rows:
        values = list(row)
        for index, convert in converters:
            if values[index] is not None:
                values[index] = convert(values[index])
        yield dict(zip(labels, values, strict=True))


def _lost(exc: Exception) -> bool:
    """Whether ``exc`` says the connection itself is gone."""
    if isinstance(exc, PoolTimeout | PoolClosed) or not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate or ""
    return not state or state.startswith("08") or state in _LOST
