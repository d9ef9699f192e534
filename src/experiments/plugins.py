"""Finding, loading and calling plugins.

One :class:`Plugins` object belongs to each opened store (or is shared explicitly by the
caller): there is no process-wide plugin registry, and nothing is discovered when
``experiments`` is imported.  Plugins come from three places, in this order: the
library's built-in parts, installed packages that declare an entry point in the group
``experiments`` (unless ``EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD=1`` or ``autoload=False``),
and objects passed in code.
"""

from __future__ import annotations

import contextvars
import functools
import importlib
import os
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import attrs
import pluggy

from experiments import _announced, hookspecs
from experiments._announced import autoload_disabled, may_announce
from experiments.errors import PluginError

if TYPE_CHECKING:
    from experiments.checks import Check
    from experiments.events import Event
    from experiments.hookspecs import BackendFactory
    from experiments.reports import ReportFormat

__all__ = [
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "BackendInfo",
    "CatalogInfo",
    "CheckInfo",
    "PluginInfo",
    "Plugins",
    "ReportFormatInfo",
    "hookimpl",
]

#: Marks a function as the implementation of a hook (``@experiments.hookimpl``); pluggy's
#: ``HookimplMarker("experiments")``, so ``@hookimpl(tryfirst=True)`` and the other
#: options of pluggy work.  Also ``experiments.hookimpl``.
hookimpl: Final = pluggy.HookimplMarker("experiments")

#: The entry-point group installed plugins announce themselves in.
ENTRY_POINT_GROUP: Final = _announced.ENTRY_POINT_GROUP
#: The environment variable that, set to ``1``, keeps installed plugins from loading.
AUTOLOAD_ENV: Final = _announced.AUTOLOAD_ENV

#: The name of the logger plugins' failures in event hooks are logged to.
_LOGGER: Final = "experiments.plugins"

#: The built-in parts, registered through the same hooks as any plugin, each with the
#: one hook it implements: its module is imported when that hook is first called, so
#: that opening a store to list records imports no checks and no report formats.
BUILTIN_PLUGINS: Final = {
    "experiments.stores.builtin": "register_backends",
    "experiments.checks.builtin": "register_checks",
    "experiments.reports.builtin": "register_report_formats",
}


@attrs.frozen
class PluginInfo:
    """A registered plugin and where it came from."""

    name: str
    source: str  # "builtin", "entry point" or "code"
    distribution: str | None = None
    version: str | None = None


@attrs.frozen
class CheckInfo:
    """A registered check and the plugin it came from."""

    check: Check
    plugin: str


@attrs.frozen
class ReportFormatInfo:
    """A registered report format and the plugin it came from."""

    format: ReportFormat
    plugin: str


@attrs.frozen
class CatalogInfo:
    """A gettext catalog a plugin registered: its directory, its domain, its plugin."""

    directory: Path
    domain: str
    plugin: str


@attrs.frozen
class BackendInfo:
    """A storage backend registered for a URL scheme."""

    scheme: str
    factory: BackendFactory
    plugin: str
    description: str = ""


class Plugins:
    """The plugins one store (or one program) works with, behind a typed facade.

    Args:
        autoload: load plugins from installed packages' ``experiments`` entry points.
            None (the default) means yes unless ``EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD``
            is set; tests pass False so that whatever happens to be installed stays out.
        plugins: extra plugin objects or modules to register, in order.

    Raises:
        PluginError: a plugin failed to import, or implements a hook that does not exist
            (usually a misspelt function name).
    """

    def __init__(self, *, autoload: bool | None = None, plugins: Iterable[object] = ()) -> None:
        self._manager = pluggy.PluginManager("experiments")
        self._manager.add_hookspecs(hookspecs)
        self._info: dict[str, PluginInfo] = {}
        self._lock = threading.RLock()
        self._registries: dict[str, dict[str, Any]] = {}
        self._order: dict[str, int] = {}
        self._originals: dict[int, str] = {}  # id of each plugin object registered -> name
        self._listening: bool | None = None
        for module_name, hook in BUILTIN_PLUGINS.items():
            self._add(_Builtin(module_name, hook), module_name, PluginInfo(module_name, "builtin"))
        if autoload if autoload is not None else not autoload_disabled():
            self._load_entry_points()
        for plugin in plugins:
            self.register(plugin)

    # --- registration -------------------------------------------------------------------

    def _add(self, plugin: object, name: str, info: PluginInfo) -> None:
        if self._manager.has_plugin(name) or id(plugin) in self._originals:
            return
        guarded = _Guarded(plugin, name)
        try:
            self._manager.register(guarded, name=name)
        except pluggy.PluginValidationError as exc:  # a hook with arguments it has not
            raise PluginError(
                f"plugin {name!r} is not valid: {_one_line(exc)}; fix the hook's arguments "
                "to those experiments.hookspecs gives it"
            ) from exc
        try:
            self._manager.check_pending()
        except pluggy.PluginValidationError as exc:  # a hook no specification declares
            self._manager.unregister(guarded)
            raise PluginError(
                f"plugin {name!r} implements a hook that does not exist: {_one_line(exc)}; "
                "check the function names against experiments.hookspecs"
            ) from exc
        self._order[name] = len(self._order)
        self._originals[id(plugin)] = name
        self._info[name] = info
        self._forget()

    def _forget(self) -> None:
        """Drop what was collected from the hooks: the set of plugins changed."""
        self._registries.clear()
        self._listening = None

    def _load_entry_points(self) -> None:
        if not may_announce(ENTRY_POINT_GROUP):
            return
        import importlib.metadata  # noqa: PLC0415 - 10 ms, and only a plugin installed needs it

        for entry_point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
            distribution = entry_point.dist.name if entry_point.dist is not None else None
            version = entry_point.dist.version if entry_point.dist is not None else None
            try:
                plugin = entry_point.load()
            except Exception as exc:
                origin = f" (from {distribution} {version})" if distribution else ""
                raise PluginError(
                    f"plugin {entry_point.name!r}{origin} failed to load: "
                    f"{type(exc).__name__}: {exc}; fix or uninstall it, or set "
                    f"{AUTOLOAD_ENV}=1 to skip installed plugins"
                ) from exc
            self._add(
                plugin,
                entry_point.name,
                PluginInfo(entry_point.name, "entry point", distribution, version),
            )

    def register(self, plugin: object, name: str | None = None) -> None:
        """Register a plugin object or module from code."""
        with self._lock:
            label = name or getattr(plugin, "__name__", None) or f"plugin-{id(plugin):x}"
            self._add(plugin, label, PluginInfo(label, "code"))

    def unregister(self, name: str) -> None:
        """Remove a plugin by name; unknown names are ignored."""
        with self._lock:
            plugin = self._manager.get_plugin(name)
            if plugin is not None:
                self._manager.unregister(plugin)
                self._originals.pop(id(getattr(plugin, "plugin", plugin)), None)
                self._info.pop(name, None)
                self._forget()

    @property
    def manager(self) -> pluggy.PluginManager:
        """The underlying pluggy manager, for tools that need pluggy itself."""
        return self._manager

    def plugins(self) -> list[PluginInfo]:
        """Every registered plugin, built-in ones first."""
        return list(self._info.values())

    # --- calling hooks ----------------------------------------------------------------

    def listening(self) -> bool:
        """Whether any plugin implements an event hook: if none does, no event is made."""
        if self._listening is None:
            hooks = self._manager.hook
            self._listening = any(
                getattr(hooks, name).get_hookimpls() for name in (*_event_hooks(), "on_event")
            )
        return self._listening

    def has_listeners(self, hook_name: str) -> bool:
        """Whether any plugin implements the event hook ``hook_name``."""
        return bool(getattr(self._manager.hook, hook_name).get_hookimpls())

    def dispatch(self, event: Event) -> None:
        """Deliver ``event`` to its hook and to ``on_event``, through pluggy.

        Wrappers, ``tryfirst`` and ``trylast`` apply as pluggy documents.  A plugin whose
        hook raises is logged, naming the plugin and the hook, and the others still run:
        the write the event reports is committed and stays.
        """
        hooks = self._manager.hook
        for call, kwargs in (
            (getattr(hooks, event.hook), event.arguments()),
            (hooks.on_event, {"event": event}),
        ):
            try:
                call(**kwargs)
            except Exception as exc:  # noqa: BLE001 - a wrapper that raised: logged, never fatal
                _warn(
                    exc,
                    "a wrapper of hook %s raised; the write it reports is committed and stays",
                    call.name,
                )

    def _collect(self, hook_name: str, register: Callable[..., None]) -> None:
        """Call a registration hook through pluggy with ``register``.

        Each plugin's implementation is told apart by :data:`_CALLING` while it runs
        (set by :func:`_guard`), so what it registers is known to be its own.
        """
        try:
            getattr(self._manager.hook, hook_name)(register=register)
        except PluginError:
            raise
        except Exception as exc:  # a wrapper that raised
            raise PluginError(
                f"a wrapper of {hook_name} failed: {type(exc).__name__}: {exc}"
            ) from exc

    # --- what plugins register -----------------------------------------------------------

    def _registry(self, hook_name: str, noun: str, admit: Callable[..., tuple[str, Any]]) -> Any:
        """What the plugins register through ``hook_name``, by key, collected once.

        ``admit(plugin_name, *args, **kwargs)`` checks one registration and returns its
        key and what to keep; a key registered twice is a PluginError naming both
        plugins.  Registrations are listed in the order the plugins were registered,
        built-in parts first.
        """
        with self._lock:
            cached = self._registries.get(hook_name)
            if cached is None:
                found: dict[str, Any] = {}

                def register(*args: Any, **kwargs: Any) -> None:
                    plugin_name = _CALLING.get()
                    key, info = admit(plugin_name, *args, **kwargs)
                    if key in found:
                        raise PluginError(
                            f"{noun} {key!r} is registered by both {found[key].plugin!r} "
                            f"and {plugin_name!r}; uninstall one of them"
                        )
                    found[key] = info

                self._collect(hook_name, register)
                order = self._order
                cached = self._registries[hook_name] = dict(
                    sorted(found.items(), key=lambda item: order.get(item[1].plugin, len(order)))
                )
            return cached

    def backends(self) -> dict[str, BackendInfo]:
        """Every registered storage backend by URL scheme."""
        backends: dict[str, BackendInfo] = self._registry(
            "register_backends", "URL scheme", _admit_backend
        )
        return backends

    def checks(self) -> dict[str, CheckInfo]:
        """Every registered check by id, the built-in ones first."""
        checks: dict[str, CheckInfo] = self._registry("register_checks", "check", _admit_check)
        return checks

    def catalogs(self) -> dict[str, CatalogInfo]:
        """Every gettext catalog the plugins registered, by domain."""
        catalogs: dict[str, CatalogInfo] = self._registry(
            "register_catalogs", "gettext domain", _admit_catalog
        )
        return catalogs

    def report_formats(self) -> dict[str, ReportFormatInfo]:
        """Every registered report format by name, the built-in ones first."""
        formats: dict[str, ReportFormatInfo] = self._registry(
            "register_report_formats", "report format", _admit_report_format
        )
        return formats


def _admit_backend(
    plugin_name: str, scheme: str, factory: BackendFactory, *, description: str = ""
) -> tuple[str, BackendInfo]:
    key = str(scheme).lower().strip()
    if not key.isidentifier() and not key.replace("+", "").replace("-", "").isalnum():
        raise PluginError(f"plugin {plugin_name!r} registered an invalid scheme {scheme!r}")
    if not callable(factory):
        raise PluginError(
            f"plugin {plugin_name!r} registered a backend for {key!r} that is not callable"
        )
    return key, BackendInfo(key, factory, plugin_name, description)


def _admit_check(plugin_name: str, check: Check) -> tuple[str, CheckInfo]:
    from experiments.checks import Check  # noqa: PLC0415 - loaded when checks are listed

    if not isinstance(check, Check):
        raise PluginError(
            f"plugin {plugin_name!r} registered {check!r}, which is not an experiments.checks.Check"
        )
    return check.id, CheckInfo(check, plugin_name)


def _admit_catalog(
    plugin_name: str, directory: str | os.PathLike[str], domain: object
) -> tuple[str, CatalogInfo]:
    if not isinstance(domain, str) or not domain.strip() or "/" in domain:
        raise PluginError(
            f"plugin {plugin_name!r} registered the gettext domain {domain!r}; give its "
            "name as text, e.g. 'my_checks'"
        )
    try:
        path = Path(directory)
    except TypeError:
        raise PluginError(
            f"plugin {plugin_name!r} registered {directory!r} as a catalog directory; give a path"
        ) from None
    if not path.is_dir():
        raise PluginError(
            f"plugin {plugin_name!r} registered the catalog directory {path}, which does not "
            "exist; give the directory that holds <language>/LC_MESSAGES/<domain>.mo"
        )
    return domain, CatalogInfo(path, domain, plugin_name)


def _admit_report_format(
    plugin_name: str, report_format: ReportFormat
) -> tuple[str, ReportFormatInfo]:
    from experiments.reports import ReportFormat  # noqa: PLC0415 - loaded when formats are listed

    if not isinstance(report_format, ReportFormat):
        raise PluginError(
            f"plugin {plugin_name!r} registered {report_format!r}, which is not an "
            "experiments.reports.ReportFormat"
        )
    return report_format.name, ReportFormatInfo(report_format, plugin_name)


#: The plugin whose registration hook is running, so that ``register`` knows it.
_CALLING: Final[contextvars.ContextVar[str]] = contextvars.ContextVar("plugin", default="?")
_EVENT_HOOKS: list[frozenset[str]] = []


def _event_hooks() -> frozenset[str]:
    """The hook of every kind of event, known once the events are first asked about."""
    if not _EVENT_HOOKS:
        from experiments.events import EVENTS  # noqa: PLC0415 - only a plugin's hooks need it

        _EVENT_HOOKS.append(frozenset(event.hook for event in EVENTS))
    return _EVENT_HOOKS[0]


def _warn(error: Exception, message: str, *args: object) -> None:
    """Log a plugin's failure as a warning, with the error's traceback."""
    import logging  # noqa: PLC0415 - 4 ms with what it imports, and only a failure needs it

    logging.getLogger(_LOGGER).warning(message, *args, exc_info=error)


class _Guarded:
    """A plugin as the library registers it with pluggy: the same hooks, wrapped.

    pluggy calls the wrapped functions, in its order and inside any wrappers; the
    wrapping only makes an event hook that raises a logged warning (so the other plugins
    still hear the event), and tells a registration hook's ``register`` which plugin is
    calling.  Wrappers themselves are registered as they are.
    """

    def __init__(self, plugin: object, name: str) -> None:
        self.plugin = plugin
        for attribute in dir(plugin):
            value = getattr(plugin, attribute, None)
            options = getattr(value, f"{ENTRY_POINT_GROUP}_impl", None)
            if not callable(value) or not isinstance(options, dict):
                continue
            hook = options.get("specname") or attribute
            if options.get("wrapper") or options.get("hookwrapper"):
                wrapped = value
            elif not isinstance(plugin, _Builtin) and hook in _event_hooks():  # none built in
                wrapped = _logged(value, name, hook)
            else:
                wrapped = _attributed(value, name, hook)
            setattr(self, attribute, wrapped)


class _Builtin:
    """A built-in part as a plugin: its one hook imports its module when first called."""

    def __init__(self, module_name: str, hook: str) -> None:
        def call(register: Callable[..., None]) -> None:
            getattr(importlib.import_module(module_name), hook)(register)

        call.__name__ = call.__qualname__ = hook
        setattr(self, hook, hookimpl(call))


def _logged(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def call(*args: Any) -> Any:
        try:
            return function(*args)
        except Exception as exc:  # noqa: BLE001 - any plugin failure is logged, never fatal
            _warn(
                exc,
                "plugin %r raised in hook %s; the write it reports is committed and stays",
                plugin,
                hook,
            )
            return None

    return call


def _attributed(function: Callable[..., Any], plugin: str, hook: str) -> Callable[..., Any]:
    @functools.wraps(function)
    def call(*args: Any) -> Any:
        token = _CALLING.set(plugin)
        try:
            return function(*args)
        except PluginError:
            raise
        except Exception as exc:
            raise PluginError(
                f"plugin {plugin!r} failed in {hook}: {type(exc).__name__}: {exc}"
            ) from exc
        finally:
            _CALLING.reset(token)

    return call


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())
