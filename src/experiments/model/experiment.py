"""Experiments ("start small"), their lifecycle, and the decision that ends them."""

from __future__ import annotations

import enum
from typing import Any, ClassVar, Final, TypeVar

import attrs
import pendulum

from experiments.errors import InvalidTypeError, TransitionError, ValidationError
from experiments.model._record import Record
from experiments.model._time import DateTimeLike, TimeBox, instant_key, now
from experiments.model._validate import (
    shorten,
    to_datetime,
    to_enum,
    to_names,
    to_optional_datetime,
    to_optional_name,
    to_optional_ref,
    to_optional_timebox,
    to_ref,
    to_refs,
    to_text,
    to_title,
    valid,
)

__all__ = [
    "Decision",
    "Experiment",
    "ExperimentStatus",
    "Outcome",
    "awaits_decision",
    "decision_of",
]

T = TypeVar("T")


class ExperimentStatus(enum.StrEnum):
    """Where an experiment is in its life: planned -> running -> concluded -> decided."""

    PLANNED = "planned"
    RUNNING = "running"
    CONCLUDED = "concluded"
    DECIDED = "decided"
    ABANDONED = "abandoned"


class Outcome(enum.StrEnum):
    """What was decided after an experiment ("find and magnify")."""

    SCALE_UP = "scale-up"
    ITERATE = "iterate"
    PIVOT = "pivot"
    STOP = "stop"


_MOVES: Final[dict[ExperimentStatus, tuple[str, ...]]] = {
    ExperimentStatus.PLANNED: ("start", "abandon"),
    ExperimentStatus.RUNNING: ("conclude", "abandon"),
    ExperimentStatus.CONCLUDED: ("decide",),
    ExperimentStatus.DECIDED: (),
    ExperimentStatus.ABANDONED: (),
}

# Which lifecycle times each state must have (True), must not have (False), or may have (None).
_TIMES: Final[dict[ExperimentStatus, tuple[bool | None, bool, bool, bool]]] = {
    #                          started  concluded decided abandoned
    ExperimentStatus.PLANNED: (False, False, False, False),
    ExperimentStatus.RUNNING: (True, False, False, False),
    ExperimentStatus.CONCLUDED: (True, True, False, False),
    ExperimentStatus.DECIDED: (True, True, True, False),
    ExperimentStatus.ABANDONED: (None, False, False, True),
}
_TIME_FIELDS: Final = ("started_at", "concluded_at", "decided_at", "abandoned_at")
# Which lifecycle time reached first tells the status at a moment, latest step first.
_STATUS_BY_TIME: Final = (
    ("abandoned_at", ExperimentStatus.ABANDONED),
    ("decided_at", ExperimentStatus.DECIDED),
    ("concluded_at", ExperimentStatus.CONCLUDED),
    ("started_at", ExperimentStatus.RUNNING),
)


def awaits_decision(status: ExperimentStatus) -> bool:
    """Whether an experiment with ``status`` (at some moment) still waits for its decision.

    The status, not the decision records, says whether an experiment is decided: a
    decision counts once the experiment has moved to decided with it.  The roll-up, the
    checks and reports all ask here, so that they never disagree.
    """
    return status is ExperimentStatus.CONCLUDED


def decision_of(status: ExperimentStatus, latest: T | None) -> T | None:
    """The decision an experiment with ``status`` (at some moment) counts as having.

    ``latest`` is its latest decision dated up to that moment (a record, or just its
    outcome); it counts only while the experiment is decided.  A decision saved for an
    experiment that never moved to decided, or is decided only later, is not one yet.
    """
    return latest if status is ExperimentStatus.DECIDED else None


def _to_status(value: ExperimentStatus | str) -> ExperimentStatus:
    return to_enum(ExperimentStatus, value)


def _to_outcome(value: Outcome | str) -> Outcome:
    return to_enum(Outcome, value)


@attrs.frozen(kw_only=True)
class Experiment(Record):
    """A small, time-boxed test of one or more hypotheses, linked to objectives.

    Moves through its lifecycle only by :meth:`start`, :meth:`conclude`, :meth:`decide`
    and :meth:`abandon`; each returns the next version and leaves this one untouched.
    """

    kind: ClassVar[str] = "experiment"
    id_prefix: ClassVar[str] = "exp"

    title: str = attrs.field(converter=to_title, validator=valid)
    description: str = attrs.field(default="", converter=to_text, validator=valid)
    objectives: tuple[str, ...] = attrs.field(default=(), converter=to_refs, validator=valid)
    sprint: str | None = attrs.field(default=None, converter=to_optional_ref, validator=valid)
    time_box: TimeBox | None = attrs.field(
        default=None, converter=to_optional_timebox, validator=valid
    )
    owner: str | None = attrs.field(default=None, converter=to_optional_name, validator=valid)
    facilitators: tuple[str, ...] = attrs.field(default=(), converter=to_names, validator=valid)
    status: ExperimentStatus = attrs.field(
        default=ExperimentStatus.PLANNED, converter=_to_status, validator=valid
    )
    started_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, validator=valid, eq=instant_key
    )
    concluded_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, validator=valid, eq=instant_key
    )
    decided_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, validator=valid, eq=instant_key
    )
    abandoned_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, validator=valid, eq=instant_key
    )
    abandon_reason: str = attrs.field(default="", converter=to_text, validator=valid)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        rules = _TIMES[self.status]
        for name, rule in zip(_TIME_FIELDS, rules, strict=True):
            present = getattr(self, name) is not None
            if rule is not None and present != rule:
                need = "needs" if rule else "cannot have"
                raise ValidationError(
                    f"Experiment.{name}: a {self.status} experiment {need} {name}; "
                    "use start(), conclude(), decide() and abandon() to move it"
                )
        times = [getattr(self, name) for name in _TIME_FIELDS]
        # As instants: two times of one zone compare by wall clock, which puts 02:10 after
        # 02:30 on the night the clocks go back even when it is 40 minutes later.
        instants = [t.astimezone(pendulum.UTC) for t in times if t is not None]
        if instants != sorted(instants):
            raise ValidationError(
                "Experiment lifecycle times are out of order: started_at <= concluded_at "
                f"<= decided_at and started_at <= abandoned_at; got {times}"
            )
        if (
            self.started_at is not None
            and self.time_box is not None
            and self.time_box.start is None
        ):
            # A started experiment's time box starts when it did: one end for everyone.
            object.__setattr__(self, "time_box", self.time_box.starting(self.started_at))

    # --- lifecycle -----------------------------------------------------------------

    @property
    def legal_moves(self) -> tuple[str, ...]:
        """The transitions allowed from the current status, by method name."""
        return _MOVES[self.status]

    @property
    def is_open(self) -> bool:
        """Whether it is planned or running, so still to be concluded or abandoned."""
        return self.status in (ExperimentStatus.PLANNED, ExperimentStatus.RUNNING)

    def _require(self, move: str) -> None:
        if move not in _MOVES[self.status]:
            allowed = _MOVES[self.status]
            hint = (
                f"from {self.status} it can only {' or '.join(allowed)}"
                if allowed
                else f"{self.status} is final"
            )
            raise TransitionError(f"cannot {move} {self.label()}: it is {self.status}; {hint}")

    def _moment(self, at: DateTimeLike | None, field: str) -> pendulum.DateTime:
        moment = now() if at is None else to_datetime(at)
        if not isinstance(moment, pendulum.DateTime):
            raise ValidationError(f"Experiment.{field} {moment.expected}; got {at!r}")
        return moment

    def _next(self, by: str | None, **changes: Any) -> Experiment:
        if by is not None:
            changes["changed_by"] = by
        return attrs.evolve(self, **changes)

    def start(self, *, at: DateTimeLike | None = None, by: str | None = None) -> Experiment:
        """Planned -> running.  A time box given only as a duration starts now (or ``at``)."""
        self._require("start")
        moment = self._moment(at, "started_at")
        time_box = self.time_box.starting(moment) if self.time_box is not None else None
        return self._next(by, status=ExperimentStatus.RUNNING, started_at=moment, time_box=time_box)

    def conclude(self, *, at: DateTimeLike | None = None, by: str | None = None) -> Experiment:
        """Running -> concluded: the test is over; learnings and a decision follow."""
        self._require("conclude")
        moment = self._moment(at, "concluded_at")
        return self._next(by, status=ExperimentStatus.CONCLUDED, concluded_at=moment)

    def decide(self, decision: Decision, *, by: str | None = None) -> Experiment:
        """Concluded -> decided, by ``decision`` (which must be about this experiment)."""
        if not isinstance(decision, Decision):
            raise InvalidTypeError(
                f"Experiment.decide() takes a Decision; got {shorten(decision)}; make one "
                f"with Decision(experiment={self.id!r}, outcome='scale-up')"
            )
        self._require("decide")
        if decision.experiment != self.id:
            raise ValidationError(
                f"Decision {decision.id!r} is about experiment {decision.experiment!r}, "
                f"not {self.id!r}; make the decision with experiment={self.id!r}"
            )
        return self._next(
            by or decision.decided_by,
            status=ExperimentStatus.DECIDED,
            decided_at=decision.decided_at,
        )

    def abandon(
        self, *, reason: str = "", at: DateTimeLike | None = None, by: str | None = None
    ) -> Experiment:
        """Planned or running -> abandoned, with the reason why."""
        self._require("abandon")
        moment = self._moment(at, "abandoned_at")
        return self._next(
            by, status=ExperimentStatus.ABANDONED, abandoned_at=moment, abandon_reason=reason
        )

    def status_at(self, at: pendulum.DateTime) -> ExperimentStatus:
        """The status its lifecycle times give it at the instant ``at``."""
        moment = at.astimezone(pendulum.UTC)
        for name, status in _STATUS_BY_TIME:
            value = getattr(self, name)
            if value is not None and value.astimezone(pendulum.UTC) <= moment:
                return status
        return ExperimentStatus.PLANNED

    @property
    def ends_at(self) -> pendulum.DateTime | None:
        """When its time box ends, once that is known; a box without a start ends at the start."""
        return None if self.time_box is None else self.time_box.end

    def overdue(self, at: pendulum.DateTime) -> pendulum.Duration | None:
        """How long it has run past its time box at ``at``, if it is running past it then."""
        end = self.ends_at
        if self.status_at(at) is not ExperimentStatus.RUNNING or end is None:
            return None
        end, at = end.astimezone(pendulum.UTC), at.astimezone(pendulum.UTC)  # instants
        return None if end >= at else at - end


@attrs.frozen(kw_only=True)
class Decision(Record):
    """What was decided after an experiment: scale up, iterate, pivot or stop."""

    kind: ClassVar[str] = "decision"
    id_prefix: ClassVar[str] = "dec"

    experiment: str = attrs.field(converter=to_ref, validator=valid)
    outcome: Outcome = attrs.field(converter=_to_outcome, validator=valid)
    rationale: str = attrs.field(default="", converter=to_text, validator=valid)
    decided_by: str | None = attrs.field(default=None, converter=to_optional_name, validator=valid)
    decided_at: pendulum.DateTime = attrs.field(
        factory=now, converter=to_datetime, validator=valid, eq=instant_key
    )
    next_steps: tuple[str, ...] = attrs.field(default=(), converter=to_names, validator=valid)
