"""The built-in storage backends, registered through the same hook as any plugin's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.errors import StoreError
from experiments.plugins import hookimpl

if TYPE_CHECKING:
    from experiments.hookspecs import RegisterBackend
    from experiments.plugins import Plugins
    from experiments.stores.base import Store
    from experiments.stores.url import StoreURL


def _memory(url: StoreURL, *, plugins: Plugins, create: bool | None) -> Store:
    from experiments.stores.memory import MemoryStore  # noqa: PLC0415 - loaded when used

    del create  # a memory store always exists
    url.refuse_credentials("memory")
    return MemoryStore(url, plugins=plugins)


def _sqlite(url: StoreURL, *, plugins: Plugins, create: bool | None) -> Store:
    from experiments.stores.sqlite import SQLiteStore  # noqa: PLC0415 - loaded when used

    url.refuse_credentials("sqlite")
    return SQLiteStore(url, plugins=plugins, create=create)


def _files(url: StoreURL, *, plugins: Plugins, create: bool | None) -> Store:
    url.refuse_credentials("files")
    try:
        from experiments.stores.files import FileStore  # noqa: PLC0415 - loaded when used
    except ModuleNotFoundError as exc:
        if exc.name != "fcntl":
            raise
        raise StoreError(
            f"{url.redacted}: the files backend needs the file locks of a POSIX system "
            "(Linux, macOS); use sqlite:/// here"
        ) from None
    return FileStore(url, plugins=plugins, create=create)


def _postgres(url: StoreURL, *, plugins: Plugins, create: bool | None) -> Store:
    try:
        from experiments.stores.postgres import PostgresStore  # noqa: PLC0415 - loaded when used
    except ImportError as exc:  # psycopg or psycopg_pool missing, or without libpq
        raise StoreError(
            f"{url.redacted} needs the PostgreSQL driver (psycopg 3 and psycopg_pool), which "
            f"cannot be imported: {exc}; pip install 'strategy-experiments[postgres]'"
        ) from None
    return PostgresStore(url, plugins=plugins, create=create)


@hookimpl
def register_backends(register: RegisterBackend) -> None:
    register("sqlite", _sqlite, description="one SQLite file; the embedded default")
    register("files", _files, description="a directory of JSON files, one per version")
    register("memory", _memory, description="this process's memory; gone when it ends")
    register(
        "postgresql",
        _postgres,
        description="a PostgreSQL server shared by many teams (extra: postgres)",
    )
    register("postgres", _postgres, description="the same as postgresql://")
