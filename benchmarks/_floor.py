"""The floor: the same rows written by the database driver alone, with the same durability.

A floor lays its tables out by asking the library for an empty store next to the one
measured (so its tables, indexes and settings are the store's, whatever the layout's
version), then writes through the driver alone what the store writes for an object:
one row in ``records`` (the fields it filters on) and one in ``versions`` (the JSON).

SQLite: the file next to the store's, WAL and the store's ``synchronous`` setting (FULL
unless the URL says otherwise), every transaction ``BEGIN IMMEDIATE`` as the store's.
PostgreSQL: a schema of its own next to the store's, in the same database, through one
connection at READ COMMITTED with the server's commit settings, as the store's.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import urllib.parse
from operator import itemgetter
from pathlib import Path
from typing import Any, Protocol

import experiments
from experiments import Plugins
from experiments.stores import StoreURL

#: JSON as the library writes it: compact, not ASCII-escaped.
dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode

_HEAD = ("id", "kind", "revision")


class Floor(Protocol):
    """What the benchmarks ask of a floor; one implementation per SQL backend."""

    def save_one(self, data: dict[str, Any]) -> None:
        """One object in a transaction of its own."""

    def save_many(self, objects: list[dict[str, Any]]) -> None:
        """Many objects in one transaction, each table's rows in one ``executemany``."""

    def unit(
        self, planned: dict[str, Any], running: dict[str, Any], measured: dict[str, Any]
    ) -> None:
        """What ``track()`` and one ``run.measure()`` write, in two transactions."""

    def rows(self) -> dict[str, int]:
        """Rows in the floor's ``records`` and ``versions``."""

    def durability(self) -> dict[str, str]:
        """The settings a commit's durability rests on, for both sides."""

    def close(self) -> None:
        """Close the connection and remove the floor's tables."""


def floor_for(url: StoreURL) -> Floor:
    """The floor beside the store at ``url``."""
    if url.scheme == "sqlite":
        return SQLiteFloor(url)
    if url.scheme in ("postgresql", "postgres"):
        return PostgresFloor(url)
    raise SystemExit(
        f"no floor for {url.scheme}:// stores; benchmark a sqlite:// or postgresql:// store"
    )


def rows_in_store(url: StoreURL) -> dict[str, int]:
    """Rows in the store's own ``records`` and ``versions``, read through the driver."""
    if url.scheme == "sqlite":
        with contextlib.closing(sqlite3.connect(Path(url.file_path))) as connection:
            return _count(connection.execute, "")
    conninfo, kwargs, schema = _postgres_settings(url)
    import psycopg  # noqa: PLC0415 - only for a PostgreSQL store

    with psycopg.connect(conninfo, **kwargs, autocommit=True) as connection:
        return _count(connection.execute, f"{_quote(schema)}.")


def _count(execute: Any, prefix: str) -> dict[str, int]:
    return {
        table: int(execute(f"SELECT count(*) FROM {prefix}{table}").fetchone()[0])
        for table in ("records", "versions")
    }


def _lay_out(url: str) -> None:
    """An empty store at ``url``, made by the library: the floor's tables and indexes."""
    experiments.connect(url, plugins=Plugins(autoload=False), create=True).close()


class SQLiteFloor:
    """Raw ``sqlite3`` on a file of the store's layout, beside the store's file."""

    def __init__(self, url: StoreURL) -> None:
        store = Path(url.file_path).absolute()
        self.path = store.with_name(f"{store.stem}-floor{store.suffix}")
        self._remove()
        synchronous = url.params.get("synchronous", "full").upper()
        _lay_out(f"sqlite:///{self.path}?synchronous={synchronous.lower()}")
        self.connection = sqlite3.connect(self.path, isolation_level=None)
        (journal,) = self.connection.execute("PRAGMA journal_mode").fetchone()
        assert journal == "wal", f"the store's layout left journal_mode={journal}"
        self.connection.execute(f"PRAGMA synchronous={synchronous}")
        self.columns = {row[1] for row in self.connection.execute("PRAGMA table_info(records)")}
        self._plans: dict[str, tuple[str, Any, list[int]]] = {}

    def _remove(self) -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{self.path}{suffix}").unlink(missing_ok=True)

    def _plan(self, data: dict[str, Any]) -> tuple[str, Any, list[int]]:
        """The kind's insert, as a program would have written it: its columns, in order."""
        names = _HEAD + tuple(
            name for name in data if name in self.columns and name not in (*_HEAD, "deleted")
        )
        quoted = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" * len(names))
        lists = [index for index, name in enumerate(names) if isinstance(data[name], list)]
        sql = f"INSERT INTO records ({quoted}, deleted) VALUES ({marks}, 0)"
        return sql, itemgetter(*names), lists

    def _row(self, data: dict[str, Any]) -> tuple[str, list[Any]]:
        plan = self._plans.get(data["kind"])
        if plan is None:
            plan = self._plans[data["kind"]] = self._plan(data)
        sql, getter, lists = plan
        row = list(getter(data))
        for index in lists:
            row[index] = dumps(row[index])
        return sql, row

    def save_one(self, data: dict[str, Any]) -> None:
        execute = self.connection.execute
        execute("BEGIN IMMEDIATE")
        execute(*self._row(data))
        execute(
            "INSERT INTO versions (id, revision, data) VALUES (?, ?, ?)",
            (data["id"], data["revision"], dumps(data)),
        )
        execute("COMMIT")

    def save_many(self, objects: list[dict[str, Any]]) -> None:
        by_statement: dict[str, list[list[Any]]] = {}
        for data in objects:
            sql, row = self._row(data)
            by_statement.setdefault(sql, []).append(row)
        versions = [(data["id"], data["revision"], dumps(data)) for data in objects]
        execute = self.connection.execute
        execute("BEGIN IMMEDIATE")
        for sql, rows in by_statement.items():
            self.connection.executemany(sql, rows)
        self.connection.executemany(
            "INSERT INTO versions (id, revision, data) VALUES (?, ?, ?)", versions
        )
        execute("COMMIT")

    def unit(
        self, planned: dict[str, Any], running: dict[str, Any], measured: dict[str, Any]
    ) -> None:
        execute = self.connection.execute
        found = execute("SELECT revision FROM records WHERE id = ?", (planned["id"],)).fetchone()
        assert found is None, "a unit's experiment is new"
        execute("BEGIN IMMEDIATE")
        execute(*self._row(running))
        for version in (planned, running):
            execute(
                "INSERT INTO versions (id, revision, data) VALUES (?, ?, ?)",
                (version["id"], version["revision"], dumps(version)),
            )
        execute("COMMIT")
        self.save_one(measured)

    def rows(self) -> dict[str, int]:
        return _count(self.connection.execute, "")

    def durability(self) -> dict[str, str]:
        (journal,) = self.connection.execute("PRAGMA journal_mode").fetchone()
        (synchronous,) = self.connection.execute("PRAGMA synchronous").fetchone()
        levels = ("OFF", "NORMAL", "FULL", "EXTRA")
        return {"journal_mode": journal, "synchronous": levels[synchronous]}

    def close(self) -> None:
        self.connection.close()
        self._remove()


def _postgres_settings(url: StoreURL) -> tuple[str, dict[str, Any], str]:
    """Where the store connects and its schema, as the store itself reads its URL."""
    from experiments.stores._postgres_connect import settings  # noqa: PLC0415

    read = settings(url)
    return read.conninfo, read.kwargs, read.schema


def _with_schema(raw: str, schema: str) -> str:
    """The store URL ``raw`` naming another schema of the same database."""
    parts = urllib.parse.urlsplit(raw)
    pairs = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
    query = urllib.parse.urlencode(
        [*((k, v) for k, v in pairs if k != "schema"), ("schema", schema)]
    )
    # Spelled out: urlunsplit() would drop the // of a URL without a host (a socket).
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{query}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class PostgresFloor:
    """Raw ``psycopg`` on a schema of the store's layout, beside the store's schema."""

    def __init__(self, url: StoreURL) -> None:
        import psycopg  # noqa: PLC0415 - only for a PostgreSQL store

        conninfo, kwargs, schema = _postgres_settings(url)
        self.schema = f"{schema[:57]}_floor"
        self.connection = psycopg.connect(conninfo, **kwargs, autocommit=True)
        self.connection.isolation_level = psycopg.IsolationLevel.READ_COMMITTED
        self._drop()
        _lay_out(_with_schema(url.raw, self.schema))
        q = _quote(self.schema)
        self.insert_record = (
            f"INSERT INTO {q}.records (id, kind, revision, deleted, data, doc) "
            "VALUES (%s, %s, %s, 0, %s, %s::jsonb)"
        )
        self.insert_version = f"INSERT INTO {q}.versions (id, revision, data) VALUES (%s, %s, %s)"

    def _drop(self) -> None:
        self.connection.execute(f"DROP SCHEMA IF EXISTS {_quote(self.schema)} CASCADE")

    def save_one(self, data: dict[str, Any]) -> None:
        text = dumps(data)
        with self.connection.transaction():
            self.connection.execute(
                self.insert_record, (data["id"], data["kind"], data["revision"], text, text)
            )
            self.connection.execute(self.insert_version, (data["id"], data["revision"], text))

    def save_many(self, objects: list[dict[str, Any]]) -> None:
        texts = [dumps(data) for data in objects]
        with self.connection.transaction(), self.connection.cursor() as cursor:
            cursor.executemany(
                self.insert_record,
                [
                    (data["id"], data["kind"], data["revision"], text, text)
                    for data, text in zip(objects, texts, strict=True)
                ],
            )
            cursor.executemany(
                self.insert_version,
                [
                    (data["id"], data["revision"], text)
                    for data, text in zip(objects, texts, strict=True)
                ],
            )

    def unit(
        self, planned: dict[str, Any], running: dict[str, Any], measured: dict[str, Any]
    ) -> None:
        execute = self.connection.execute
        found = execute(
            f"SELECT revision FROM {_quote(self.schema)}.records WHERE id = %s", (planned["id"],)
        ).fetchone()
        assert found is None, "a unit's experiment is new"
        text = dumps(running)
        with self.connection.transaction():
            execute(
                self.insert_record,
                (running["id"], running["kind"], running["revision"], text, text),
            )
            execute(self.insert_version, (planned["id"], planned["revision"], dumps(planned)))
            execute(self.insert_version, (running["id"], running["revision"], text))
        self.save_one(measured)

    def rows(self) -> dict[str, int]:
        return _count(self.connection.execute, f"{_quote(self.schema)}.")

    def durability(self) -> dict[str, str]:
        return {
            setting: str(self.connection.execute(f"SHOW {setting}").fetchone()[0])
            for setting in ("fsync", "synchronous_commit", "full_page_writes")
        }

    def close(self) -> None:
        self._drop()
        self.connection.close()
