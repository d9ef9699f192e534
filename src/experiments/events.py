"""What happened in a store: frozen events, handed to plugins after the write commits.

Each event is a value: its class names the hook it is delivered to (``hook``), and its
fields are that hook's arguments, so ``ObjectSaved(store=..., record=...,
previous_revision=0)`` reaches every plugin's ``object_saved(store, record,
previous_revision)``.  Every event also reaches ``on_event(event)``, for plugins that
want all of them as objects.  A store makes its events from a committed write and
hands them to :meth:`experiments.plugins.Plugins.dispatch`; nothing else sends them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs

if TYPE_CHECKING:
    from experiments.model import Decision, Experiment, Learning, Measurement, Record
    from experiments.stores import Store

__all__ = [
    "EVENTS",
    "Event",
    "ExperimentAbandoned",
    "ExperimentConcluded",
    "ExperimentDecided",
    "ExperimentStarted",
    "LearningRecorded",
    "MeasurementRecorded",
    "ObjectPurged",
    "ObjectRewritten",
    "ObjectSaved",
]


@attrs.frozen(kw_only=True)
class Event:
    """Something a committed write did; ``store`` is where."""

    hook: ClassVar[str]
    store: Store

    def arguments(self) -> dict[str, Any]:
        """The event's fields by name: the arguments of its hook."""
        return {field.name: getattr(self, field.name) for field in attrs.fields(type(self))}


@attrs.frozen(kw_only=True)
class ObjectSaved(Event):
    """A new version of a record was committed (a save, a soft delete or a restore)."""

    hook: ClassVar[str] = "object_saved"
    record: Record
    previous_revision: int


@attrs.frozen(kw_only=True)
class _EveryVersion(Event):
    """Something done to every version of a record, which is named by ``kind`` and ``id``."""

    kind: str
    id: str


@attrs.frozen(kw_only=True)
class ObjectPurged(_EveryVersion):
    """A record and every one of its versions were removed for good."""

    hook: ClassVar[str] = "object_purged"


@attrs.frozen(kw_only=True)
class ObjectRewritten(_EveryVersion):
    """Every version of a record was rewritten in place to erase a person from it."""

    hook: ClassVar[str] = "object_rewritten"


@attrs.frozen(kw_only=True)
class _ExperimentMoved(Event):
    """An experiment made a move of its lifecycle; ``experiment`` is its version after it."""

    experiment: Experiment


@attrs.frozen(kw_only=True)
class ExperimentStarted(_ExperimentMoved):
    """An experiment moved from planned to running (or was stored already running)."""

    hook: ClassVar[str] = "experiment_started"


@attrs.frozen(kw_only=True)
class ExperimentConcluded(_ExperimentMoved):
    """An experiment moved to concluded."""

    hook: ClassVar[str] = "experiment_concluded"


@attrs.frozen(kw_only=True)
class ExperimentDecided(_ExperimentMoved):
    """An experiment moved from concluded to decided, by ``decision`` (None if unrecorded)."""

    hook: ClassVar[str] = "experiment_decided"
    decision: Decision | None


@attrs.frozen(kw_only=True)
class ExperimentAbandoned(_ExperimentMoved):
    """An experiment was abandoned before it concluded."""

    hook: ClassVar[str] = "experiment_abandoned"


@attrs.frozen(kw_only=True)
class LearningRecorded(Event):
    """A new learning was committed (its first version)."""

    hook: ClassVar[str] = "learning_recorded"
    learning: Learning


@attrs.frozen(kw_only=True)
class MeasurementRecorded(Event):
    """A new measurement was committed (its first version)."""

    hook: ClassVar[str] = "measurement_recorded"
    measurement: Measurement


#: Every kind of event, and so every event hook, in the order a write makes them.
EVENTS: Final[tuple[type[Event], ...]] = (
    ObjectSaved,
    ObjectPurged,
    ObjectRewritten,
    LearningRecorded,
    MeasurementRecorded,
    ExperimentStarted,
    ExperimentConcluded,
    ExperimentDecided,
    ExperimentAbandoned,
)

#: The lifecycle move each experiment event announces (see ``model.lifecycle.MOVES``).
MOVE_EVENTS: Final[dict[str, type[_ExperimentMoved]]] = {
    "start": ExperimentStarted,
    "conclude": ExperimentConcluded,
    "decide": ExperimentDecided,
    "abandon": ExperimentAbandoned,
}
