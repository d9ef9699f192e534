"""The statements a PostgreSQL store writes records with, one function a change.

Each takes the store (for its schema and its messages) and the cursor of the open
transaction; :class:`~experiments.stores.postgres.PostgresStore` runs them through the
protocol it shares with SQLite (``_sqlstore``).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from experiments.errors import ConflictError
from experiments.serialization import dumps, from_data
from experiments.stores._derived import time_box_bounds
from experiments.stores._postgres_layout import query_copy
from experiments.stores._refusals import conflict, import_conflict, other_kind
from experiments.stores._sqlstore import latest_puts, refused_update
from experiments.stores.changes import ImportVersion, Put, SetSetting

if TYPE_CHECKING:
    import psycopg

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
            [int(put.record.deleted_at is not None) for put in rows],
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
    record = change.record
    text = dumps(change.data)
    doc = query_copy(change.data, text)
    start, end = time_box_bounds(change.data)
    deleted = 0 if record.deleted_at is None else 1
    s = store.schema_sql
    if not change.expected:
        for _ in range(3):  # a record purged between the insert and the read: again
            cursor.execute(
                f"INSERT INTO {s}.records (id, kind, revision, deleted, data, doc, "
                "time_box_start, time_box_end) VALUES (%s, %s, %s, %s, %s, %s, "
                "%s::timestamptz, %s::timestamptz) ON CONFLICT (id) DO NOTHING",
                (record.id, record.kind, record.revision, deleted, text, doc, start, end),
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
                return from_data(store._decode_row(stored[1], f"record {record.id!r}"))  # noqa: SLF001
            raise conflict(record, 0, stored[0])
        else:
            raise ConflictError(
                f"{record.label()} was created and removed again by others while this "
                "write ran; nothing was written, try again"
            )
    else:
        cursor.execute(
            f"UPDATE {s}.records SET revision = %s, deleted = %s, data = %s, doc = %s, "
            "time_box_start = %s::timestamptz, time_box_end = %s::timestamptz "
            "WHERE id = %s AND revision = %s AND kind = %s",
            (
                *(record.revision, deleted, text, doc, start, end),
                *(record.id, change.expected, record.kind),
            ),
        )
        if cursor.rowcount != 1:
            stored = cursor.execute(
                f"SELECT revision, kind FROM {s}.records WHERE id = %s",
                (record.id,),
            ).fetchone()
            raise refused_update(record, change.expected, stored)
    cursor.execute(
        f"INSERT INTO {s}.versions (id, revision, data) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (record.id, record.revision, text),
    )
    if cursor.rowcount != 1:
        raise ConflictError(
            f"{record.label()} revision {record.revision} is already in the history of "
            f"{store._where()}; the store is inconsistent, run `experiments verify`"  # noqa: SLF001
        )
    return record


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
            int(record.deleted_at is not None),
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
