"""Sprints rolled up: the challenge, the team across silos, the process design, the results.

"Create and sprint together": a short, intensive period in which a team of employees
from several departments, with customers, citizens and other stakeholders from
outside, works on a predefined challenge, facilitated, with a process design that says
who is involved when, trying ideas as prototypes and small experiments.  A roll-up
lists, for each sprint in its scope, the challenge, the team (the departments it
crosses and the stakeholders from outside), the facilitators, each phase of the process
design with who takes part in it, and the experiments of the sprint with what was
learned, as of the roll-up's moment.

People are shown as reports may show them: by name only when they are named and not
pseudonymous (see :attr:`~experiments.Participant.display_name`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

import attrs

from experiments.model import (
    ExperimentStatus,
    Involvement,
    Participant,
    Phase,
    Role,
    Sprint,
    TimeBox,
)
from experiments.model.participant import departments_of
from experiments.refs import Ref

if TYPE_CHECKING:
    from experiments.asof import AsOf

__all__ = ["Member", "PhaseRollup", "SprintRollup", "sprint_rollups"]


@attrs.frozen
class Member:
    """Someone on a sprint's team or in a phase, as a roll-up may show them.

    ``name`` is None for a participant who is pseudonymous or has no name: they are
    counted and shown by role, never named.
    """

    role: Role
    name: str | None
    department: str | None
    external: bool

    @classmethod
    def of(cls, person: Participant) -> Member:
        named = person.name if person.name and not person.pseudonymous else None
        return cls(person.role, named, person.department, person.external)

    def order_key(self) -> tuple[bool, bool, str, str]:
        """Internal before external, named before unnamed, then by name and role."""
        return (self.external, self.name is None, self.name or "", self.role.value)


@attrs.frozen
class PhaseRollup:
    """One phase of a sprint's process design: when, who by name, which roles, how deep."""

    ref: Ref
    position: int
    time_box: TimeBox | None
    members: tuple[Member, ...]
    roles: tuple[Role, ...]
    involvement: Involvement
    description: str


@attrs.frozen
class SprintRollup:
    """One sprint as of the roll-up's moment.

    ``departments`` are those its internal team members come from, ``external`` its
    team members from outside the organisation; ``experiments`` are the sprint's
    experiments in the roll-up's scope with their status at the moment, and
    ``learnings`` what was learned in them by then, oldest first.
    """

    ref: Ref
    challenge: str
    time_box: TimeBox | None
    facilitators: tuple[str, ...]
    team: tuple[Member, ...]
    phases: tuple[PhaseRollup, ...]
    experiments: tuple[tuple[Ref, ExperimentStatus], ...]
    learnings: tuple[tuple[Ref, Ref], ...]

    @property
    def departments(self) -> tuple[str, ...]:
        """The organisation's departments its team crosses, by name."""
        return tuple(sorted(departments_of(self.team)))

    @property
    def external(self) -> tuple[Member, ...]:
        """Its team members from outside the organisation."""
        return tuple(m for m in self.team if m.external)

    @property
    def by_status(self) -> Mapping[ExperimentStatus, int]:
        """How many of its experiments are in each status, those with none left out."""
        counts = Counter(status for _, status in self.experiments)
        return {status: counts[status] for status in ExperimentStatus if counts[status]}


def _members(ids: Iterable[str], people: Mapping[str, Participant]) -> tuple[Member, ...]:
    found = [Member.of(people[i]) for i in ids if i in people]
    return tuple(sorted(found, key=Member.order_key))


def _phase(phase: Phase, people: Mapping[str, Participant]) -> PhaseRollup:
    return PhaseRollup(
        ref=Ref(phase.id, phase.title),
        position=phase.position,
        time_box=phase.time_box,
        members=_members(phase.participants, people),
        roles=phase.roles,
        involvement=phase.involvement,
        description=phase.description,
    )


def sprint_rollups(view: AsOf, experiment_ids: Iterable[str]) -> tuple[SprintRollup, ...]:
    """Each sprint in the view's scope, with its experiments among ``experiment_ids``.

    Sprints come by title, then id; a sprint whose team comes from a single department
    shows just that one (the ``sprint/single-department`` check says so).
    """
    sprints: list[Sprint] = sorted(view.sprints, key=lambda s: (s.title, s.id))
    if not sprints:
        return ()
    # The columns behind view.facts: an ExperimentFacts made per lookup would cost more
    # than the rest of a sprint's roll-up.
    facts = view._facts  # noqa: SLF001 - the roll-up's own reading of the view
    columns = facts.experiments
    wanted = {s.id for s in sprints}
    by_sprint: dict[str, list[int]] = {s.id: [] for s in sprints}
    for experiment_id in sorted(experiment_ids):
        place = columns.place(experiment_id)
        sprint_id = None if place is None else columns.sprint.get(place)
        if place is not None and sprint_id in wanted:
            by_sprint[sprint_id].append(place)
    ids, titles = columns.ids, columns.titles
    learned = view.learnings_of(ids[p] for places in by_sprint.values() for p in places)
    people = view.participants
    found = []
    for sprint in sprints:
        places = sorted(by_sprint[sprint.id], key=lambda p: (titles[p], ids[p]))
        found.append(
            SprintRollup(
                ref=Ref(sprint.id, sprint.title),
                challenge=sprint.challenge,
                time_box=sprint.time_box,
                facilitators=sprint.facilitators,
                team=_members(sprint.team, people),
                phases=tuple(_phase(p, people) for p in view.phases.get(sprint.id, ())),
                experiments=tuple((facts.ref(p), columns.status[p]) for p in places),
                learnings=tuple(
                    (Ref(x.id, x.observation), facts.ref(p))
                    for p in places
                    for x in learned.get(ids[p], ())
                ),
            )
        )
    return tuple(found)
