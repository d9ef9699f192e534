"""What a check is, what it finds, and what it gets to look at."""

from __future__ import annotations

import enum
import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

import attrs
import pendulum

from experiments._grouping import by_experiment
from experiments.checks._options import OptionKind, inferred
from experiments.errors import ValidationError
from experiments.model import (
    Decision,
    Experiment,
    Learning,
    Objective,
    Participant,
    Participation,
    Prototype,
    Record,
    Sprint,
)
from experiments.model._time import instant
from experiments.refs import Ref

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = ["Check", "CheckContext", "Finding", "Severity"]


class Severity(enum.StrEnum):
    """How urgent a finding is."""

    INFO = "info"
    WARNING = "warning"
    ERROR = "error"


@attrs.frozen
class Finding:
    """Something a check found: which check, how urgent, about what, and what to do."""

    check: str
    severity: Severity
    message: str
    concerns: tuple[Ref, ...] = ()
    plugin: str = ""

    def __str__(self) -> str:
        about = ", ".join(ref.title for ref in self.concerns)
        return f"[{self.severity}] {self.check}: {self.message}" + (f" ({about})" if about else "")


def ref(record: Record) -> Ref:
    """A record named in a finding."""
    return Ref(
        record.id, str(getattr(record, "title", None) or getattr(record, "statement", record.id))
    )


def _check_id(_: object, __: attrs.Attribute[str], value: object) -> None:
    if not isinstance(value, str) or "/" not in value or value != value.strip().lower():
        raise ValidationError(
            f"check id {value!r} must be lowercase '<area>/<name>', "
            "e.g. 'engine-room/no-critical-voice'"
        )


@attrs.frozen
class Check:
    """A rule a programme is held to.

    ``run(context, options)`` yields :class:`Finding` objects for what it finds in the
    context's scope; ``options`` are the check's ``defaults`` updated with whatever the
    caller configured for this check's ``id``.

    ``id`` is the stable identifier, ``"<area>/<name>"``, that configuration and reports
    use; ``severity`` how urgent its findings are unless a finding says otherwise;
    ``move`` the brave move of the practice it comes from; ``summary`` one line on what it
    looks for; ``run`` the function that looks; ``defaults`` its thresholds.

    ``kinds`` says how to read each option (an :class:`OptionKind`, such as
    :data:`DURATION_OPTION`); an option it does not name is read by its default's type:
    a bool, a number, a ``timedelta`` or a list, tuple or set; any other default takes
    values as they are given.  ``run`` gets the values as read, defaults included.
    """

    id: str = attrs.field(validator=_check_id)
    severity: Severity = attrs.field(converter=Severity)
    move: str
    summary: str
    run: Callable[[CheckContext, Mapping[str, Any]], Iterable[Finding]]
    defaults: Mapping[str, Any] = attrs.field(factory=dict)
    kinds: Mapping[str, OptionKind] = attrs.field(factory=dict)

    def __attrs_post_init__(self) -> None:
        unknown = set(self.kinds) - set(self.defaults)
        if unknown:
            raise ValidationError(
                f"check {self.id!r} gives kinds for {', '.join(sorted(unknown))}, which have "
                "no default; give every option a default"
            )
        self.settings({})  # a default the check cannot read is a mistake in the check

    def settings(self, configured: Mapping[str, Any]) -> dict[str, Any]:
        """The options ``run`` gets: the defaults updated with ``configured``, each read.

        Raises:
            ValidationError: an option the check does not have, or a value of a form it
                does not accept (the message names the check, the option and the forms).
        """
        extra = set(configured) - set(self.defaults)
        if extra:
            raise ValidationError(
                f"check {self.id!r} has no option {', '.join(sorted(extra))}; its options: "
                f"{', '.join(self.defaults) or 'none'}"
            )
        values = {**self.defaults, **configured}
        for name, value in values.items():
            kind = self.kinds.get(name) or inferred(self.defaults[name])
            if kind is not None:
                values[name] = kind.read(self.id, name, value)
        return values

    def finding(self, message: str, *concerns: Record, severity: Severity | None = None) -> Finding:
        """A finding of this check about ``concerns``."""
        return Finding(self.id, severity or self.severity, message, tuple(ref(r) for r in concerns))


class CheckContext:
    """What checks look at: the experiments and sprints in scope, and their records.

    Loaders read the store once and keep the result, so ten checks asking for
    participations cost one query.
    """

    def __init__(
        self,
        store: Store,
        experiments: list[Experiment],
        sprints: list[Sprint],
        at: pendulum.DateTime,
    ) -> None:
        self.store = store
        self.experiments = experiments
        self.sprints = sprints
        self.at = at
        self._ids = {e.id for e in experiments}

    @functools.cached_property
    def participations(self) -> dict[str, list[Participation]]:
        """Participations by experiment id."""
        return by_experiment(self.store, Participation, sorted(self._ids))

    @functools.cached_property
    def prototypes(self) -> dict[str, list[Prototype]]:
        """Prototypes by experiment id."""
        return by_experiment(self.store, Prototype, sorted(self._ids))

    @functools.cached_property
    def learnings(self) -> dict[str, list[Learning]]:
        """Learnings by experiment id."""
        return by_experiment(self.store, Learning, sorted(self._ids))

    @functools.cached_property
    def decisions(self) -> dict[str, list[Decision]]:
        """Decisions by experiment id."""
        return by_experiment(self.store, Decision, sorted(self._ids))

    @functools.cached_property
    def objectives(self) -> dict[str, Objective]:
        """The objectives experiments in scope are linked to, by id (deleted ones left out)."""
        wanted = {o for experiment in self.experiments for o in experiment.objectives}
        if not wanted:
            return {}
        return {o.id: o for o in self.store.query(Objective, id=sorted(wanted))}

    @functools.cached_property
    def participants(self) -> dict[str, Participant]:
        """Every participant taking part in an experiment or sprint in scope, by id."""
        wanted = {p.participant for group in self.participations.values() for p in group}
        wanted |= {member for sprint in self.sprints for member in sprint.team}
        if not wanted:
            return {}
        return {p.id: p for p in self.store.query(Participant, id=sorted(wanted))}

    def people_in(self, experiment: Experiment) -> Iterator[tuple[Participation, Participant]]:
        """Each participation in ``experiment`` with its participant (purged ones left out)."""
        for participation in self.participations.get(experiment.id, ()):
            person = self.participants.get(participation.participant)
            if person is not None:
                yield participation, person

    def status_at(self, experiment: Experiment) -> str:
        """The experiment's status as of the context's moment, from its lifecycle times."""
        return experiment.status_at(self.at).value

    def reached(self, moment: pendulum.DateTime | None) -> bool:
        """Whether ``moment`` lies at or before the context's moment (compared as instants)."""
        return moment is not None and instant(moment) <= instant(self.at)
