"""The statements a SQLite store writes records with, one function a change.

Each takes the connection of the open transaction (and, where it names the store in a
message, the store); :class:`~experiments.stores.sqlite.SQLiteStore` runs them through
the protocol it shares with PostgreSQL (``_sqlstore``).
"""

from __future__ import annotations

import functools
import itertools
import json
import sqlite3
from collections import defaultdict
from typing import TYPE_CHECKING, Any, Final

from experiments.serialization import dumps, from_data
from experiments.stores._refusals import (
    conflict,
    import_conflict,
    other_kind,
    version_in_history,
)
from experiments.stores._sqlite_layout import sql_for
from experiments.stores._sqlstore import latest_puts, record_head, refused_update

if TYPE_CHECKING:
    from experiments.stores.changes import ImportVersion, Put, SetSetting
    from experiments.stores.sqlite import SQLiteStore

__all__ = ["import_version", "insert_many", "purge", "put_one", "store_setting"]

#: The most versions of one new record written in one statement (3 parameters each).
_ONE_STATEMENT_VERSIONS: Final = 32


@functools.cache
def _versions_insert(rows: int) -> str:
    """The statement inserting ``rows`` versions at once: all of them, or none."""
    return "INSERT INTO versions (id, revision, data) VALUES " + ", ".join(["(?, ?, ?)"] * rows)


def insert_many(store: SQLiteStore, connection: sqlite3.Connection, puts: list[Put]) -> list[Any]:
    """Insert new records in two statements; on a clash, find it one by one."""
    if len(puts) == 1:
        return [put_one(store, connection, puts[0])]
    latest = latest_puts(puts)
    if len(latest) == 1 and len(puts) <= _ONE_STATEMENT_VERSIONS:
        return _insert_one(store, connection, puts, latest[0])
    pointers: dict[str, list[tuple[Any, ...]]] = defaultdict(list)  # by statement
    for put in latest:
        record = put.record
        sql = sql_for(record)
        pointers[sql.insert].append((*record_head(record), *sql.values(put.data)))
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
        return [put_one(store, connection, put) for put in puts]  # raises the precise conflict
    connection.execute("RELEASE fresh_records")
    return [put.record for put in puts]


def _insert_one(
    store: SQLiteStore, connection: sqlite3.Connection, puts: list[Put], last: Put
) -> list[Any]:
    """One new record and its later revisions (made and started in one batch).

    Two statements, each of which writes all of its rows or none: the versions, then
    the record's row as its last revision has it.  No savepoint is needed to name a
    clash precisely: if the versions clash, nothing is written; if the row clashes,
    going one by one meets that clash at its first statement, before any version.
    Either way the conflict is raised and the transaction rolled back.
    """
    versions = [(put.record.id, put.record.revision, dumps(put.data)) for put in puts]
    record = last.record
    sql = sql_for(record)
    try:
        connection.execute(_versions_insert(len(versions)), list(itertools.chain(*versions)))
        connection.execute(sql.insert, (*record_head(record), *sql.values(last.data)))
    except sqlite3.IntegrityError:
        return [put_one(store, connection, put) for put in puts]  # raises the precise conflict
    return [put.record for put in puts]


def put_one(store: SQLiteStore, connection: sqlite3.Connection, change: Put) -> Any:
    """One record's new version: its row inserted or updated, and the version added."""
    record = change.record
    text = dumps(change.data)
    deleted = int(record.deleted)
    sql = sql_for(record)
    if not change.expected:
        try:
            connection.execute(sql.insert, (*record_head(record), *sql.values(change.data)))
        except sqlite3.IntegrityError:
            row = connection.execute(
                "SELECT revision, data FROM current WHERE id = ?", (record.id,)
            ).fetchone()
            if change.expected is None:
                return from_data(store._decode_row(row[1], f"record {record.id!r}"))  # noqa: SLF001
            raise conflict(record, 0, row[0]) from None
    else:
        updated = connection.execute(
            sql.update,
            (
                record.revision,
                deleted,
                *sql.values(change.data),
                record.id,
                change.expected,
                record.kind,
            ),
        )
        if updated.rowcount != 1:
            row = connection.execute(
                "SELECT revision, kind FROM records WHERE id = ?", (record.id,)
            ).fetchone()
            raise refused_update(record, change.expected, row)
    try:
        connection.execute(
            "INSERT INTO versions (id, revision, data) VALUES (?, ?, ?)",
            (record.id, record.revision, text),
        )
    except sqlite3.IntegrityError:
        raise version_in_history(record, store._where()) from None  # noqa: SLF001
    return record


def store_setting(connection: sqlite3.Connection, change: SetSetting) -> None:
    """A setting stored, or removed where its value is None."""
    if change.value is None:
        connection.execute("DELETE FROM settings WHERE name = ?", (change.name,))
    else:
        connection.execute(
            "INSERT OR REPLACE INTO settings (name, value) VALUES (?, ?)",
            (change.name, change.value),
        )


def purge(connection: sqlite3.Connection, record_id: str) -> str | None:
    """A record and its versions removed; its kind, if it was there."""
    row = connection.execute("SELECT kind FROM records WHERE id = ?", (record_id,)).fetchone()
    connection.execute("DELETE FROM versions WHERE id = ?", (record_id,))
    connection.execute("DELETE FROM records WHERE id = ?", (record_id,))
    return None if row is None else str(row[0])


def import_version(connection: sqlite3.Connection, change: ImportVersion) -> bool:
    """A version from an export: added, or False where the same one is there already."""
    record = change.record
    text = dumps(change.data)
    stored = connection.execute("SELECT kind FROM records WHERE id = ?", (record.id,)).fetchone()
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
    sql = sql_for(record)
    connection.execute(sql.upsert, (*record_head(record), *sql.values(change.data)))
    return True
