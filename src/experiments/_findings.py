"""What the facts of a moment show about one experiment or hypothesis: the findings.

Each is a small frozen value naming what it is about by a :class:`~experiments.refs.Ref`;
the facts make them, and the roll-up's summaries, the checks and the reports list them.
"""

from __future__ import annotations

import datetime as dt

import attrs
import pendulum

from experiments.model.learning import Evidence
from experiments.model.lifecycle import Outcome
from experiments.model.next_step import NextStep
from experiments.model.participant import Stance
from experiments.refs import Ref

__all__ = [
    "Candidate",
    "FollowUp",
    "OneSidedEvidence",
    "Overdue",
    "Untested",
    "rank_key",
    "scales_up",
]


@attrs.frozen(weakref_slot=False)  # thousands in a roll-up: 8 bytes each
class OneSidedEvidence:
    """A hypothesis whose learnings rest only on voices of one stance."""

    hypothesis: Ref
    experiment: Ref
    stance: Stance
    voices: int


@attrs.frozen(weakref_slot=False)  # thousands in a roll-up: 8 bytes each
class Overdue:
    """A running experiment past the end of its time box.

    ``ended_at`` is the moment its time box ended and ``days`` the whole days since;
    ``last_day`` is the last day the box covered, as reports show a box's days
    (:func:`~experiments.model.asof.days_covered`): for a box of whole days, the day
    before the one it ended on (four weeks from 14 September 15:00 cover 14 September
    to 11 October, and end on 12 October at 15:00).
    """

    experiment: Ref
    ended_at: pendulum.DateTime
    days: int
    last_day: dt.date


@attrs.frozen(weakref_slot=False)  # thousands in a roll-up: 8 bytes each
class Untested:
    """A hypothesis of a started experiment with no learning, for longer than allowed."""

    hypothesis: Ref
    experiment: Ref
    since: pendulum.DateTime
    days_overdue: int


@attrs.frozen(weakref_slot=False)  # thousands in a roll-up: 8 bytes each
class FollowUp:
    """A next step of a learning or a decision, where it stands at the moment.

    ``source`` is the learning or decision it comes from, ``number`` its place there
    (1 for the first); ``done`` says whether it was done by the moment, and
    ``overdue_days`` how many whole days it is past its due date, if it is.
    """

    step: NextStep
    source: Ref
    number: int
    experiment: Ref
    done: bool
    overdue_days: int | None = None

    @property
    def overdue(self) -> bool:
        return self.overdue_days is not None


@attrs.frozen(weakref_slot=False)  # thousands in a roll-up: 8 bytes each
class Candidate:
    """A supported hypothesis that may be ready to magnify ("find and magnify").

    ``decision`` is the decision in force about its experiment (None while it awaits
    one); ``criterion`` the hypothesis's success criterion, ``measured`` the latest
    value of the criterion's metric in the experiment, and ``criterion_met`` whether
    that value meets it (None without a criterion or a measurement).
    """

    hypothesis: Ref
    experiment: Ref
    evidence: Evidence
    participants: int
    critical_voices: int
    objectives: tuple[Ref, ...]
    decision: Outcome | None = None
    criterion: str | None = None
    measured: float | None = None
    criterion_met: bool | None = None

    @property
    def scaling_up(self) -> bool:
        """Whether its experiment is already decided for scale-up."""
        return scales_up(self.decision)

    def rank_key(self) -> tuple[int, int, int, int]:
        """Stronger evidence first, then critical voices heard, breadth, objectives served."""
        return rank_key(
            self.evidence, self.critical_voices, self.participants, len(self.objectives)
        )


def scales_up(decision: Outcome | None) -> bool:
    """Whether a candidate with ``decision`` in force is already decided for scale-up."""
    return decision is Outcome.SCALE_UP


def rank_key(
    evidence: Evidence, critical_voices: int, participants: int, objectives: int
) -> tuple[int, int, int, int]:
    """How a candidate ranks (:meth:`Candidate.rank_key`), from what it is made of."""
    return (evidence.rank, 1 if critical_voices else 0, participants, objectives)
