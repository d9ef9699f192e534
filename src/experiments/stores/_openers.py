"""How each built-in backend opens a store, by URL scheme.

:mod:`experiments.stores.builtin` registers these through the same hook as any plugin;
:func:`experiments.connect` looks a scheme up here directly when no installed plugin
can load, so that opening a store needs no plugin manager (pluggy) until a hook is
called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final, Protocol

from experiments.errors import StoreError

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores.base import Store
    from experiments.stores.url import StoreURL

__all__ = ["BUILTIN_BACKENDS", "REGISTERED_BY", "Opener"]

#: The plugin the built-in backends belong to, as :class:`~experiments.plugins.Plugins`
#: names it.
REGISTERED_BY: Final = "experiments.stores.builtin"


class Opener(Protocol):
    """A built-in backend's factory: plugins None lets the store make its own when needed."""

    def __call__(self, url: StoreURL, *, plugins: Plugins | None, create: bool | None) -> Store: ...


def _memory(url: StoreURL, *, plugins: Plugins | None, create: bool | None) -> Store:
    from experiments.stores.memory import MemoryStore  # noqa: PLC0415 - loaded when used

    del create  # a memory store always exists
    url.refuse_credentials("memory")
    return MemoryStore(url, plugins=plugins)


def _sqlite(url: StoreURL, *, plugins: Plugins | None, create: bool | None) -> Store:
    from experiments.stores.sqlite import SQLiteStore  # noqa: PLC0415 - loaded when used

    url.refuse_credentials("sqlite")
    return SQLiteStore(url, plugins=plugins, create=create)


def _files(url: StoreURL, *, plugins: Plugins | None, create: bool | None) -> Store:
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


def _postgres(url: StoreURL, *, plugins: Plugins | None, create: bool | None) -> Store:
    try:
        from experiments.stores.postgres import PostgresStore  # noqa: PLC0415 - loaded when used
    except ImportError as exc:  # psycopg or psycopg_pool missing, or without libpq
        raise StoreError(
            f"{url.redacted} needs the PostgreSQL driver (psycopg 3 and psycopg_pool), which "
            f"cannot be imported: {exc}; pip install 'strategy-experiments[postgres]'"
        ) from None
    return PostgresStore(url, plugins=plugins, create=create)


#: Each built-in scheme: how it opens a store, and what it is.
BUILTIN_BACKENDS: Final[dict[str, tuple[Opener, str]]] = {
    "sqlite": (_sqlite, "one SQLite file; the embedded default"),
    "files": (_files, "a directory of JSON files, one per version"),
    "memory": (_memory, "this process's memory; gone when it ends"),
    "postgresql": (_postgres, "a PostgreSQL server shared by many teams (extra: postgres)"),
    "postgres": (_postgres, "the same as postgresql://"),
}
