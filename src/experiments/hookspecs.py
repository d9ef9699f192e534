"""The hooks through which plugins extend strategy-experiments.

A plugin is a module or object with functions marked ``@experiments.hookimpl`` whose
names match the specifications below.  Installed packages announce plugins through the
entry-point group ``experiments``; code can also register them explicitly with
``Plugins(plugins=[...])`` or :meth:`experiments.plugins.Plugins.register`.  The
library's own backends, checks and report formats register through these same hooks.

A hook implementation may accept any subset of a hook's arguments, by name.

*Registration hooks* (``register_*``) are called once, when a
:class:`~experiments.plugins.Plugins` object first needs what they register.  They get a
``register`` callback and return nothing.

*Event hooks* are called after a write has committed, never before: the store is
already changed when they run, and nothing they do can undo it.  Each event is a frozen
object of :mod:`experiments.events`; its fields are the hook's arguments, and
:func:`on_event` gets the object itself.  The library calls every hook through pluggy,
so ``@hookimpl(wrapper=True)``, ``tryfirst`` and ``trylast`` work as pluggy documents.
An exception raised by an event hook is logged as a warning that names the plugin and
the hook, and the write still succeeds; the other plugins' hooks still run.  Events are
not fired for imports (:meth:`~experiments.stores.Store.import_records`), which restore
history rather than make it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

import pluggy

if TYPE_CHECKING:
    import os

    from experiments.checks import Check
    from experiments.events import Event
    from experiments.model import Decision, Experiment, Learning, Measurement, Record
    from experiments.plugins import Plugins
    from experiments.reports import ReportFormat
    from experiments.stores import Store, StoreURL

__all__ = [
    "BackendFactory",
    "RegisterBackend",
    "RegisterCatalog",
    "RegisterCheck",
    "RegisterReportFormat",
    "experiment_abandoned",
    "experiment_concluded",
    "experiment_decided",
    "experiment_started",
    "learning_recorded",
    "measurement_recorded",
    "object_purged",
    "object_rewritten",
    "object_saved",
    "on_event",
    "register_backends",
    "register_catalogs",
    "register_checks",
    "register_report_formats",
]

hookspec = pluggy.HookspecMarker("experiments")


class BackendFactory(Protocol):
    """Opens a store for a URL of the scheme it was registered for."""

    def __call__(self, url: StoreURL, *, plugins: Plugins, create: bool | None) -> Store: ...


class RegisterBackend(Protocol):
    """The callback handed to :func:`register_backends`."""

    def __call__(self, scheme: str, factory: BackendFactory, *, description: str = "") -> None: ...


# --- registration -----------------------------------------------------------------------


@hookspec
def register_backends(register: RegisterBackend) -> None:
    """Register storage backends by URL scheme.

    Called once per :class:`~experiments.plugins.Plugins`, the first time a store is
    opened or the backends are listed.  Call ``register(scheme, factory,
    description=...)`` once per scheme; ``factory(url, plugins=..., create=...)`` must
    return an open :class:`~experiments.stores.Store`.  ``create`` is None when the store
    should be created on its first write, True to create it now, False never to create
    it.  A scheme registered twice is a :class:`~experiments.errors.PluginError`.

    Args:
        register: callback taking the scheme (lowercase, e.g. ``"sqlite"``), the
            factory and an optional one-line description.
    """


class RegisterCheck(Protocol):
    """The callback handed to :func:`register_checks`."""

    def __call__(self, check: Check) -> None: ...


@hookspec
def register_checks(register: RegisterCheck) -> None:
    """Register checks a programme is held to.

    Called once per :class:`~experiments.plugins.Plugins`, the first time checks are
    run or listed.  Call ``register(check)`` with an :class:`experiments.checks.Check`
    for each check; its ``id`` must be unique across all plugins (a clash is a
    :class:`~experiments.errors.PluginError`).  The built-in checks come through this
    same hook.

    Args:
        register: callback taking one :class:`~experiments.checks.Check`.
    """


class RegisterReportFormat(Protocol):
    """The callback handed to :func:`register_report_formats`."""

    def __call__(self, report_format: ReportFormat) -> None: ...


@hookspec
def register_report_formats(register: RegisterReportFormat) -> None:
    """Register formats that reports can be rendered in.

    Called once per :class:`~experiments.plugins.Plugins`, the first time a report is
    rendered or the formats are listed.  Call ``register(report_format)`` with an
    :class:`experiments.reports.ReportFormat` for each format; its ``name`` (what a
    caller passes as ``format=``) must be unique across all plugins (a clash is a
    :class:`~experiments.errors.PluginError`).  The built-in Markdown, JSON, CSV and
    HTML formats come through this same hook.  Keep the import of whatever the format
    renders with (a template engine, a PDF library) inside its ``render`` function, so
    that registering stays cheap.  What the hook returns is ignored.

    Args:
        register: callback taking one :class:`~experiments.reports.ReportFormat`.
    """


class RegisterCatalog(Protocol):
    """The callback handed to :func:`register_catalogs`."""

    def __call__(self, directory: str | os.PathLike[str], domain: str) -> None: ...


@hookspec
def register_catalogs(register: RegisterCatalog) -> None:
    """Register gettext catalogs that translate a plugin's checks into report languages.

    Called once per :class:`~experiments.plugins.Plugins`, the first time a report is
    gathered with findings.  Call ``register(directory, domain)`` with the directory
    holding ``<language>/LC_MESSAGES/<domain>.mo`` (the layout ``pybabel compile``
    writes) and the catalog's gettext domain; the domain must be unique across plugins
    (a clash is a :class:`~experiments.errors.PluginError`), and the directory must
    exist.  A report in Danish, Norwegian or Swedish looks each finding of the plugin's
    checks up in its catalogs first, then in the library's own: the message ids are the
    English texts the checks give :meth:`~experiments.checks.Check.finding` (and
    :class:`~experiments.checks.Message`), a check's ``summary`` under the context
    ``"check"`` and its ``move`` under ``"brave move"``.  A message no catalog has is
    shown in English.

    Args:
        register: callback taking the catalog directory and the gettext domain.
    """


# --- events -------------------------------------------------------------------------------


@hookspec
def object_saved(store: Store, record: Record, previous_revision: int) -> None:
    """A new version of a record was committed.

    Called once for every record written by a save, a batch, a soft delete or a restore
    (a deletion is saved as a version with ``deleted_at`` set), after the transaction
    committed.

    Args:
        store: the store written to.
        record: the version as stored, with its new ``revision`` and ``updated_at``.
        previous_revision: the revision it replaced; 0 for a newly created record.
    """


@hookspec
def object_purged(store: Store, kind: str, id: str) -> None:  # noqa: A002 - the record's id
    """A record and every one of its versions were removed for good.

    Called after the purge committed.  Use it to erase copies the plugin keeps
    elsewhere (a citizen's right to erasure covers them too).

    Args:
        store: the store purged from.
        kind: the purged record's kind, e.g. ``"participant"``.
        id: the purged record's id; nothing else about it is left to read.
    """


@hookspec
def object_rewritten(store: Store, kind: str, id: str) -> None:  # noqa: A002 - the record's id
    """Every version of a record was rewritten in place to erase a person from it.

    Called after the erasure committed (:meth:`Store.erase
    <experiments.stores.Store.erase>`), once per record rewritten: the participant and
    each record that quoted them.  Copies the plugin keeps of the record's versions
    hold data that is gone: replace them from ``store.history(id)``.

    Args:
        store: the store the erasure was committed to.
        kind: the rewritten record's kind, e.g. ``"participant"``.
        id: the rewritten record's id, which stays.
    """


@hookspec
def experiment_started(store: Store, experiment: Experiment) -> None:
    """An experiment moved from planned to running, and that version is committed.

    Also called for an experiment stored for the first time as already running (or
    further along), so every experiment that ran is announced once.

    Args:
        store: the store written to.
        experiment: the running version as stored.
    """


@hookspec
def experiment_concluded(store: Store, experiment: Experiment) -> None:
    """An experiment moved to concluded: its test is over; learnings and a decision follow.

    Args:
        store: the store written to.
        experiment: the concluded version as stored.
    """


@hookspec
def experiment_decided(store: Store, experiment: Experiment, decision: Decision | None) -> None:
    """An experiment moved from concluded to decided.

    Args:
        store: the store written to.
        experiment: the decided version as stored.
        decision: the decision about it, when one was saved in the same write or is in
            the store (the latest by ``decided_at``); None when none was recorded.
    """


@hookspec
def experiment_abandoned(store: Store, experiment: Experiment) -> None:
    """An experiment was abandoned before it concluded.

    Args:
        store: the store written to.
        experiment: the abandoned version as stored; ``abandon_reason`` says why.
    """


@hookspec
def learning_recorded(store: Store, learning: Learning) -> None:
    """A new learning was committed (its first version; later edits are ``object_saved``).

    Args:
        store: the store written to.
        learning: the learning as stored.
    """


@hookspec
def measurement_recorded(store: Store, measurement: Measurement) -> None:
    """A new measurement was committed (its first version).

    ``measurement.measured_at`` may lie well before now: late data is normal.

    Args:
        store: the store written to.
        measurement: the measurement as stored.
    """


@hookspec
def on_event(event: Event) -> None:
    """Any event, as the frozen object of :mod:`experiments.events` it is.

    Called for every event, after the event's own hook, for plugins that keep a log of
    everything (an audit trail, a message queue) and would rather take one typed object
    than implement every hook.

    Args:
        event: what happened; ``type(event).hook`` names the hook it also went to.
    """
