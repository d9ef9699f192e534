"""What a store enforces on every save, and finds in ``verify()`` where it was not.

Two rules keep the programme's history one that every reader agrees on:

- an experiment moves only by legal steps of its lifecycle
  (:func:`experiments.model.lifecycle.illegal_change`), and its lifecycle times, once
  set, stay as they were;
- an experiment has one decision in force; a second decision must say which one it
  revises (and why), and a stored decision's outcome, experiment and time never change.

And one holds the organisation to its own standard: an experiment serving an objective
for which a template is mandatory starts and concludes only once the template is
satisfied (:meth:`experiments.model.Template.missing`), read from what is stored and
what the same batch writes.

Imports are exempt: they restore history exactly as it was.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from itertools import pairwise
from typing import TYPE_CHECKING, Any

import pendulum

from experiments.errors import ValidationError
from experiments.model import (
    Decision,
    Experiment,
    Hypothesis,
    Objective,
    Participant,
    Participation,
    Prototype,
    Record,
    Sprint,
    Template,
)
from experiments.model._time import now
from experiments.model.asof import latest_decision
from experiments.model.lifecycle import LIFECYCLE_TIMES, illegal_change
from experiments.model.template import Gap, Move, templates_for

if TYPE_CHECKING:
    from experiments.stores.base import Store
    from experiments.stores.changes import Damage

__all__ = [
    "DecisionLedger",
    "TemplateRule",
    "check_experiment",
    "decision_in_store",
    "history_damage",
]


def _instants(experiment: Experiment) -> dict[str, object]:
    utc = pendulum.UTC
    return {
        name: value if value is None or value.tzinfo is utc else value.astimezone(utc)
        for name, value in zip(LIFECYCLE_TIMES, experiment.lifecycle_times(), strict=True)
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


def _move(before: Experiment | None, after: Experiment) -> Move | None:
    """The move a save makes that a template holds it to: concluding, starting, or none."""
    if after.concluded_at is not None and (before is None or before.concluded_at is None):
        return Move.CONCLUDE
    if after.started_at is not None and (before is None or before.started_at is None):
        return Move.START
    return None


class TemplateRule:
    """The mandatory templates of the experiments a batch starts or concludes.

    Reads what a template asks about (participations and their participants,
    hypotheses, prototypes, the sprint, the objectives above) from the store, with what
    the batch itself writes in their place.  A store without templates is asked once
    per batch.
    """

    def __init__(self, store: Store, pending: Mapping[str, Record]) -> None:
        self._store = store
        self._pending = pending
        self._templates: list[Template] | None = None

    def _all_templates(self) -> list[Template]:
        if self._templates is None:
            self._templates = list(self._store.query(Template)) if self._store.exists() else []
        found = {t.id: t for t in self._templates}
        found.update((r.id, r) for r in self._pending.values() if isinstance(r, Template))
        return list(found.values())

    def _find(self, record_id: str) -> Record | None:
        pending = self._pending.get(record_id)
        if pending is not None:
            return None if pending.deleted else pending
        return self._store.find(record_id)

    def _owned(self, kind: type[Record], experiment: str) -> list[Any]:
        """Live records of ``kind`` about ``experiment``: stored, as the batch leaves them."""
        found: dict[str, Any] = (
            {r.id: r for r in self._store.query(kind, experiment=experiment)}
            if self._store.exists()
            else {}
        )
        for record in self._pending.values():
            if isinstance(record, kind) and getattr(record, "experiment", None) == experiment:
                found[record.id] = record
        return [r for r in found.values() if not r.deleted]

    def _parents(self, objectives: tuple[str, ...]) -> dict[str, str | None]:
        parents: dict[str, str | None] = {}
        queue = list(objectives)
        while queue:
            current = queue.pop()
            if current in parents:
                continue
            found = self._find(current)
            parents[current] = found.parent if isinstance(found, Objective) else None
            if parents[current] is not None:
                queue.append(parents[current])  # type: ignore[arg-type]
        return parents

    def check(self, before: Experiment | None, after: Experiment) -> None:
        """Refuse ``after`` if it starts or concludes unsatisfied by a mandatory template.

        Raises:
            ValidationError: naming each mandatory template and what it still needs.
        """
        move = _move(before, after)
        if move is None:
            return
        gaps = [(t, missing) for t, mandatory, missing in self.gaps(after, move) if mandatory]
        if gaps:
            needs = "; ".join(
                f"template {t.title!r} ({t.slug or t.id}) needs {', '.join(map(str, missing))}"
                for t, missing in gaps
            )
            raise ValidationError(
                f"cannot {move} {after.label()}: a template is mandatory for the objectives "
                f"it serves, and {needs}; record what is missing first (`experiments show "
                f"{after.slug or after.id}` lists it), then {move} it"
            )

    def gaps(
        self, experiment: Experiment, move: Move, *, own: bool = False
    ) -> list[tuple[Template, bool, tuple[Gap, ...]]]:
        """What each template ``experiment`` is held to still needs for ``move``.

        Each template comes with whether it is mandatory (for the objectives it serves,
        or objectives above them); with ``own``, the template it was made from comes
        too, where that is not mandatory.  Templates it satisfies are left out.  The
        move is taken to happen when ``experiment`` says it did, or now.
        """
        if not experiment.objectives and not (own and experiment.template):
            return []
        templates = self._all_templates()
        if not templates:
            return []
        parents = self._parents(experiment.objectives)
        binding = [
            (template, mandatory)
            for template, mandatory in templates_for(experiment, templates, parents)
            if mandatory or own
        ]
        if not binding:
            return []
        people = []
        for participation in self._owned(Participation, experiment.id):
            person = self._find(participation.participant)
            if isinstance(person, Participant):
                people.append((participation, person))
        sprint = self._find(experiment.sprint) if experiment.sprint else None
        moment = experiment.concluded_at if move is Move.CONCLUDE else experiment.started_at
        hypotheses = self._owned(Hypothesis, experiment.id)
        prototypes = self._owned(Prototype, experiment.id)
        found = []
        for template, mandatory in binding:
            missing = template.missing(
                experiment,
                move,
                people=people,
                hypotheses=hypotheses,
                prototypes=prototypes,
                sprint=sprint if isinstance(sprint, Sprint) else None,
                at=moment or now(),
            )
            if missing:
                found.append((template, mandatory, missing))
        return found


def _order(decision: Decision) -> tuple[pendulum.DateTime, str]:
    return (decision.decided_at.astimezone(pendulum.UTC), decision.id)


def history_damage(versions: Mapping[str, list[Record]], current: Iterable[Record]) -> list[Damage]:
    """Illegal histories already in a store: lifecycle moves, and decisions not revised.

    ``versions`` holds every version of each experiment and decision, by id, oldest
    first; ``current`` every record's current version.
    """
    from experiments.stores.changes import Damage  # noqa: PLC0415 - verify() only

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
