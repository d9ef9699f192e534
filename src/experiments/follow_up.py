"""Following up next steps: who owns them, by when, and whether they were done.

"Real follow-up, not empty phrases": a learning's next action and a decision's next
steps get an owner and a due date, and are marked done when they are::

    from experiments.follow_up import follow_up, follow_ups

    follow_up(
        store,
        "safety-walks-decision",
        step="Evening walks",
        owner="Karin Vestergaard",
        due="2026-12-15",
    )
    follow_up(store, decision, step=1, done=True, at="2026-12-10T16:00:00+01:00")
    for item in follow_ups(store, overdue=True):
        print(item.step, item.overdue_days)

Each change is a new version of the learning or decision, kept in its history; the
roll-up, the checks and the reports read where each step stands at their moment.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from experiments.asof import AsOf, FollowUp
from experiments.errors import ConflictError, ValidationError
from experiments.model import Decision, Experiment, Learning, NextStep, Record

if TYPE_CHECKING:
    from experiments.model import Objective
    from experiments.model._time import DateLike, DateTimeLike
    from experiments.stores import Store

__all__ = ["follow_up", "follow_ups"]

_TRIES = 5


def _number(steps: tuple[NextStep, ...], step: int | str | None, label: str) -> int:
    """Which of ``steps`` (counted from 1) ``step`` names: its number or its action."""
    if not steps:
        raise ValidationError(f"{label} has no next step to follow up; record one first")
    if step is None:
        if len(steps) > 1:
            actions = "; ".join(f"{n}: {s.action}" for n, s in enumerate(steps, start=1))
            raise ValidationError(
                f"{label} has {len(steps)} next steps; say which with step= (its number "
                f"or its action): {actions}"
            )
        return 1
    if isinstance(step, bool) or not isinstance(step, int | str):
        raise ValidationError(f"step must be a number or an action; got {step!r}")
    if isinstance(step, int):
        if not 1 <= step <= len(steps):
            raise ValidationError(
                f"{label} has {len(steps)} next step(s); step {step} is not one of them"
            )
        return step
    wanted = " ".join(step.casefold().split())
    for number, candidate in enumerate(steps, start=1):
        if " ".join(candidate.action.casefold().split()) == wanted:
            return number
    actions = "; ".join(s.action for s in steps)
    raise ValidationError(f"{label} has no next step {step!r}; its next steps: {actions}")


def _changed(
    step: NextStep,
    owner: str | None,
    due: DateLike | None,
    done: bool | None,
    at: DateTimeLike | None,
) -> NextStep:
    changed = step.assigned(owner=owner, due=due)
    if done is True:
        changed = changed.done(at)
    elif done is False:
        changed = changed.reopened()
    return changed


def follow_up(
    store: Store,
    record: Learning | Decision | Experiment | str,
    step: int | str | None = None,
    *,
    owner: str | None = None,
    due: DateLike | None = None,
    done: bool | None = None,
    at: DateTimeLike | None = None,
    by: str | None = None,
) -> Learning | Decision:
    """Give a next step an owner or a due date, or mark it done (or not done again).

    Args:
        store: where the learning or decision is.
        record: the learning or decision (the record, its id or its slug), or an
            experiment, to follow up one of the next steps of its learnings and of its
            decision in force (numbered in that order, as :func:`follow_ups` lists
            them).
        step: which of its next steps: its number (1 for the first) or its action; a
            learning's one next action, or a decision's only step, needs none.
        owner: who will do it.
        due: by when (a date such as ``"2026-12-15"``).
        done: True marks it done (at ``at``, default now), False not done again.
        at: when it was done.
        by: who records the change.

    Returns:
        The learning or decision as saved, with the step changed.

    Raises:
        NotFoundError: no learning or decision is named ``record``.
        ValidationError: it has no such step, a value the step does not take, or ``at``
            without ``done=True``.
    """
    if at is not None and done is not True:
        raise ValidationError(
            "at needs done=True: it says when the step was done, and nothing else takes it"
        )
    target: Learning | Decision | str
    if isinstance(record, Learning | Decision):
        target = record
    else:
        found = record if isinstance(record, Experiment) else store.resolve(record)
        target = found.id
        if isinstance(found, Experiment):
            target, step = _of_experiment(store, found, step)
    for _ in range(_TRIES):
        current = _named(store, target)
        label = current.label()
        if isinstance(current, Learning):
            steps: tuple[NextStep, ...] = (
                () if current.next_action is None else (current.next_action,)
            )
            number = _number(steps, step, label)
            changed: Learning | Decision = current.evolve(
                next_action=_changed(steps[number - 1], owner, due, done, at)
            )
        else:
            number = _number(current.next_steps, step, label)
            old = current.next_steps[number - 1]
            changed = current.with_step(number, _changed(old, owner, due, done, at))
        if changed == current:
            return current
        try:
            return store.save(changed, by=by)
        except ConflictError:
            target = current.id  # someone changed it meanwhile: apply this to theirs
    raise ConflictError(f"{target!r} kept changing; following its next step up gave up")


def _of_experiment(store: Store, experiment: Experiment, step: int | str | None) -> tuple[str, int]:
    """The learning or decision, and its step number, of an experiment's next step ``step``."""
    view = AsOf(store, experiment=experiment)
    items = view.follow_ups(view.experiments[0])
    number = _number(tuple(item.step for item in items), step, experiment.label())
    item = items[number - 1]
    return item.source.id, item.number


def _named(store: Store, record: Learning | Decision | str) -> Learning | Decision:
    """The stored learning or decision ``record`` names."""
    if isinstance(record, Learning | Decision):
        record = record.id
    found: Record = store.resolve(record)
    if not isinstance(found, Learning | Decision):
        raise ValidationError(
            f"{found.label()} has no next steps; follow up a learning's next action or a "
            "decision's next steps"
        )
    return found


def follow_ups(
    store: Store | AsOf,
    objective: Objective | str | None = None,
    *,
    at: DateTimeLike | None = None,
    open_only: bool = False,
    overdue: bool = False,
) -> list[FollowUp]:
    """Every next step in scope, where it stands at ``at``: overdue first, then by due date.

    Args:
        store: where the programme is recorded, or an :class:`~experiments.asof.AsOf`
            view of it (its scope and moment are then the ones read).
        objective: an objective (record, id or slug) to read with its sub-objectives,
            or None for the whole strategy.
        at: the moment (default now).
        open_only: leave out steps done by then.
        overdue: only steps past their due date.
    """
    view = store if isinstance(store, AsOf) else AsOf(store, objective=objective, at=at)
    found = [item for experiment in view.experiments for item in view.follow_ups(experiment)]
    if open_only or overdue:
        found = [item for item in found if not item.done]
    if overdue:
        found = [item for item in found if item.overdue]
    found.sort(
        key=lambda f: (
            -(f.overdue_days or 0),
            f.step.due is None,
            f.step.due or "",
            f.experiment.title,
            f.source.id,
            f.number,
        )
    )
    return found
