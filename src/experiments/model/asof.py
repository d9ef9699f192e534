"""The rules of a programme as of a moment: small pure functions on plain values.

Whatever reads a programme at a moment (the as-of view in :mod:`experiments.asof`, and
through it the roll-up, the checks and the reports) decides these questions here and
nowhere else: the status of an experiment, where its time box ends, whether it is
overdue, which decision is in force, where the evidence on a hypothesis stands, when a
hypothesis counts as left untested, which supported hypotheses are worth magnifying,
which prototype participants were first shown, whether a next step is overdue, and
how far a key result is expected to have come.  The functions take plain values, so a
compact representation of a hundred thousand experiments calls them as they are.

Moments are compared as instants: callers give either aware times in UTC or the
fixed-width UTC text that stores keep (``2026-03-01T09:00:00.000000Z``), which sorts
like the instants it names, never a mix of the two in one call.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Final, TypeVar

import pendulum

from experiments.model._time import days_between, instant
from experiments.model.hypothesis import Criterion, HypothesisStatus
from experiments.model.lifecycle import ExperimentStatus, Outcome

if TYPE_CHECKING:
    from experiments.model.consent import Consent
    from experiments.model.experiment import Decision
    from experiments.model.prototype import Fidelity

__all__ = [
    "after",
    "awaits_decision",
    "behind_schedule",
    "concluded_without_learning",
    "consent_in_force",
    "consent_withdrawn",
    "counts",
    "criterion_met",
    "days_covered",
    "decision_in_force",
    "expected_progress",
    "first_exposure",
    "is_candidate",
    "latest",
    "latest_decision",
    "longer_than",
    "metric_key",
    "overdue_days",
    "polished_first",
    "reached",
    "retention_passed",
    "status_at",
    "step_overdue_days",
    "time_box_end",
    "time_box_start",
    "untested_deadline",
]

#: A moment as this module compares it: UTC text from ``utc_key``, or an aware time.
Moment = TypeVar("Moment", str, dt.datetime)
T = TypeVar("T")

_DONE: Final = frozenset({ExperimentStatus.CONCLUDED, ExperimentStatus.DECIDED})
#: Decisions that end the idea: nothing of the experiment is magnified after them.
_ENDS_THE_IDEA: Final = frozenset({Outcome.STOP, Outcome.PIVOT})


def reached(moment: Moment | None, at: Moment) -> bool:
    """Whether a dated fact (a learning, a decision, a measurement) counts at ``at``.

    A fact counts from the moment it is dated, inclusive: a learning observed at 10:00
    is part of a roll-up as of 10:00.
    """
    return moment is not None and moment <= at


def counts(moments: Iterable[Moment | None], at: Moment) -> int:
    """How many of the dated facts count at ``at`` (see :func:`reached`)."""
    return sum(1 for moment in moments if reached(moment, at))


def status_at(
    started: Moment | None,
    concluded: Moment | None,
    decided: Moment | None,
    abandoned: Moment | None,
    at: Moment,
) -> ExperimentStatus:
    """The status an experiment's lifecycle times give it at ``at``: the last step reached.

    An experiment decided (or abandoned) only after ``at`` is still concluded (or
    running, or planned) at ``at``; one started after ``at`` is still planned.
    """
    if reached(abandoned, at):
        return ExperimentStatus.ABANDONED
    if reached(decided, at):
        return ExperimentStatus.DECIDED
    if reached(concluded, at):
        return ExperimentStatus.CONCLUDED
    if reached(started, at):
        return ExperimentStatus.RUNNING
    return ExperimentStatus.PLANNED


def after(start: pendulum.DateTime, duration: pendulum.Duration) -> pendulum.DateTime | None:
    """The moment ``duration`` after ``start``, on the calendar of ``start``'s time zone.

    Days, weeks, months and years are counted on that zone's wall clock (a day across
    the change to summer time is 23 hours; a month from 29 February 19:00 in New York
    ends on 29 March at 19:00 there); hours, minutes and seconds are exact.  None when
    the moment falls after the year 9999, where no time can be written.
    """
    try:
        if start.tzinfo is pendulum.UTC and not (duration.years or duration.months):
            # UTC's days are all 24 hours: the stdlib's exact sum is the calendar's, and
            # twenty times faster than pendulum's, which a roll-up asks thousands of times.
            return dt.datetime.__add__(start, duration)
        return start + duration
    except (OverflowError, ValueError):
        return None


def time_box_start(
    box_start: pendulum.DateTime | None, started_at: pendulum.DateTime | None
) -> pendulum.DateTime | None:
    """Where a time box starts: its own start, or else when its experiment started."""
    return box_start if box_start is not None else started_at


def time_box_end(
    box_start: pendulum.DateTime | None,
    duration: pendulum.Duration,
    started_at: pendulum.DateTime | None,
) -> pendulum.DateTime | None:
    """Where a time box ends: its start (see :func:`time_box_start`) plus its length.

    A box that names its own start counts on that start's calendar; a bare length counts
    from ``started_at`` on the calendar of ``started_at``'s zone (see :func:`after`).
    None while neither start is known, or when the end falls after the year 9999.
    """
    anchor = time_box_start(box_start, started_at)
    return None if anchor is None else after(anchor, duration)


def days_covered(start: dt.datetime, end: dt.datetime) -> tuple[dt.date, dt.date, int]:
    """The first and last day of a time box, and how many days that is, both counted.

    Days are counted on the wall clock of the start's zone, the calendar the box counts
    on (:func:`after`), from the start's time of day: a box from 1 April 00:00 to 30 April 00:00 has
    29 days, 1 to 29 April; from 17 August 09:00 to 25 November 09:00 it has 100, the
    last on 24 November; a box that ends later in its last day than it began in its
    first (09:00 to 17:00) has that last day too.  A reader who counts the dates shown,
    both of them, gets the count shown.
    """
    end = end.astimezone(start.tzinfo)
    first = _day_of(start)
    count = (_day_of(end) - first).days
    if end.time() > start.time():
        count += 1
    count = max(count, 1)
    return first, first + dt.timedelta(days=count - 1), count


def overdue_days(
    status: ExperimentStatus,
    end: pendulum.DateTime | None,
    at: pendulum.DateTime,
    grace: pendulum.Duration | None = None,
) -> int | None:
    """Whole days a running experiment has run past its time box at ``at``, if it has.

    An experiment is overdue once ``end`` (plus ``grace``, counted like a time box) lies
    before ``at``; a planned, concluded, decided or abandoned one never is.  The days are
    counted from the end itself, grace or not.
    """
    if status is not ExperimentStatus.RUNNING or end is None:
        return None
    limit = end if grace is None else after(end, grace)
    if limit is None or not _before(limit, at):
        return None
    return days_between(end, at)


def longer_than(
    anchor: pendulum.DateTime, duration: pendulum.Duration, limit: pendulum.Duration
) -> bool:
    """Whether a time box of ``duration`` from ``anchor`` ends after one of ``limit`` would.

    Both are counted on the calendar of ``anchor``'s zone (see :func:`after`), so "P6W"
    and "P1M" compare as the dates they end on; one that ends after the year 9999 is
    longer than any limit.
    """
    end, longest = after(anchor, duration), after(anchor, limit)
    if end is None:
        return True
    return longest is not None and _before(longest, end)


def untested_deadline(
    status: ExperimentStatus,
    started_at: pendulum.DateTime | None,
    hypothesis: HypothesisStatus,
    allowance: pendulum.Duration,
    at: pendulum.DateTime,
) -> pendulum.DateTime | None:
    """When a hypothesis became overdue for a learning, if it is left untested at ``at``.

    A hypothesis of a started experiment (not abandoned) with no verdict yet is left
    untested once ``allowance`` has passed since the experiment started, counted on the
    calendar of ``started_at``'s zone like a time box.
    """
    if (
        hypothesis is not HypothesisStatus.UNTESTED
        or started_at is None
        or status in (ExperimentStatus.PLANNED, ExperimentStatus.ABANDONED)
    ):
        return None
    deadline = after(started_at, allowance)
    return deadline if deadline is not None and _before(deadline, at) else None


def awaits_decision(status: ExperimentStatus) -> bool:
    """Whether an experiment with ``status`` (at some moment) still waits for its decision.

    The status, not the decision records, says whether an experiment is decided: a
    decision counts once the experiment has moved to decided with it.
    """
    return status is ExperimentStatus.CONCLUDED


def concluded_without_learning(status: ExperimentStatus, learnings: int) -> bool:
    """Whether a concluded (or decided) experiment has no learning that counts yet."""
    return status in _DONE and learnings == 0


def latest(items: Iterable[T], key: Iterable[tuple[Moment, str]]) -> T | None:
    """The item whose (moment, id) key is greatest: the latest, ties broken by id.

    ``key`` gives each item's key, in the same order as ``items``.
    """
    best: T | None = None
    best_key: tuple[Moment, str] | None = None
    for item, item_key in zip(items, key, strict=True):
        if best_key is None or item_key > best_key:
            best, best_key = item, item_key
    return best


def latest_decision(decisions: Iterable[Decision]) -> Decision | None:
    """The latest of an experiment's decisions: by ``decided_at``, then by id.

    A revision is dated no earlier than the decision it revises, so the latest is the
    one no other decision has replaced.
    """
    items = list(decisions)
    return latest(items, ((d.decided_at.astimezone(pendulum.UTC), d.id) for d in items))


def decision_in_force(status: ExperimentStatus, latest_decision: T | None) -> T | None:
    """The decision an experiment with ``status`` (at some moment) counts as having.

    ``latest_decision`` is its latest decision dated up to that moment (a record, or
    just its outcome): a revised decision is replaced by the later one that revises it.
    It counts only while the experiment is decided; a decision saved for an experiment
    that never moved to decided, or moved only later, is not one yet.
    """
    return latest_decision if status is ExperimentStatus.DECIDED else None


def is_candidate(
    hypothesis: HypothesisStatus,
    evidence: object | None,
    status: ExperimentStatus,
    decision: Outcome | None,
) -> bool:
    """Whether a hypothesis may be ready to magnify ("find and magnify") at a moment.

    It is supported by its latest learning (with its evidence), and its experiment was
    neither abandoned nor decided to stop or pivot: what was dropped is not scaled up.
    """
    return (
        hypothesis is HypothesisStatus.SUPPORTED
        and evidence is not None
        and status is not ExperimentStatus.ABANDONED
        and decision not in _ENDS_THE_IDEA
    )


def first_exposure(
    showings: Iterable[tuple[Moment | None, Fidelity | None]], at: Moment
) -> tuple[Moment, Fidelity] | None:
    """When participants first saw a prototype, and how finished it was, as of ``at``.

    ``showings`` holds each prototype's first showing (``shown_at``) and its fidelity
    then (``shown_as``).  The earliest showing that counts at ``at`` is the first
    exposure; of two at the same moment, the less finished one.  None while nothing
    has been shown.
    """
    first: tuple[Moment, Fidelity] | None = None
    for moment, fidelity in showings:
        if moment is None or fidelity is None or not reached(moment, at):
            continue
        if first is None or (moment, fidelity.rank) < (first[0], first[1].rank):
            first = (moment, fidelity)
    return first


def polished_first(first: Fidelity | None, most: Fidelity) -> bool:
    """Whether the first prototype shown was more finished than ``most`` allows.

    "Invite into the unfinished": participants should first see something that can
    still change.  Nothing shown yet is not polished.
    """
    return first is not None and first.rank > most.rank


def _day_of(at: dt.datetime) -> dt.date:
    """The calendar day of a moment, in the moment's own time zone."""
    return dt.date(at.year, at.month, at.day)


def step_overdue_days(
    due: dt.date | None, done_at: pendulum.DateTime | None, at: pendulum.DateTime
) -> int | None:
    """Whole days a next step is past its due date at ``at``, if it is not done by then.

    A step is due by the end of its due day, on the calendar of ``at``'s time zone: it
    is overdue from the day after, if it was not done by ``at``.  A step without a due
    date is never overdue (it is untracked).
    """
    if due is None or (done_at is not None and _before_or_at(done_at, at)):
        return None
    days = (_day_of(at) - due).days
    return days if days > 0 else None


def expected_progress(since: dt.date, due: dt.date | None, at: dt.datetime) -> float | None:
    """How far a key result should have come by ``at``: a straight line to its due date.

    From 0 on ``since`` (when its baseline held) to 1 on ``due``, in whole days on the
    calendar of ``at``'s time zone, clamped to [0, 1].  None without a due date.
    """
    if due is None:
        return None
    today = _day_of(at)
    span = (due - since).days
    if span <= 0:
        return 1.0 if today >= due else 0.0
    return min(1.0, max(0.0, (today - since).days / span))


def behind_schedule(actual: float | None, expected: float | None, tolerance: float = 0.0) -> bool:
    """Whether a key result's progress lags what its due date expects by more than ``tolerance``.

    A key result with a due date and no measurement yet has shown no progress at all.
    """
    if expected is None:
        return False
    return (actual or 0.0) + tolerance < expected


def metric_key(name: str) -> str:
    """What two names of one metric have in common: case and spacing do not matter."""
    return " ".join(name.casefold().split())


def criterion_met(criterion: Criterion, value: float | None) -> bool | None:
    """Whether the latest measured ``value`` meets ``criterion``; None without a value."""
    return None if value is None else criterion.is_met(value)


def _before_or_at(first: dt.datetime, second: dt.datetime) -> bool:
    return first.astimezone(pendulum.UTC) <= second.astimezone(pendulum.UTC)


def _before(first: pendulum.DateTime, second: pendulum.DateTime) -> bool:
    # As instants: two times of one zone compare by wall clock, which goes wrong in the
    # hour the clocks pass twice.
    return first.astimezone(pendulum.UTC) < second.astimezone(pendulum.UTC)


def consent_in_force(consent: Consent | None, at: pendulum.DateTime) -> bool:
    """Whether a consent was given by ``at`` and not withdrawn by then."""
    if consent is None or instant(consent.given_at) > instant(at):
        return False
    withdrawn = consent.withdrawn_at
    return withdrawn is None or instant(withdrawn) > instant(at)


def consent_withdrawn(consent: Consent | None, at: pendulum.DateTime) -> bool:
    """Whether a consent was withdrawn by ``at``."""
    withdrawn = None if consent is None else consent.withdrawn_at
    return withdrawn is not None and instant(withdrawn) <= instant(at)


def retention_passed(
    recorded_at: pendulum.DateTime, retention: pendulum.Duration | None, at: pendulum.DateTime
) -> bool:
    """Whether data recorded at ``recorded_at`` is past its retention period at ``at``.

    The period runs from when the person was first recorded, on that moment's calendar
    (:func:`after`); a period that ends after the year 9999 never passes, and no period
    means no limit.
    """
    if retention is None:
        return False
    end = after(recorded_at, retention)
    return end is not None and instant(end) <= instant(at)
