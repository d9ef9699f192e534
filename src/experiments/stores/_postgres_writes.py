"""The statements a PostgreSQL store writes records with, one function a change.

Each takes the store (for its schema and its messages) and the cursor of the open
transaction; :class:`~experiments.stores.postgres.PostgresStore` runs them through the
protocol it shares with SQLite (``_sqlstore``).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

import psycopg

from experiments.errors import ConflictError
from experiments.serialization import dumps, from_data
from experiments.stores._derived import time_box_bounds
from experiments.stores._postgres_layout import query_copy
from experiments.stores._refusals import (
    conflict,
    import_conflict,
    other_kind,
    version_in_history,
)
from experiments.stores._sqlstore import latest_puts, refused_update
from experiments.stores.changes import ImportVersion, Put, SetSetting

if TYPE_CHECKING:
    from experiments.model import Record
    from experiments.stores.postgres import PostgresStore

__all__ = ["import_version", "insert_many", "purge", "put_one", "store_setting"]


def insert_many(store: PostgresStore, cursor: psycopg.Cursor[Any], puts: list[Put]) -> list[Any]:
    """New records in one statement per table; on any clash, one by one.

    One round trip instead of two per record: what makes a bulk batch fast on a
    server across the network.  The one-by-one path raises the precise conflict.
    """
    if len(puts) == 1:
        return [put_one(store, cursor, puts[0])]
    s = store.schema_sql
    ids = [put.record.id for put in puts]
    revisions = [put.record.revision for put in puts]
    texts = [dumps(put.data) for put in puts]
    rows = latest_puts(puts)  # a record's row as its last revision in the run has it
    last = {put.record.id: text for put, text in zip(puts, texts, strict=True)}
    docs = [query_copy(put.data, last[put.record.id]) for put in rows]
    bounds = [time_box_bounds(put.data) for put in rows]
    cursor.execute("SAVEPOINT fresh_records")
    cursor.execute(
        f"INSERT INTO {s}.records (id, kind, revision, deleted, data, doc, time_box_start, "
        "time_box_end) "
        # %b: binary arrays; the text format would escape every quote of the JSON.
        "SELECT i, k, r, d, t, j::jsonb, b::timestamptz, e::timestamptz FROM unnest(%b::text[], "
        "%b::text[], %b::integer[], %b::smallint[], %b::text[], %b::text[], %b::text[], "
        "%b::text[]) AS u (i, k, r, d, t, j, b, e) "
        "ON CONFLICT (id) DO NOTHING",
        (
            [put.record.id for put in rows],
            [put.record.kind for put in rows],
            [put.record.revision for put in rows],
            [int(put.record.deleted) for put in rows],
            [last[put.record.id] for put in rows],
            docs,
            [start for start, _ in bounds],
            [end for _, end in bounds],
        ),
    )
    if cursor.rowcount == len(rows):
        cursor.execute(
            f"INSERT INTO {s}.versions (id, revision, data) "
            "SELECT * FROM unnest(%b::text[], %b::integer[], %b::text[]) "
            "ON CONFLICT DO NOTHING",
            (ids, revisions, texts),
        )
    if cursor.rowcount != len(puts):
        cursor.execute("ROLLBACK TO SAVEPOINT fresh_records")
        return [put_one(store, cursor, put) for put in puts]
    cursor.execute("RELEASE SAVEPOINT fresh_records")
    return [put.record for put in puts]


def put_one(store: PostgresStore, cursor: psycopg.Cursor[Any], change: Put) -> Any:
    """One version over the expected revision: its row and its version in one statement.

    The row's insert (or update) hands its id to the version's insert, so a save is
    one round trip to the server inside its transaction, not two.  A row not written
    (someone else's record, another revision) writes no version either; the rarer
    cases are told apart afterwards.
    """
    record = change.record
    text = dumps(change.data)
    start, end = time_box_bounds(change.data)
    values = {
        "id": record.id,
        "kind": record.kind,
        "revision": record.revision,
        "deleted": int(record.deleted),
        "data": text,
        "doc": query_copy(change.data, text),
        "start": start,
        "end": end,
    }
    s = store.schema_sql
    new_record, next_revision = _saving(s)
    if not change.expected:
        for _ in range(3):  # a record purged between the insert and the read: again
            _execute_saving(store, cursor, record, new_record, values)
            if cursor.rowcount == 1:
                return record
            stored = cursor.execute(
                f"SELECT revision, data FROM {s}.records WHERE id = %s",
                (record.id,),
            ).fetchone()
            if stored is None:
                continue
            if change.expected is None:
                return from_data(store._decode_row(stored[1], f"record {record.id!r}"))  # noqa: SLF001
            raise conflict(record, 0, stored[0])
        raise ConflictError(
            f"{record.label()} was created and removed again by others while this "
            "write ran; nothing was written, try again"
        )
    _execute_saving(store, cursor, record, next_revision, {**values, "expected": change.expected})
    if cursor.rowcount != 1:
        stored = cursor.execute(
            f"SELECT revision, kind FROM {s}.records WHERE id = %s",
            (record.id,),
        ).fetchone()
        raise refused_update(record, change.expected, stored)
    return record


#: A new record's row, and its first version beside it if the row was written.
_NEW_RECORD: Final = (
    "WITH written AS (INSERT INTO {s}.records (id, kind, revision, deleted, data, doc, "
    "time_box_start, time_box_end) VALUES (%(id)s, %(kind)s, %(revision)s, %(deleted)s, "
    "%(data)s, %(doc)s, %(start)s::timestamptz, %(end)s::timestamptz) "
    "ON CONFLICT (id) DO NOTHING RETURNING id) "
    "INSERT INTO {s}.versions (id, revision, data) "
    "SELECT id, %(revision)s, %(data)s FROM written"
)

#: A record's row moved on from the expected revision, and the new version beside it.
_NEXT_REVISION: Final = (
    "WITH written AS (UPDATE {s}.records SET revision = %(revision)s, "
    "deleted = %(deleted)s, data = %(data)s, doc = %(doc)s, "
    "time_box_start = %(start)s::timestamptz, time_box_end = %(end)s::timestamptz "
    "WHERE id = %(id)s AND revision = %(expected)s AND kind = %(kind)s RETURNING id) "
    "INSERT INTO {s}.versions (id, revision, data) "
    "SELECT id, %(revision)s, %(data)s FROM written"
)


@functools.cache
def _saving(schema: str) -> tuple[str, str]:
    """The two statements above for a store's schema, written out once, not every save."""
    return _NEW_RECORD.format(s=schema), _NEXT_REVISION.format(s=schema)


def _execute_saving(
    store: PostgresStore,
    cursor: psycopg.Cursor[Any],
    record: Record,
    sql: str,
    values: Mapping[str, Any],
) -> None:
    """Run one of the statements above; a version already stored is a damaged store."""
    try:
        cursor.execute(sql, values)
    except psycopg.errors.UniqueViolation as exc:
        if exc.diag.table_name != "versions":
            raise
        raise version_in_history(record, store._where()) from None  # noqa: SLF001


def purge(store: PostgresStore, cursor: psycopg.Cursor[Any], record_id: str) -> str | None:
    row = cursor.execute(
        f"DELETE FROM {store.schema_sql}.records WHERE id = %s RETURNING kind",
        (record_id,),
    ).fetchone()
    cursor.execute(
        f"DELETE FROM {store.schema_sql}.versions WHERE id = %s",
        (record_id,),
    )
    return None if row is None else str(row[0])


def import_version(
    store: PostgresStore, cursor: psycopg.Cursor[Any], change: ImportVersion
) -> bool:
    record = change.record
    text = dumps(change.data)
    s = store.schema_sql
    stored = cursor.execute(f"SELECT kind FROM {s}.records WHERE id = %s", (record.id,)).fetchone()
    if stored is not None and stored[0] != record.kind:
        raise other_kind(record, stored[0])
    cursor.execute(
        f"INSERT INTO {s}.versions (id, revision, data) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
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
        f"INSERT INTO {s}.records AS r (id, kind, revision, deleted, data, doc, "
        "time_box_start, time_box_end) VALUES (%s, %s, %s, %s, %s, %s, %s::timestamptz, "
        "%s::timestamptz) ON CONFLICT (id) DO UPDATE SET "
        "revision = excluded.revision, deleted = excluded.deleted, data = excluded.data, "
        "doc = excluded.doc, time_box_start = excluded.time_box_start, "
        "time_box_end = excluded.time_box_end "
        "WHERE excluded.revision > r.revision AND excluded.kind = r.kind",
        (
            record.id,
            record.kind,
            record.revision,
            int(record.deleted),
            text,
            query_copy(change.data, text),
            *time_box_bounds(change.data),
        ),
    )
    return True


def store_setting(store: PostgresStore, cursor: psycopg.Cursor[Any], change: SetSetting) -> None:
    """Write (or with None, remove) one row of the store's settings."""
    if change.value is None:
        cursor.execute(f"DELETE FROM {store.schema_sql}.settings WHERE name = %s", (change.name,))
    else:
        cursor.execute(
            f"INSERT INTO {store.schema_sql}.settings (name, value) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value",
            (change.name, change.value),
        )
