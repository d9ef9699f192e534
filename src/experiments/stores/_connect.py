"""Opening a store from a URL."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final, TypeVar

from experiments._announced import installed_may_load
from experiments.errors import ExperimentsError, PluginError, StoreURLError
from experiments.model._validate import checked_name
from experiments.stores.url import StoreURL

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores.base import Store

__all__ = ["DEFAULT_URL", "STORE_ENV", "connect", "named_by_environment"]

#: The environment variable naming the store when no URL is given.
STORE_ENV: Final = "EXPERIMENTS_STORE"
#: The embedded default: ``experiments.db`` in the working directory.
DEFAULT_URL: Final = "sqlite:///experiments.db"

T = TypeVar("T")

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
        StoreURLError: the URL is malformed, its scheme has no backend, or it has an
            option its backend does not take (also a StoreError and a ValidationError).
        StoreError: the store cannot be opened.
        PluginError: an installed plugin failed to load, or its backend failed to open
            the store in a way of its own.
        ValidationError: ``actor`` is not a name (text a store can hold).

    Errors about the store name the ``EXPERIMENTS_STORE`` variable when the URL came
    from it; one about ``actor`` does not.
    """
    checked_actor = checked_name(actor, "actor")  # not about the URL, wherever it came from
    from_environment = url is None and bool(os.environ.get(STORE_ENV))
    try:
        return _connect(url, plugins=plugins, create=create, actor=checked_actor)
    except ExperimentsError as exc:
        if from_environment:
            raise named_by_environment(exc) from exc
        raise


def _connect(
    url: str | StoreURL | None,
    *,
    plugins: Plugins | None,
    create: bool | None,
    actor: str | None,
) -> Store:
    if isinstance(url, StoreURL):
        parsed = url
    else:
        text = url if url is not None else (os.environ.get(STORE_ENV) or DEFAULT_URL)
        parsed = StoreURL.parse(text)
    if plugins is None and not installed_may_load():
        # The plugins would be the built-in parts alone: the backend is found without
        # them, and the store makes them when one of their hooks is first called.
        from experiments.stores._openers import (  # noqa: PLC0415 - loaded when a store opens
            BUILTIN_BACKENDS,
            REGISTERED_BY,
        )

        openers = {scheme: opener for scheme, (opener, _) in BUILTIN_BACKENDS.items()}
        opener = _found(parsed, openers)
        store = _open(parsed, REGISTERED_BY, lambda: opener(parsed, plugins=None, create=create))
    else:
        if plugins is None:
            from experiments.plugins import Plugins  # noqa: PLC0415 - loaded when a store opens

            plugins = Plugins()
        chosen = plugins
        backend = _found(parsed, chosen.backends())
        store = _open(
            parsed,
            backend.plugin,
            lambda: backend.factory(parsed, plugins=chosen, create=create),
        )
    store.actor = actor
    return store


def _found(url: StoreURL, backends: Mapping[str, T]) -> T:
    """The backend of ``url``'s scheme; a StoreURLError naming those there are if none."""
    backend = backends.get(url.scheme)
    if backend is None:
        installed = ", ".join(sorted(backends)) or "none"
        hint = _HINTS.get(
            url.scheme,
            f"install a plugin package that registers the {url.scheme!r} scheme",
        )
        raise StoreURLError(
            f"unknown store scheme {url.scheme!r} in {url.redacted}; installed: {installed}; {hint}"
        )
    return backend


def _open(url: StoreURL, plugin: str, opening: Callable[[], object]) -> Store:
    """The store ``opening`` opens for ``url`` with a backend of ``plugin``.

    A PluginError if the backend fails in its own way.
    """
    from experiments.stores.base import Store  # noqa: PLC0415 - base imports this module's users

    whose = f"the {url.scheme!r} backend of the plugin {plugin!r}"
    try:
        store = opening()
    except ExperimentsError as exc:
        masked = url.mask(str(exc))
        if masked == str(exc):
            raise
        raise _retold(exc, masked) from None  # not chained: its text held a secret
    except Exception as exc:  # noqa: BLE001 - any failure of a plugin becomes a PluginError
        masked = url.mask(str(exc))
        error = PluginError(
            f"{whose} failed to open {url.redacted}: {type(exc).__name__}: {masked}; "
            "report this to the plugin's authors"
        )
        # An error whose text held a secret is not chained: a traceback would print it.
        raise error from (exc if masked == str(exc) else None)
    if not isinstance(store, Store):
        raise PluginError(
            f"{whose} gave {type(store).__name__}, not a Store, for {url.redacted}; report "
            "this to the plugin's authors"
        )
    return store


def named_by_environment(exc: ExperimentsError) -> ExperimentsError:
    """``exc`` saying that the store URL came from ``EXPERIMENTS_STORE`` (once)."""
    if STORE_ENV in str(exc):
        return exc
    return _retold(exc, f"{exc} (the store URL came from the {STORE_ENV} environment variable)")


def _retold(exc: ExperimentsError, text: str) -> ExperimentsError:
    """``exc`` as an error of its class saying ``text``, with its cause."""
    try:
        told = type(exc)(text)
    except TypeError:  # an error class of a plugin's that takes other arguments
        return exc
    told.__cause__ = exc.__cause__
    return told
