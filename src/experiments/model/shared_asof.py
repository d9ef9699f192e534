"""The rules of shared mental models as of a moment: small pure functions on plain values.

Whatever reads the maturity analysis, the workshop's actions or the shared vocabulary
at a moment (the view in :mod:`experiments.mental_models`, and through it the
analysis, the checks and the reports) decides these questions here and nowhere else:
which survey rounds have begun, which responses count, which round is the previous
one, whether a workshop action is done or overdue, and which version of a term (or of
a department's reading of it) is in force.  They build on the rules of
:mod:`experiments.model.asof`: a dated fact counts from its moment, inclusive.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from typing import Final, TypeVar

import pendulum

from experiments.model._time import instant
from experiments.model.asof import after, reached

__all__ = [
    "action_done",
    "action_overdue_days",
    "in_force",
    "previous_round",
    "response_counts",
    "round_begun",
]

T = TypeVar("T")

_A_DAY: Final = pendulum.duration(days=1)


def round_begun(opened_at: pendulum.DateTime, at: pendulum.DateTime) -> bool:
    """Whether a survey round has been asked by ``at``: it opened then or before."""
    return reached(instant(opened_at), instant(at))


def response_counts(
    answered_at: pendulum.DateTime,
    closed_at: pendulum.DateTime | None,
    at: pendulum.DateTime,
) -> bool:
    """Whether a response counts in its round's analysis at ``at``.

    It counts from the moment it was answered; one answered after its round closed
    (``closed_at``) never counts, since the round's figures were read by then.
    """
    answered = instant(answered_at)
    if closed_at is not None and answered > instant(closed_at):
        return False
    return reached(answered, instant(at))


def previous_round(
    rounds: Iterable[T], opened: Callable[[T], pendulum.DateTime], key: Callable[[T], str], this: T
) -> T | None:
    """The round before ``this`` among ``rounds`` of one questionnaire, if there is one.

    Rounds are ordered by when they opened, ties broken by id (``key``); the previous
    one is the last before ``this`` in that order.  Give only the rounds begun at the
    moment (:func:`round_begun`), so a round planned for later is never compared with.
    """

    def order(item: T) -> tuple[dt.datetime, str]:
        return instant(opened(item)), key(item)

    mine = order(this)
    earlier = [r for r in rounds if order(r) < mine]
    return max(earlier, key=order, default=None)


def action_done(done_at: pendulum.DateTime | None, at: pendulum.DateTime) -> bool:
    """Whether a workshop action is done at ``at``: it was marked done then or before."""
    return done_at is not None and reached(instant(done_at), instant(at))


def action_overdue_days(
    due: dt.date | None,
    done_at: pendulum.DateTime | None,
    at: pendulum.DateTime,
    grace: pendulum.Duration | None = None,
) -> int | None:
    """Whole days a workshop action is past its due date at ``at``, if it is overdue.

    An action is due by the end of its due day, on the calendar of ``at``'s time zone;
    it is overdue from the next day on (after ``grace`` on top, counted in days), unless
    it was done by ``at``.  None for an action without a due date, done, or not overdue.
    """
    if due is None or action_done(done_at, at):
        return None
    zone = at.tzinfo or pendulum.UTC
    due_day = pendulum.datetime(due.year, due.month, due.day, tz=zone)
    limit = after(due_day, _A_DAY if grace is None else _A_DAY + grace)
    if limit is None or instant(at) < instant(limit):
        return None
    return (dt.date(at.year, at.month, at.day) - dt.date(due.year, due.month, due.day)).days


def in_force(
    versions: Sequence[T],
    moment: Callable[[T], pendulum.DateTime | None],
    at: pendulum.DateTime,
) -> T | None:
    """The version in force at ``at``: the latest revision whose ``moment`` has come.

    For a term, ``moment`` is when its definitions were agreed; for a department's
    reading of a term, when it was stated.  ``versions`` come oldest first (a record's
    history); a version without a moment (a term not agreed yet) is never in force, and
    a later agreement replaces an earlier one only from its own moment on.
    """
    found: T | None = None
    limit = instant(at)
    for version in versions:
        when = moment(version)
        if when is not None and reached(instant(when), limit):
            found = version
    return found
