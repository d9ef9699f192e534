"""Finding, loading and calling plugins.

One :class:`Plugins` object belongs to each opened store (or is shared explicitly by the
caller): there is no process-wide plugin registry, and nothing is discovered when
``experiments`` is imported.  Plugins come from three places, in this order: the
library's built-in parts, installed packages that declare an entry point in the group
``experiments`` (unless ``EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD=1`` or ``autoload=False``),
and objects passed in code.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Final

import attrs
import pluggy

from experiments import hookspecs
from experiments.errors import PluginError

if TYPE_CHECKING:
    from experiments.checks import Check
    from experiments.hookspecs import BackendFactory
    from experiments.reports import ReportFormat

__all__ = [
    "AUTOLOAD_ENV",
    "ENTRY_POINT_GROUP",
    "BackendInfo",
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
ENTRY_POINT_GROUP: Final = "experiments"
#: The environment variable that, set to ``1``, keeps installed plugins from loading.
AUTOLOAD_ENV: Final = "EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD"

_log = logging.getLogger("experiments.plugins")

#: The built-in parts, registered through the same hooks as any plugin.
BUILTIN_PLUGINS: Final = (
    "experiments.stores.builtin",
    "experiments.checks.builtin",
    "experiments.reports.builtin",
)


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
class BackendInfo:
    """A storage backend registered for a URL scheme."""

    scheme: str
    factory: BackendFactory
    plugin: str
    description: str = ""


def autoload_disabled() -> bool:
    """Whether ``EXPERIMENTS_DISABLE_PLUGIN_AUTOLOAD`` turns entry-point discovery off."""
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in ("", "0", "false", "no")


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
        self._impls: dict[str, list[pluggy.HookImpl]] = {}
        for module_name in BUILTIN_PLUGINS:
            module = importlib.import_module(module_name)
            self._add(module, module_name, PluginInfo(module_name, "builtin"))
        if autoload if autoload is not None else not autoload_disabled():
            self._load_entry_points()
        for plugin in plugins:
            self.register(plugin)

    # --- registration -------------------------------------------------------------------

    def _add(self, plugin: object, name: str, info: PluginInfo) -> None:
        if self._manager.has_plugin(name) or self._manager.is_registered(plugin):
            return
        try:
            self._manager.register(plugin, name=name)
            self._manager.check_pending()
        except pluggy.PluginValidationError as exc:
            self._manager.unregister(plugin)
            raise PluginError(f"plugin {name!r} is not valid: {exc}") from exc
        except ValueError as exc:  # a hook implemented that no specification declares
            if self._manager.is_registered(plugin):
                self._manager.unregister(plugin)
            raise PluginError(
                f"plugin {name!r} implements a hook that does not exist: {exc}; "
                "check the function names against experiments.hookspecs"
            ) from exc
        self._info[name] = info
        self._forget()

    def _forget(self) -> None:
        """Drop what was collected from the hooks: the set of plugins changed."""
        self._registries.clear()
        self._impls.clear()

    def _load_entry_points(self) -> None:
        import importlib.metadata  # noqa: PLC0415 - 20 ms, and only autoloading needs it

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

    def _implementations(self, hook_name: str) -> list[pluggy.HookImpl]:
        cached = self._impls.get(hook_name)
        if cached is None:
            hook = getattr(self._manager.hook, hook_name)
            # pluggy calls the last registered first; keep that order.
            cached = self._impls[hook_name] = [
                impl
                for impl in reversed(hook.get_hookimpls())
                if not impl.hookwrapper and not impl.wrapper
            ]
        return cached

    def collect(self, hook_name: str, make_register: Callable[[str], Callable[..., None]]) -> None:
        """Call a registration hook, giving each plugin a callback that knows its name.

        Plugins are called in the order they were registered (built-in parts first), so
        what they register is listed in that order too.
        """
        for impl in reversed(self._implementations(hook_name)):
            register = make_register(impl.plugin_name)
            try:
                impl.function(**_accepted(impl, {"register": register}))
            except PluginError:
                raise
            except Exception as exc:
                raise PluginError(
                    f"plugin {impl.plugin_name!r} failed in {hook_name}: "
                    f"{type(exc).__name__}: {exc}"
                ) from exc

    def has_listeners(self, hook_name: str) -> bool:
        """Whether any plugin implements the event hook ``hook_name``."""
        return bool(self._implementations(hook_name))

    def notify(self, hook_name: str, **kwargs: Any) -> None:
        """Call an event hook on every plugin; a plugin that raises is logged, not fatal."""
        for impl in self._implementations(hook_name):
            try:
                impl.function(**_accepted(impl, kwargs))
            except Exception:  # noqa: BLE001 - any plugin failure is logged, never fatal
                _log.warning(
                    "plugin %r raised in hook %s; the write it reports is committed and stays",
                    impl.plugin_name,
                    hook_name,
                    exc_info=True,
                )

    # --- what plugins register -----------------------------------------------------------

    def _registry(self, hook_name: str, noun: str, admit: Callable[..., tuple[str, Any]]) -> Any:
        """What the plugins register through ``hook_name``, by key, collected once.

        ``admit(plugin_name, *args, **kwargs)`` checks one registration and returns its
        key and what to keep; a key registered twice is a PluginError naming both plugins.
        """
        with self._lock:
            cached = self._registries.get(hook_name)
            if cached is None:
                found: dict[str, Any] = {}

                def make_register(plugin_name: str) -> Callable[..., None]:
                    def register(*args: Any, **kwargs: Any) -> None:
                        key, info = admit(plugin_name, *args, **kwargs)
                        if key in found:
                            raise PluginError(
                                f"{noun} {key!r} is registered by both {found[key].plugin!r} "
                                f"and {plugin_name!r}; uninstall one of them"
                            )
                        found[key] = info

                    return register

                self.collect(hook_name, make_register)
                cached = self._registries[hook_name] = found
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


def _accepted(impl: pluggy.HookImpl, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {name: kwargs[name] for name in impl.argnames if name in kwargs}
