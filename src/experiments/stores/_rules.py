"""What a store enforces on every save, and finds in ``verify()`` where it was not.

Two rules keep the programme's history one that every reader agrees on:

- an experiment moves only by legal steps of its lifecycle
  (:func:`experiments.model.lifecycle.illegal_change`), and its lifecycle times, once
  set, stay as they were;
- an experiment has one decision in force; a second decision must say which one it
  revises (and why), and a stored decision's outcome, experiment and time never change.

Imports are exempt: they restore history exactly as it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import TYPE_CHECKING

import pendulum

from experiments.errors import ValidationError
from experiments.model import Decision, Experiment, Record
from experiments.model.asof import latest_decision
from experiments.model.lifecycle import LIFECYCLE_TIMES, illegal_change
from experiments.stores.changes import Damage

if TYPE_CHECKING:
    from experiments.stores.base import Store

__all__ = ["DecisionLedger", "check_experiment", "decision_in_store", "history_damage"]


def _instants(experiment: Experiment) -> dict[str, object]:
    utc = pendulum.UTC
    return {
        name: None if (value := getattr(experiment, name)) is None else value.astimezone(utc)
        for name in LIFECYCLE_TIMES
    }


def check_experiment(before: Experiment, after: Experiment) -> None:
    """Refuse saving ``after`` over ``before`` unless it is a legal lifecycle move.

    Raises:
        ValidationError: naming the change and the moves that were legal.
    """
    problem = illegal_change(before.status, _instants(before), after.status, _instants(after))
    if problem is not None:
        raise ValidationError(
            f"cannot save {after.label()}: this version {problem}; move it with start(), "
            "conclude(), decide() and abandon() (`experiments start|conclude|decide|abandon`)"
        )


def _decision_change(before: Decision, after: Decision) -> str | None:
    for name in ("experiment", "outcome", "decided_at", "revises"):
        if getattr(before, name) != getattr(after, name):
            return name
    return None


def decision_in_store(store: Store, experiment: str) -> Decision | None:
    """The latest live decision stored about ``experiment``: the one in force now."""
    return latest_decision(
        d
        for d in store.query(Decision, experiment=experiment, include_deleted=True)
        if not d.deleted
    )


class DecisionLedger:
    """The decisions a batch writes and the ones stored, per experiment, to check each new one."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._pending: dict[str, list[Decision]] = defaultdict(list)

    def _known(self, experiment: str) -> list[Decision]:
        stored = {
            d.id: d
            for d in self._store.query(Decision, experiment=experiment, include_deleted=True)
            if not d.deleted
        }
        for decision in self._pending.get(experiment, ()):
            stored[decision.id] = decision
        return list(stored.values())

    def check(self, decision: Decision, before: Decision | None) -> None:
        """Refuse ``decision`` unless it is the experiment's first or revises the one in force.

        Raises:
            ValidationError: a second decision that revises nothing (or not the latest),
                one dated before the one it revises, or a change to a stored decision's
                outcome, experiment, time or what it revises.
        """
        if before is not None:
            changed = _decision_change(before, decision)
            if changed is not None:
                raise ValidationError(
                    f"cannot change the {changed} of {decision.label()}: a decision stands as "
                    "it was made; to change what was decided, record a new decision that "
                    "revises it, with the reason (Decision.revised(), run.decide(..., "
                    "revise=True), `experiments decide EXPERIMENT OUTCOME --revise`)"
                )
            self._pending[decision.experiment].append(decision)
            return
        others = [d for d in self._known(decision.experiment) if d.id != decision.id]
        latest = latest_decision(others)
        if latest is None:
            if decision.revises is not None:
                raise ValidationError(
                    f"{decision.label()} revises {decision.revises!r}, but experiment "
                    f"{decision.experiment!r} has no decision to revise; leave revises out"
                )
        elif decision.revises is None:
            raise ValidationError(
                f"experiment {decision.experiment!r} already has a decision in force: "
                f"{latest.outcome} ({latest.id}, {latest.decided_at.to_iso8601_string()}); "
                "changing it is explicit: record a decision that revises it, with the reason "
                "(Decision.revised(), run.decide(..., revise=True), `experiments decide "
                "EXPERIMENT OUTCOME --revise --rationale TEXT`)"
            )
        elif decision.revises != latest.id:
            raise ValidationError(
                f"{decision.label()} revises {decision.revises!r}, but the decision in force "
                f"about experiment {decision.experiment!r} is {latest.id!r}; revise that one"
            )
        elif _order(decision) < _order(latest):
            raise ValidationError(
                f"{decision.label()} is dated {decision.decided_at.to_iso8601_string()}, before "
                f"the decision it revises ({latest.decided_at.to_iso8601_string()}); a "
                "revision comes after what it revises"
            )
        self._pending[decision.experiment].append(decision)


def _order(decision: Decision) -> tuple[pendulum.DateTime, str]:
    return (decision.decided_at.astimezone(pendulum.UTC), decision.id)


def history_damage(versions: Mapping[str, list[Record]], current: Iterable[Record]) -> list[Damage]:
    """Illegal histories already in a store: lifecycle moves, and decisions not revised.

    ``versions`` holds every version of each experiment and decision, by id, oldest
    first; ``current`` every record's current version.
    """

    found: list[Damage] = []
    for record_id, history in versions.items():
        for before, after in pairwise(history):
            problem: str | None = None
            if isinstance(before, Experiment) and isinstance(after, Experiment):
                problem = illegal_change(
                    before.status, _instants(before), after.status, _instants(after)
                )
            elif isinstance(before, Decision) and isinstance(after, Decision):
                changed = _decision_change(before, after)
                problem = None if changed is None else f"changes its {changed}"
            if problem is not None:
                found.append(
                    Damage(
                        f"record {record_id!r} revision {after.revision}",
                        f"an illegal change: revision {after.revision} {problem}",
                        record_id,
                    )
                )
    by_experiment: dict[str, list[Decision]] = defaultdict(list)
    for record in current:
        if isinstance(record, Decision) and not record.deleted:
            by_experiment[record.experiment].append(record)
    for experiment, decisions in by_experiment.items():
        ordered = sorted(decisions, key=_order)
        for earlier, later in pairwise(ordered):
            if later.revises != earlier.id:
                found.append(
                    Damage(
                        f"record {later.id!r}",
                        f"experiment {experiment!r} has a second decision ({later.outcome}) "
                        f"that does not revise the one before it ({earlier.id!r}); the roll-up "
                        "counts only the later one",
                        later.id,
                    )
                )
    return found
