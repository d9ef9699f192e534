"""Opening a store from a URL."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Final

from experiments.errors import StoreError
from experiments.model._validate import checked_name
from experiments.stores.url import StoreURL

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores.base import Store

__all__ = ["DEFAULT_URL", "STORE_ENV", "connect"]

#: The environment variable naming the store when no URL is given.
STORE_ENV: Final = "EXPERIMENTS_STORE"
#: The embedded default: ``experiments.db`` in the working directory.
DEFAULT_URL: Final = "sqlite:///experiments.db"

_HINTS: Final = {
    "postgresql": "pip install 'strategy-experiments[postgres]'",
    "postgres": "pip install 'strategy-experiments[postgres]'",
}


def connect(
    url: str | StoreURL | None = None,
    *,
    plugins: Plugins | None = None,
    create: bool | None = None,
    actor: str | None = None,
) -> Store:
    """Open the store at ``url``; its scheme picks the backend.

    Args:
        url: ``sqlite:///relative.db``, ``sqlite:////absolute.db``, ``memory://``, or any
            scheme a plugin registers.  None means the ``EXPERIMENTS_STORE`` environment
            variable, else ``experiments.db`` in the working directory.
        plugins: the plugins to use; None loads the built-in ones and every installed
            plugin (see :class:`~experiments.plugins.Plugins`).
        create: None creates a missing store on its first write (reads of a missing store
            fail rather than create an empty one at a mistyped path); True creates it
            now; False never creates it.
        actor: who is writing, recorded as ``changed_by`` on every version saved
            through this store unless a call says otherwise with ``by=``.

    Raises:
        StoreError: the URL is malformed, its scheme has no backend, or the store cannot
            be opened.
        PluginError: an installed plugin failed to load.
    """
    if isinstance(url, StoreURL):
        parsed = url
    else:
        text = url if url is not None else (os.environ.get(STORE_ENV) or DEFAULT_URL)
        parsed = StoreURL.parse(text)
    checked_actor = checked_name(actor, "actor")
    if plugins is None:
        from experiments.plugins import Plugins  # noqa: PLC0415 - loaded when a store opens

        plugins = Plugins()
    backends = plugins.backends()
    backend = backends.get(parsed.scheme)
    if backend is None:
        installed = ", ".join(sorted(backends)) or "none"
        hint = _HINTS.get(
            parsed.scheme,
            f"install a plugin package that registers the {parsed.scheme!r} scheme",
        )
        raise StoreError(
            f"unknown store scheme {parsed.scheme!r} in {parsed.redacted}; installed: "
            f"{installed}; {hint}"
        )
    store = backend.factory(parsed, plugins=plugins, create=create)
    store.actor = checked_actor
    return store
