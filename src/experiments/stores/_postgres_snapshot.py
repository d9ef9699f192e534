"""One state of a PostgreSQL store for a thread's reads (``Store.reading()``).

The outermost block takes a pooled connection into a repeatable-read, read-only
transaction; every read of the thread goes through it until the block ends.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import psycopg

from experiments.errors import StoreError
from experiments.stores._postgres_connect import failure_of

if TYPE_CHECKING:
    from experiments.stores.postgres import PostgresStore

__all__ = ["Held", "held_rows", "snapshot"]


class Held(threading.local):
    """The connection this thread's snapshot holds, or None outside a block."""

    connection: psycopg.Connection[Any] | None = None


@contextlib.contextmanager
def snapshot(store: PostgresStore) -> Iterator[None]:
    """One pooled connection in a repeatable-read transaction, for every read of the thread."""
    if not store.exists():  # nothing to read yet, nor to hold
        yield
        return
    held = store._snapshot_held  # noqa: SLF001 - the store's own thread-local
    try:
        with store._pooled().connection() as connection, connection.transaction():  # noqa: SLF001
            connection.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            connection.execute(f"SELECT 1 FROM {store.current_table} LIMIT 1")  # taken now
            held.connection = connection
            try:
                yield
            finally:
                held.connection = None
    except psycopg.Error as exc:
        raise failure_of(store, exc, "reading one state of the store") from None


def held_rows(
    store: PostgresStore, cursor_name: str, sql: str, params: tuple[Any, ...]
) -> Iterator[tuple[Any, ...]]:
    """Rows in the snapshot's transaction, fetched only while the block holds it.

    After the block the transaction and its cursor are gone and the connection may
    serve another thread: the next fetch is refused, and nothing is sent on it.
    """
    held = store._snapshot_held  # noqa: SLF001 - the store's own thread-local
    connection = held.connection
    assert connection is not None  # the caller reads through the snapshot
    cursor = connection.cursor(name=cursor_name)
    try:
        cursor.execute(sql, params)
        while True:
            if held.connection is not connection:
                raise StoreError(
                    f"{store.url.redacted}: the rows of a query begun inside "
                    "`with store.reading():` were read on after the block ended; read "
                    "them inside it (list(...)), or query again after it"
                )
            rows = cursor.fetchmany(2000)
            if not rows:
                return
            yield from rows
    finally:
        if held.connection is connection:
            cursor.close()
        else:  # the cursor went with the block's transaction: mark it closed, send nothing
            psycopg.Cursor.close(cursor)
