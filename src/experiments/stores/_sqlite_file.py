"""The file a SQLite store lives in: whether it is ours, its migrations, and its errors.

A file is a store of this library when its ``application_id`` says so; its layout
version is ``user_version``, brought up to date by the migrations of
:mod:`experiments.stores._sqlite_layout` under one write lock, so that several
processes opening a new store at once make it exactly once.  A driver error becomes a
:class:`~experiments.errors.StoreError` that says what is wrong and what to do.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from pathlib import Path

from experiments.errors import StoreError
from experiments.stores import _access, _mounts
from experiments.stores._refusals import newer_layout
from experiments.stores._sqlite_layout import APPLICATION_ID, MIGRATIONS, views

__all__ = [
    "ThreadConnections",
    "check_identity",
    "enter_wal",
    "error_for",
    "has_content",
    "migrate",
    "readable_as_it_is",
    "refuse_network_file_system",
    "uri_path",
]


class ThreadConnections(threading.local):
    """A thread's connections to the file, and whether a snapshot pins its reads."""

    connection: sqlite3.Connection | None = None
    reader: sqlite3.Connection | None = None
    pinned = False


def error_for(
    exc: sqlite3.Error | UnicodeDecodeError, path: Path, where: str, timeout: float
) -> StoreError:
    """What a driver error means for the store at ``path``, said so a person can act."""
    message = str(exc)
    if isinstance(exc, UnicodeDecodeError) or "decode to UTF-8" in message:
        return StoreError(  # text SQLite hands back is not UTF-8
            f"{where} is damaged: it holds text that is not UTF-8; restore it "
            "from a backup, or see what can still be read with `experiments verify`"
        )
    if "file is not a database" in message or "not a database" in message:
        return StoreError(
            f"{str(path)!r} is not a strategy-experiments store: it is not a "
            "SQLite database (garbage, truncated or another format)"
        )
    if "malformed" in message:
        return StoreError(
            f"{where} is damaged ({message}); restore it from a backup, or "
            "see what can still be read with `experiments verify`"
        )
    if "locked" in message or "busy" in message:
        return StoreError(
            f"{where} stayed locked by another writer for more than "
            f"{timeout:g}s; try again, or raise ?timeout= in the URL"
        )
    if "readonly" in message or "read-only" in message or "unable to open" in message:
        cause = _access.cause(
            path,
            in_directory=getattr(exc, "sqlite_errorname", "") == "SQLITE_READONLY_DIRECTORY",
            companions="SQLite keeps the store's -wal and -shm files next to it",
        )
        return StoreError(f"{where}: {cause or message}")
    return StoreError(f"{where}: {message}")


def readable_as_it_is(exc: sqlite3.Error, path: Path, where: str) -> bool:
    """Whether a store that cannot be opened is on a read-only file system, whole.

    Reading a store in WAL mode needs its ``-shm`` file, which a read-only file system
    cannot make.  Nobody can write the store there either, so it is read as it is
    (SQLite's immutable mode), unless its write-ahead log holds changes not yet in
    the file: those would be missed, so that is an error saying what to do.
    """
    if getattr(exc, "sqlite_errorname", "") != "SQLITE_CANTOPEN":
        return False
    if not _access.read_only_file_system(path):
        return False
    log = path.with_name(path.name + "-wal")
    if has_content(log):
        raise StoreError(
            f"{where} is on a read-only file system, and its write-ahead log "
            f"({log.name}) holds changes not yet in the file, which cannot be read "
            "there; open it once where it can be written (or copy the .db and "
            "-wal files to such a place)"
        ) from None
    return True


def refuse_network_file_system(path: Path) -> None:
    """Refuse a store on a network file system mounted writable (see sqlite.py's docs)."""
    table = _mounts.mount_table()
    mount = None if table is None else _mounts.mount_of(path, table)
    if mount is not None and mount.networked and not mount.read_only:
        raise StoreError(
            f"{str(path)!r} is on a network file system ({mount.type} at "
            f"{mount.point}), where a SQLite store can be damaged without any error: "
            "its write-ahead log needs memory that processes on different machines "
            "do not share, and such file systems' locks are unreliable; keep the "
            "store on a local disk, or use a PostgreSQL store (postgresql://) that "
            "many machines share"
        )


def migrate(connection: sqlite3.Connection, path: Path, timeout: float) -> None:
    """Apply missing migrations; with several processes at once, exactly one does."""
    enter_wal(connection, timeout)
    connection.execute("BEGIN IMMEDIATE")
    try:
        version = check_identity(connection, path)
        for number in range(version + 1, len(MIGRATIONS) + 1):
            for step in MIGRATIONS[number - 1]:
                if isinstance(step, str):
                    connection.execute(step)
                else:
                    step(connection)
        if version < len(MIGRATIONS):
            for statement in views():  # the analyst's views, as this release makes them
                connection.execute(statement)
            connection.execute(f"PRAGMA application_id={APPLICATION_ID}")
            connection.execute(f"PRAGMA user_version={len(MIGRATIONS)}")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise


def enter_wal(connection: sqlite3.Connection, timeout: float) -> None:
    """Switch the file to WAL, waiting up to the store's timeout for other openers.

    The switch needs the file to itself and SQLite's busy handler does not wait for
    it, so processes opening a new store at once would fail here without the retry.
    """
    deadline = time.monotonic() + timeout
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


def check_identity(connection: sqlite3.Connection, path: Path) -> int:
    """The layout version of the file, 0 for an empty one; refuses another program's."""
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
            f"{str(path)!r} is a SQLite database of another program (tables: "
            f"{shown}), not a strategy-experiments store; choose another path"
        )
    if version > len(MIGRATIONS):
        raise newer_layout(repr(str(path)), "store schema", version, len(MIGRATIONS))
    return int(version)


def has_content(path: Path) -> bool:
    try:
        return path.stat().st_size > 0
    except OSError:
        return False


def uri_path(path: Path) -> str:
    text = os.fspath(path.absolute())
    for char, escaped in (("%", "%25"), ("?", "%3f"), ("#", "%23")):
        text = text.replace(char, escaped)
    return text
