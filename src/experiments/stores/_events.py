"""The events a committed write makes, worked out from what it changed."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from experiments.model import Decision, Experiment, ExperimentStatus, Learning, Measurement
from experiments.model.lifecycle import reachable
from experiments.stores._rules import decision_in_store

if TYPE_CHECKING:
    from experiments.events import Event
    from experiments.stores.base import Store
    from experiments.stores.changes import Change

__all__ = ["dispatch", "events_of"]


def dispatch(
    store: Store,
    changes: Sequence[Change],
    results: Sequence[Any],
    priors: Mapping[int, ExperimentStatus | None],
) -> None:
    """Hand the plugins the events of ``changes``, committed with ``results``, in order.

    Nothing is worked out when no plugin listens.
    """
    plugins = store.plugins
    if plugins.listening():

        def latest(experiment_id: str) -> Decision | None:
            return decision_in_store(store, experiment_id)

        for event in events_of(store, changes, results, priors, latest):
            plugins.dispatch(event)


def events_of(
    store: Store,
    changes: Sequence[Change],
    results: Sequence[Any],
    priors: Mapping[int, ExperimentStatus | None],
    latest_decision: Callable[[str], Decision | None],
) -> Iterator[Event]:
    """The events of ``changes`` as committed with ``results``, in order.

    ``priors`` holds the status each experiment put (by its index) moved from, None for
    a new experiment; ``latest_decision`` finds the decision of an experiment decided
    without one in the same write.  An import, and a create-if-absent that found the
    record already there, make no events: they changed no history.
    """
    # Imported here, as the events are: this module stays light to import, and a store
    # opened only to read never builds an event class.
    from experiments.events import (  # noqa: PLC0415
        LearningRecorded,
        MeasurementRecorded,
        ObjectPurged,
        ObjectRewritten,
        ObjectSaved,
    )
    from experiments.stores.changes import Purge, Put, Rewrite  # noqa: PLC0415

    decisions = {
        r.experiment: r
        for c, r in zip(changes, results, strict=True)
        if isinstance(c, Put) and isinstance(r, Decision)
    }
    for index, (change, result) in enumerate(zip(changes, results, strict=True)):
        if isinstance(change, Purge):
            if result is not None:
                yield ObjectPurged(store=store, kind=result, id=change.id)
            continue
        if isinstance(change, Rewrite):
            yield ObjectRewritten(store=store, kind=change.versions[-1][0].kind, id=change.id)
            continue
        if not isinstance(change, Put) or result is not change.record:
            continue
        record = change.record
        yield ObjectSaved(store=store, record=record, previous_revision=change.expected or 0)
        if record.revision == 1 and isinstance(record, Learning):
            yield LearningRecorded(store=store, learning=record)
        elif record.revision == 1 and isinstance(record, Measurement):
            yield MeasurementRecorded(store=store, measurement=record)
        elif isinstance(record, Experiment) and index in priors:
            before = priors[index] or ExperimentStatus.PLANNED
            decided = decisions.get(record.id)
            yield from _moves(store, record, before, decided, latest_decision)


def _moves(
    store: Store,
    record: Experiment,
    before: ExperimentStatus,
    decided: Decision | None,
    latest_decision: Callable[[str], Decision | None],
) -> Iterator[Event]:
    """The events of an experiment's moves from ``before`` to its status now, in order.

    ``decided`` is the decision saved in the same write, if any; else the latest one is
    looked up, only if the experiment was decided.
    """
    from experiments.events import MOVE_EVENTS, ExperimentDecided  # noqa: PLC0415 - as above

    for move in reachable(before).get(record.status, ()):
        event = MOVE_EVENTS[move]
        if event is ExperimentDecided:
            decision = decided or latest_decision(record.id)
            yield ExperimentDecided(store=store, experiment=record, decision=decision)
        else:
            yield event(store=store, experiment=record)
