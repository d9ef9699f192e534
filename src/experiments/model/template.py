"""Templates: an organisation's starting point for an experiment, and what it requires.

A strategy office that runs a hundred experiments wants each to start from its
template: a hypothesis scaffold to fill in, a default time box and scope, the roles
that must take part and the fields that must be filled before the experiment may start
or conclude.  A template can be made mandatory for objectives (and so for everything
below them): the store then refuses to start or conclude an experiment serving them
until the template is satisfied.  What "satisfied" means is :meth:`Template.missing`,
here and nowhere else.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Final

import attrs
import pendulum

from experiments.errors import ValidationError
from experiments.model._fields import named_errors
from experiments.model._record import Record
from experiments.model._time import TimeBox, duration_key, format_duration, parse_duration
from experiments.model._validate import (
    to_count,
    to_enums,
    to_optional_duration,
    to_optional_timebox,
    to_refs,
    to_text,
    to_title,
)
from experiments.model.asof import first_exposure, longer_than
from experiments.model.experiment import Experiment
from experiments.model.lifecycle import ExperimentStatus
from experiments.model.participant import (
    Participant,
    Participation,
    Role,
    Stance,
    departments_of,
    role_words,
    to_roles,
    to_stances,
)
from experiments.model.scope import Scope, to_optional_scope

if TYPE_CHECKING:
    from experiments.model.hypothesis import Hypothesis
    from experiments.model.prototype import Prototype
    from experiments.model.sprint import Sprint

__all__ = [
    "DEFAULT_SCAFFOLD",
    "Gap",
    "Move",
    "Need",
    "Requirement",
    "Template",
    "ancestors",
    "mandatory_templates",
    "next_move",
    "templates_for",
]

#: The hypothesis scaffold a template gives unless it says otherwise.
DEFAULT_SCAFFOLD: Final = "We believe that \u2026 for \u2026; we are right if \u2026"


class Requirement(enum.StrEnum):
    """Something an experiment must have before it may start or conclude."""

    OWNER = "owner"
    TIME_BOX = "time-box"
    SCOPE = "scope"
    FACILITATOR = "facilitator"
    SPRINT = "sprint"
    OBJECTIVE = "objective"
    DESCRIPTION = "description"
    HYPOTHESIS = "hypothesis"
    PROTOTYPE_SHOWN = "prototype-shown"


class Move(enum.StrEnum):
    """The lifecycle moves a template holds an experiment to."""

    START = "start"
    CONCLUDE = "conclude"


_NEXT_MOVE: Final = {ExperimentStatus.PLANNED: Move.START, ExperimentStatus.RUNNING: Move.CONCLUDE}


class Need(enum.StrEnum):
    """The kinds of thing a template can find missing (see :class:`Gap`)."""

    ROLE = "role"
    STANCE = "stance"
    DEPARTMENTS = "departments"
    EXTERNAL = "external"
    SHORT_TIME_BOX = "short-time-box"
    REQUIREMENT = "requirement"


@attrs.frozen
class Gap:
    """One thing an experiment lacks under a template, e.g. a citizen taking part.

    ``need`` says what kind of thing; the other fields the particulars: the ``role``
    or ``stance`` missing, how many departments or external participants are
    ``wanted`` and how many it ``have``s, the time box ``limit`` (and the length
    ``given``), or the field a ``requirement`` asks for.  ``str()`` says it in words.
    """

    need: Need
    role: Role | None = None
    stance: Stance | None = None
    requirement: Requirement | None = None
    wanted: int | None = None
    have: int | None = None
    limit: pendulum.Duration | None = attrs.field(default=None, eq=duration_key)
    given: pendulum.Duration | None = attrs.field(default=None, eq=duration_key)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled with its durations as text: pendulum pickles a month as 30 days."""
        fields = attrs.asdict(self, recurse=False)
        for name in _DURATIONS:
            if fields[name] is not None:
                fields[name] = format_duration(fields[name])
        return (_unpickled_gap, (fields,))

    def __str__(self) -> str:
        if self.role is not None:
            return f"{role_words(self.role)} taking part"
        if self.stance is not None:
            return f"a {self.stance.value} voice"
        if self.need is Need.DEPARTMENTS:
            return f"participants from at least {self.wanted} departments (now {self.have})"
        if self.need is Need.EXTERNAL:
            if self.wanted == 1:
                return "an external participant"
            return f"at least {self.wanted} external participants (now {self.have})"
        if self.need is Need.SHORT_TIME_BOX:
            assert self.limit is not None
            words = f"a time box of at most {format_duration(self.limit)}"
            return (
                words if self.given is None else f"{words} (it has {format_duration(self.given)})"
            )
        assert self.requirement is not None
        return _WANTED[self.requirement]


def next_move(status: ExperimentStatus) -> Move | None:
    """The move a template holds an experiment with ``status`` to next, if any.

    A planned experiment is to start and a running one to conclude; a concluded,
    decided or abandoned one has no move left that a template holds.
    """
    return _NEXT_MOVE.get(status)


#: What each requirement asks for, as :meth:`Template.missing` says it is missing.
_WANTED: Final = {
    Requirement.OWNER: "an owner",
    Requirement.TIME_BOX: "a time box",
    Requirement.SCOPE: "a planned scope",
    Requirement.FACILITATOR: "a facilitator",
    Requirement.SPRINT: "a sprint",
    Requirement.OBJECTIVE: "an objective it serves",
    Requirement.DESCRIPTION: "a description",
    Requirement.HYPOTHESIS: "a hypothesis with a success criterion",
    Requirement.PROTOTYPE_SHOWN: "a prototype shown to participants",
}


def _to_requirements(value: Iterable[Requirement | str]) -> tuple[Requirement, ...]:
    return to_enums(Requirement, value)


#: The fields of a Gap that hold durations.
_DURATIONS: Final = ("limit", "given")


def _unpickled_gap(fields: dict[str, Any]) -> Gap:
    """A pickled :class:`Gap` made again, its durations read from their text."""
    for name in _DURATIONS:
        if fields[name] is not None:
            fields[name] = parse_duration(fields[name])
    return Gap(**fields)


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Template(Record):
    """An experiment template: defaults to start from, and what an experiment must have.

    ``scaffold`` is the hypothesis to fill in; ``time_box`` and ``scope`` the defaults
    of an experiment made from it (:meth:`new_experiment`), and ``max_time_box`` the
    longest time box it allows.  Before such an experiment may start, at least one
    participant of each of ``roles`` must take part, a voice of each of ``stances``
    be heard (``critical``: a critical voice), its internal participants come from at
    least ``min_departments`` departments and ``min_external`` participants from
    outside, and everything in ``to_start`` be there; before it concludes, all that
    and ``to_conclude`` too.  ``mandatory_for`` are the objectives (with everything
    below them) whose experiments the store holds to it.
    """

    kind: ClassVar[str] = "template"
    id_prefix: ClassVar[str] = "tpl"

    title: str = attrs.field(converter=to_title)
    description: str = attrs.field(default="", converter=to_text)
    scaffold: str = attrs.field(default=DEFAULT_SCAFFOLD, converter=to_text)
    time_box: TimeBox | None = attrs.field(default=None, converter=to_optional_timebox)
    max_time_box: pendulum.Duration | None = attrs.field(
        default=None, converter=to_optional_duration
    )
    scope: Scope | None = attrs.field(default=None, converter=to_optional_scope)
    roles: tuple[Role, ...] = attrs.field(default=(), converter=to_roles)
    stances: tuple[Stance, ...] = attrs.field(default=(), converter=to_stances)
    min_departments: int = attrs.field(default=0, converter=to_count)
    min_external: int = attrs.field(default=0, converter=to_count)
    to_start: tuple[Requirement, ...] = attrs.field(default=(), converter=_to_requirements)
    to_conclude: tuple[Requirement, ...] = attrs.field(default=(), converter=_to_requirements)
    mandatory_for: tuple[str, ...] = attrs.field(default=(), converter=to_refs)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        box, limit = self.time_box, self.max_time_box
        if box is not None and limit is not None:
            anchor = box.start or self.created_at
            if longer_than(anchor, box.duration, limit):
                raise ValidationError(
                    f"Template.time_box {format_duration(box.duration)} is longer than its "
                    f"max_time_box {format_duration(limit)}; give a default that fits"
                )

    def requirements(self, move: Move | str) -> tuple[Requirement, ...]:
        """The fields ``move`` needs: ``to_start``, and for concluding ``to_conclude`` too."""
        if Move(move) is Move.START:
            return self.to_start
        return tuple(dict.fromkeys((*self.to_start, *self.to_conclude)))

    def new_experiment(self, **fields: Any) -> Experiment:
        """A planned experiment made from this template, with ``fields`` as given.

        What ``fields`` leave out comes from the template: its time box, its scope, and
        the hypothesis scaffold as the description to fill in.
        """
        fields.setdefault("template", self.id)
        if fields.get("time_box") is None and self.time_box is not None:
            fields["time_box"] = self.time_box
        if fields.get("scope") is None and self.scope is not None:
            fields["scope"] = self.scope
        if not fields.get("description") and self.scaffold.strip():
            fields["description"] = self.scaffold
        return Experiment(**fields)

    def missing(
        self,
        experiment: Experiment,
        move: Move | str,
        *,
        people: Iterable[tuple[Participation, Participant]] = (),
        hypotheses: Iterable[Hypothesis] = (),
        prototypes: Iterable[Prototype] = (),
        sprint: Sprint | None = None,
        at: pendulum.DateTime | None = None,
    ) -> tuple[Gap, ...]:
        """What ``experiment`` still lacks before it may make ``move``; empty when satisfied.

        ``people`` are its participations with their participants, ``hypotheses`` and
        ``prototypes`` its own, ``sprint`` the sprint it belongs to (whose facilitators
        count as its own), and ``at`` the moment of the move (a prototype counts as
        shown if it was shown by then; default: whenever it was).  Each
        :class:`Gap` says in words what is missing (``str(gap)``: "a citizen taking
        part").
        """
        wanted = Move(move)
        taking_part = list(people)
        found: list[Gap] = []
        roles = {person.role for _, person in taking_part}
        found += [Gap(Need.ROLE, role=role) for role in self.roles if role not in roles]
        stances = {participation.stance for participation, _ in taking_part}
        found += [Gap(Need.STANCE, stance=s) for s in self.stances if s not in stances]
        departments = len(departments_of(person for _, person in taking_part))
        if departments < self.min_departments:
            found.append(Gap(Need.DEPARTMENTS, wanted=self.min_departments, have=departments))
        external = sum(1 for _, person in taking_part if person.external)
        if external < self.min_external:
            found.append(Gap(Need.EXTERNAL, wanted=self.min_external, have=external))
        found += self._time_box_missing(experiment)
        found += [
            Gap(Need.REQUIREMENT, requirement=requirement)
            for requirement in self.requirements(wanted)
            if not _has(requirement, experiment, hypotheses, prototypes, sprint, at)
        ]
        return tuple(found)

    def _time_box_missing(self, experiment: Experiment) -> list[Gap]:
        limit = self.max_time_box
        if limit is None:
            return []
        box = experiment.time_box
        if box is None:
            return [Gap(Need.SHORT_TIME_BOX, limit=limit)]
        anchor = box.start or experiment.started_at or experiment.created_at
        if longer_than(anchor, box.duration, limit):
            return [Gap(Need.SHORT_TIME_BOX, limit=limit, given=box.duration)]
        return []


def _has(
    requirement: Requirement,
    experiment: Experiment,
    hypotheses: Iterable[Hypothesis],
    prototypes: Iterable[Prototype],
    sprint: Sprint | None,
    at: pendulum.DateTime | None,
) -> bool:
    """Whether ``experiment`` has what ``requirement`` asks for."""
    if requirement is Requirement.OWNER:
        return experiment.owner is not None
    if requirement is Requirement.TIME_BOX:
        return experiment.time_box is not None
    if requirement is Requirement.SCOPE:
        return experiment.scope is not None
    if requirement is Requirement.FACILITATOR:
        return bool(experiment.facilitators) or bool(sprint is not None and sprint.facilitators)
    if requirement is Requirement.SPRINT:
        return experiment.sprint is not None
    if requirement is Requirement.OBJECTIVE:
        return bool(experiment.objectives)
    if requirement is Requirement.DESCRIPTION:
        text = experiment.description.strip()
        return bool(text) and text != DEFAULT_SCAFFOLD
    if requirement is Requirement.HYPOTHESIS:
        return any(h.criterion is not None for h in hypotheses)
    assert requirement is Requirement.PROTOTYPE_SHOWN
    utc = pendulum.UTC
    showings = [(p.shown_at.astimezone(utc), p.shown_as) for p in prototypes if p.shown_at]
    moment = max((m for m, _ in showings), default=None) if at is None else at.astimezone(utc)
    return moment is not None and first_exposure(showings, moment) is not None


def mandatory_templates(templates: Iterable[Template], objectives: Iterable[str]) -> list[Template]:
    """The templates mandatory for an experiment serving ``objectives``, by title then id.

    ``objectives`` are the objectives the experiment serves with every objective above
    them: a template mandatory for an objective holds for everything below it.
    """
    serving = set(objectives)
    found = [t for t in templates if not t.deleted and serving.intersection(t.mandatory_for)]
    return sorted(found, key=lambda t: (t.title, t.id))


def templates_for(
    experiment: Experiment, templates: Iterable[Template], parents: Mapping[str, str | None]
) -> list[tuple[Template, bool]]:
    """The templates ``experiment`` is held to, each with whether it is mandatory.

    Those mandatory for the objectives it serves or objectives above them (``parents``
    maps each objective's id to its parent's), then the one it was made from, if that
    is another.
    """
    known = [t for t in templates if not t.deleted]
    found = [
        (t, True) for t in mandatory_templates(known, ancestors(parents, experiment.objectives))
    ]
    if all(t.id != experiment.template for t, _ in found):
        found += [(t, False) for t in known if t.id == experiment.template]
    return found


def ancestors(parents: Mapping[str, str | None], objectives: Iterable[str]) -> set[str]:
    """``objectives`` and every objective above them, by ``parents`` (id -> parent id).

    A loop of parents ends where it closes; a parent not in ``parents`` ends a chain.
    """
    found: set[str] = set()
    for objective in objectives:
        current: str | None = objective
        while current is not None and current not in found:
            found.add(current)
            current = parents.get(current)
    return found
