"""How a PostgreSQL store connects: what its URL says, the pool, and lost connections.

The URL's own options (``schema``, ``pool_min``, ``pool_max``, ``pool_timeout``) are
read here; every other query parameter goes to libpq, and every secret in the URL is
noted so that no message ever shows it.
"""

from __future__ import annotations

import hashlib
import random
import re
import urllib.parse
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs
import psycopg
from psycopg import IsolationLevel
from psycopg_pool import ConnectionPool, PoolClosed, PoolTimeout

from experiments.errors import ConflictError, ExperimentsError, StoreError, StoreURLError
from experiments.stores.url import mask_secrets

if TYPE_CHECKING:
    from experiments.stores.postgres import PostgresStore
    from experiments.stores.url import StoreURL

__all__ = [
    "CONTENDED",
    "MIN_SERVER",
    "OPTIONS",
    "Pool",
    "Settings",
    "configure",
    "connect_failure",
    "failure_of",
    "lock_key",
    "lost",
    "quote_ident",
    "scrub",
    "settings",
]


#: URL options this backend reads; every other query parameter goes to libpq.
OPTIONS: Final = frozenset({"schema", "pool_min", "pool_max", "pool_timeout"})
SCHEMA_NAME: Final = re.compile(r"[A-Za-z_][A-Za-z0-9_$-]{0,62}")
MIN_SERVER: Final = 120000
#: SQLSTATEs of a connection that went away mid-way: class 08, and an administrator
#: or the server shutting the session down.
LOST: Final = frozenset({"57P01", "57P02", "57P03"})
#: SQLSTATEs meaning another transaction got in the way: retrying is the cure.
CONTENDED: Final = frozenset({"40001", "40P01", "55P03"})


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lock_key(schema: str) -> int:
    """The advisory lock that serialises migrations of one schema (per database)."""
    digest = hashlib.blake2b(f"strategy-experiments/{schema}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


@attrs.frozen
class Settings:
    """What a URL says: where to connect (secret), and this backend's options."""

    conninfo: str = attrs.field(repr=False)
    kwargs: dict[str, Any]
    secrets: tuple[str, ...] = attrs.field(repr=False)
    schema: str
    pool_min: int
    pool_max: int
    pool_timeout: float


def settings(url: StoreURL) -> Settings:
    parts = urllib.parse.urlsplit(url.raw)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    ours = {k: v for k, v in pairs if k in OPTIONS}
    theirs = [(k, v) for k, v in pairs if k not in OPTIONS]
    # Spelled out: urlunsplit() would drop the // of a URL without a host (a socket).
    query = urllib.parse.urlencode(theirs)
    conninfo = f"postgresql://{parts.netloc}{parts.path}" + (f"?{query}" if query else "")
    schema = ours.get("schema", "public")
    if not SCHEMA_NAME.fullmatch(schema) or schema.lower().startswith("pg_"):
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
    return Settings(
        conninfo=conninfo,
        kwargs=kwargs,
        secrets=url.secrets,
        schema=schema,
        pool_min=pool_min,
        pool_max=pool_max,
        pool_timeout=number("pool_timeout", "30", 0.1),
    )


def configure(connection: psycopg.Connection[Any]) -> None:
    connection.isolation_level = IsolationLevel.READ_COMMITTED


class Pool(ConnectionPool[psycopg.Connection[Any]]):
    """A pool whose worker threads draw their jitter from a generator of their own.

    psycopg_pool spreads connection lifetimes with the process-wide ``random``, from
    background threads: a script that seeds ``random`` to repeat an analysis would get
    different numbers depending on when the pool happened to connect.
    """

    _random: ClassVar[random.Random] = random.Random()  # noqa: S311 - jitter, not secrets

    @classmethod
    def _jitter(cls, value: float, min_pc: float, max_pc: float) -> float:
        return value * (1.0 + ((max_pc - min_pc) * cls._random.random()) + min_pc)


def lost(exc: Exception) -> bool:
    """Whether ``exc`` says the connection itself is gone."""
    if isinstance(exc, PoolTimeout | PoolClosed) or not isinstance(exc, psycopg.OperationalError):
        return False
    state = exc.sqlstate or ""
    return not state or state.startswith("08") or state in LOST


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """Driver text on one line, its lines as sentences, every secret of the URL masked."""
    text = mask_secrets(text, secrets)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    sentences = [line for line in lines if line]
    return " ".join(
        line if index == len(sentences) - 1 or line[-1] in ".?!:;" else f"{line}."
        for index, line in enumerate(sentences)
    )


def failure_of(
    store: PostgresStore,
    exc: Exception,
    doing: str,
    *,
    writing: bool = False,
    committing: bool = False,
) -> ExperimentsError:
    """The error to raise for a driver error: scrubbed, and saying what to do.

    Driver errors are never chained: their text, scrubbed of secrets, is in ours.
    """
    message = scrub(str(exc), store.settings.secrets)
    where = store._where()  # noqa: SLF001 - the store names itself
    state = getattr(exc, "sqlstate", None) or ""
    if isinstance(exc, PoolTimeout):
        found = store._diagnose()  # noqa: SLF001 - the store asks the server itself
        if found is not None:
            return found
        return StoreError(
            f"no free connection to {store.url.redacted} within "
            f"{store.settings.pool_timeout:g}s while {doing}: every one of this store's "
            f"connections (pool_max={store.settings.pool_max}) is in use, by other "
            "threads or by query results not read to the end; finish or close those "
            "iterators, or raise ?pool_max= in the URL"
        )
    if isinstance(exc, PoolClosed):
        return StoreError(f"store {store.url.redacted} is closed; open it again with connect()")
    if state in CONTENDED:
        return ConflictError(
            f"{where}: another transaction got in the way while {doing} "
            f"({message}); nothing was written, try again"
        )
    if state == "42501":
        return StoreError(
            f"{where}: the role is not allowed to do this while {doing} "
            f"({message}); grant it the privileges listed in the documentation "
            "('Many teams, one server')"
        )
    if lost(exc):
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
            f"the connection to {store.url.redacted} was lost while {doing} ({message}); "
            f"{outcome}. The next call connects again."
        )
    return StoreError(f"{where}: {doing} failed: {message}")


def connect_failure(store: PostgresStore, exc: Exception) -> StoreError:
    """The error for a server that refused or could not be reached, with what to check."""
    message = scrub(str(exc), store.settings.secrets)
    lowered = message.lower()
    if "password" in lowered or "authentication" in lowered:
        hint = (
            "check the user name and password in the URL (or in PGPASSWORD or "
            "~/.pgpass), and that the server's pg_hba.conf lets this user in"
        )
    elif "resolve" in lowered or "translate host name" in lowered:
        hint = "check the host name in the URL"
    elif "refused" in lowered or "timeout" in lowered or "timed out" in lowered:
        hint = "check the host and port in the URL"
        if "server running" not in lowered:  # or the driver has just asked it
            hint += ", and that the server is running and reachable"
    elif "does not exist" in lowered:
        hint = "check the database and user names; a database administrator creates them"
    else:
        hint = "check the URL and that the server is running"
    return StoreError(f"cannot connect to {store.url.redacted}: {message}; {hint}")
