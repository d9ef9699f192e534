"""Experiments ("start small"), their lifecycle, and the decision that ends them."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, ClassVar, Final

import attrs
import pendulum

from experiments.errors import InvalidTypeError, TransitionError, ValidationError
from experiments.model._copies import revise
from experiments.model._fields import Unfit, named_errors, shorten
from experiments.model._record import Record
from experiments.model._time import (
    DateTimeLike,
    TimeBox,
    format_datetime,
    instant,
    instant_key,
    now,
)
from experiments.model._validate import (
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
)
from experiments.model.asof import overdue_days, status_at, time_box_end
from experiments.model.lifecycle import (
    LIFECYCLE_TIMES,
    ExperimentStatus,
    Outcome,
    legal_moves,
)
from experiments.model.next_step import NextStep, to_next_steps
from experiments.model.scope import Scope, to_optional_scope

__all__ = ["Decision", "Experiment", "ExperimentStatus", "Outcome"]

# Which lifecycle times each state must have (True), must not have (False), or may have (None).
_TIMES: Final[dict[ExperimentStatus, tuple[bool | None, bool, bool, bool]]] = {
    #                          started  concluded decided abandoned
    ExperimentStatus.PLANNED: (False, False, False, False),
    ExperimentStatus.RUNNING: (True, False, False, False),
    ExperimentStatus.CONCLUDED: (True, True, False, False),
    ExperimentStatus.DECIDED: (True, True, True, False),
    ExperimentStatus.ABANDONED: (None, False, False, True),
}


def _to_status(value: ExperimentStatus | str) -> ExperimentStatus:
    return to_enum(ExperimentStatus, value)


def _to_outcome(value: Outcome | str) -> Outcome:
    return to_enum(Outcome, value)


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Experiment(Record):
    """A small, time-boxed test of one or more hypotheses, linked to objectives.

    Moves through its lifecycle only by :meth:`start`, :meth:`conclude`, :meth:`decide`
    and :meth:`abandon`; each returns the next version and leaves this one untouched.
    ``template`` is the template it was made from, and ``scope`` how large it is
    planned to be ("start small").
    ``terms`` are the words of the shared vocabulary it uses.
    """

    kind: ClassVar[str] = "experiment"
    id_prefix: ClassVar[str] = "exp"

    title: str = attrs.field(converter=to_title)
    description: str = attrs.field(default="", converter=to_text)
    objectives: tuple[str, ...] = attrs.field(default=(), converter=to_refs)
    sprint: str | None = attrs.field(default=None, converter=to_optional_ref)
    time_box: TimeBox | None = attrs.field(default=None, converter=to_optional_timebox)
    owner: str | None = attrs.field(default=None, converter=to_optional_name)
    facilitators: tuple[str, ...] = attrs.field(default=(), converter=to_names)
    status: ExperimentStatus = attrs.field(default=ExperimentStatus.PLANNED, converter=_to_status)
    started_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key
    )
    concluded_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key
    )
    decided_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key
    )
    abandoned_at: pendulum.DateTime | None = attrs.field(
        default=None, converter=to_optional_datetime, eq=instant_key
    )
    abandon_reason: str = attrs.field(default="", converter=to_text)
    template: str | None = attrs.field(default=None, converter=to_optional_ref)
    scope: Scope | None = attrs.field(default=None, converter=to_optional_scope)
    terms: tuple[str, ...] = attrs.field(default=(), converter=to_refs)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        times = self.lifecycle_times()
        for name, time, rule in zip(LIFECYCLE_TIMES, times, _TIMES[self.status], strict=True):
            if rule is not None and (time is not None) != rule:
                need = "needs" if rule else "cannot have"
                raise ValidationError(
                    f"Experiment.{name}: a {self.status} experiment {need} {name}; "
                    "use start(), conclude(), decide() and abandon() to move it"
                )
        if times.count(None) < len(times) - 1:  # two times or more have an order to keep
            self._check_order(times)
        if (
            self.started_at is not None
            and self.time_box is not None
            and self.time_box.start is None
        ):
            # A started experiment's time box starts when it did: one end for everyone.
            object.__setattr__(self, "time_box", self.time_box.starting(self.started_at))

    def _check_order(self, times: tuple[pendulum.DateTime | None, ...]) -> None:
        """Each lifecycle time comes after the one before it (started <= concluded <=
        decided, started <= abandoned); the error says which two are not, in words."""
        present = [
            (name, value)
            for name, value in zip(LIFECYCLE_TIMES, times, strict=True)
            if value is not None
        ]
        for (before, earlier), (after, later) in itertools.pairwise(present):
            # As instants: two times of one zone compare by wall clock, which puts 02:10
            # after 02:30 on the night the clocks go back even when it is 40 minutes later.
            if instant(later) < instant(earlier):
                raise ValidationError(
                    f"{self.label()}: its lifecycle times are out of order: "
                    f"{after.removesuffix('_at')} at {format_datetime(later)}, before it "
                    f"{before.removesuffix('_at')} at {format_datetime(earlier)}; each move "
                    "comes after the one before it"
                )

    # --- lifecycle -----------------------------------------------------------------

    @property
    def legal_moves(self) -> tuple[str, ...]:
        """The transitions allowed from the current status, by method name."""
        return legal_moves(self.status)

    @property
    def is_open(self) -> bool:
        """Whether it is planned or running, so still to be concluded or abandoned."""
        return self.status in (ExperimentStatus.PLANNED, ExperimentStatus.RUNNING)

    def _require(self, move: str) -> None:
        allowed = legal_moves(self.status)
        if move not in allowed:
            hint = (
                f"from {self.status} it can only {' or '.join(allowed)}"
                if allowed
                else f"{self.status} is final"
            )
            raise TransitionError(f"cannot {move} {self.label()}: it is {self.status}; {hint}")

    def _moment(self, at: DateTimeLike | None, field: str) -> pendulum.DateTime:
        try:
            return now() if at is None else to_datetime(at)
        except Unfit as unfit:
            raise ValidationError(f"Experiment.{field} {unfit.described}; got {at!r}") from None

    def _next(self, by: str | None, **changes: Any) -> Experiment:
        if by is not None:
            changes["changed_by"] = by
        return revise(self, changes)

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
        utc = pendulum.UTC
        started, concluded, decided, abandoned = (
            None if t is None else t.astimezone(utc) for t in self.lifecycle_times()
        )
        return status_at(started, concluded, decided, abandoned, at.astimezone(utc))

    def lifecycle_times(
        self,
    ) -> tuple[
        pendulum.DateTime | None,
        pendulum.DateTime | None,
        pendulum.DateTime | None,
        pendulum.DateTime | None,
    ]:
        """(started_at, concluded_at, decided_at, abandoned_at), None where not reached."""
        return (self.started_at, self.concluded_at, self.decided_at, self.abandoned_at)

    @property
    def ends_at(self) -> pendulum.DateTime | None:
        """When its time box ends, once that is known; a box without a start ends at the start."""
        box = self.time_box
        return None if box is None else time_box_end(box.start, box.duration, self.started_at)

    def overdue(self, at: pendulum.DateTime) -> pendulum.Duration | None:
        """How long it has run past its time box at ``at``, if it is running past it then."""
        end = self.ends_at
        if end is None or overdue_days(self.status_at(at), end, at) is None:
            return None
        return at.astimezone(pendulum.UTC) - end.astimezone(pendulum.UTC)


@attrs.frozen(kw_only=True, field_transformer=named_errors)
class Decision(Record):
    """What was decided after an experiment: scale up, iterate, pivot or stop.

    An experiment has one decision in force.  Changing it is explicit: a new decision
    that ``revises`` the one in force (made by :meth:`revised`), with a rationale for
    the change; the earlier one stays, so a roll-up of an earlier moment still shows it.
    Its ``next_steps`` are followed up (an owner, a due date, done or not) in new
    versions of it (:meth:`with_step`); they are the one part of a decision that changes.
    """

    kind: ClassVar[str] = "decision"
    id_prefix: ClassVar[str] = "dec"

    experiment: str = attrs.field(converter=to_ref)
    outcome: Outcome = attrs.field(converter=_to_outcome)
    rationale: str = attrs.field(default="", converter=to_text)
    decided_by: str | None = attrs.field(default=None, converter=to_optional_name)
    decided_at: pendulum.DateTime = attrs.field(factory=now, converter=to_datetime, eq=instant_key)
    next_steps: tuple[NextStep, ...] = attrs.field(default=(), converter=to_next_steps)
    revises: str | None = attrs.field(default=None, converter=to_optional_ref)

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if self.revises is not None and self.revises == self.id:
            raise ValidationError(f"Decision.revises cannot be the decision itself ({self.id!r})")
        if self.revises is not None and not self.rationale.strip():
            raise ValidationError(
                "Decision.rationale is required when a decision revises another: say why "
                "the earlier decision no longer holds"
            )

    def with_step(self, number: int, step: NextStep) -> Decision:
        """A copy with next step ``number`` (1 for the first) replaced by ``step``."""
        return self.evolve(next_steps=_replaced(self.next_steps, number, step, self.label()))

    def revised(
        self,
        outcome: Outcome | str,
        *,
        rationale: str,
        decided_by: str | None = None,
        decided_at: DateTimeLike | None = None,
        next_steps: Iterable[NextStep | str] = (),
    ) -> Decision:
        """A new decision about the same experiment that replaces this one, saying why."""
        extra: dict[str, Any] = {} if decided_at is None else {"decided_at": decided_at}
        return Decision(
            experiment=self.experiment,
            outcome=outcome,
            rationale=rationale,
            decided_by=decided_by,
            next_steps=tuple(next_steps),
            revises=self.id,
            **extra,
        )


def _replaced(
    steps: tuple[NextStep, ...], number: int, step: NextStep, label: str
) -> tuple[NextStep, ...]:
    """``steps`` with step ``number`` (counted from 1) replaced by ``step``."""
    given: object = number
    if isinstance(given, bool) or not isinstance(given, int) or not 1 <= given <= len(steps):
        raise ValidationError(
            f"{label} has {len(steps)} next step(s); number {given!r} is not one of them "
            f"(1 to {len(steps)})"
            if steps
            else f"{label} has no next steps; record them with the decision"
        )
    return (*steps[: number - 1], step, *steps[number:])
