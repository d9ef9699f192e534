"""What the facts of a moment show about each experiment and hypothesis on its own.

Worked out once, as the facts are read (:class:`~experiments._facts.Facts`): which
running experiments are past their time box, which hypotheses rest on voices of one
stance, which are left untested too long, and which are candidates to magnify, with
whether their success criterion is met. Each rule is one of :mod:`experiments.model.asof`;
this module finds what each applies to and keeps what each finding is made of in the
facts' columns, which make the findings when they are read.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

import pendulum

from experiments._grouping import chunks
from experiments._packing import PERSON_SHIFT, STANCES, stance_of
from experiments.model import asof as rules
from experiments.model._time import (
    UTC,
    UTC_WIDTH,
    days_between,
    parse_datetime,
    parse_duration,
    parse_timebox,
    utc_key,
)
from experiments.model.experiment import Experiment
from experiments.model.hypothesis import Criterion, Hypothesis, HypothesisStatus
from experiments.model.lifecycle import ExperimentStatus
from experiments.query import F

if TYPE_CHECKING:
    from experiments._facts import BoxOverrun, Facts, Grouped

__all__ = ["derive"]

# How far a duration counted on a zone's calendar can end from the same duration
# counted in UTC: up to a day when the clocks change (Samoa once skipped a whole one),
# and for months a short month's clamping on top.  Within this of the moment, ends are
# worked out exactly.
_SLACK_DAYS: Final = 1
_SLACK_MONTH_DAYS: Final = 7

# Programmes use a handful of time boxes ("P2W", "P100D"), each parsed once.
_timebox: Final = functools.lru_cache(maxsize=256)(parse_timebox)
_duration: Final = functools.lru_cache(maxsize=256)(parse_duration)
_moment: Final = functools.lru_cache(maxsize=4096)(parse_datetime)


def derive(facts: Facts, voices: Grouped) -> None:
    """Work out what ``facts`` show; ``voices`` are the people heard on each hypothesis."""
    _Derivation(facts).run(voices)


class _Derivation:
    """The findings of one set of facts, with what working them out shares."""

    def __init__(self, facts: Facts) -> None:
        self.experiments = facts.experiments
        self.hypotheses = facts.hypotheses
        self.view = facts.view
        self.at = facts.at
        self._limits: dict[tuple[pendulum.Duration, int], str] = {}
        self._box_ends: dict[str, BoxOverrun | None] = {}

    def run(self, voices: Grouped) -> None:
        """What each experiment and hypothesis shows on its own, worked out once.

        ``voices`` are the people heard in the learnings on each hypothesis (a person
        heard twice, twice).
        """
        # Each rule looks only at what it can apply to, found by a pass over one column.
        e, h = self.experiments, self.hypotheses
        running = ExperimentStatus.RUNNING
        for place, status in enumerate(e.status):
            if status is running and e.time_box[place]:
                self._derive_overdue(place)
        heard = voices.start
        for hypothesis, place in enumerate(h.experiment):
            if heard[hypothesis + 1] != heard[hypothesis]:
                self._derive_voices(place, hypothesis, set(voices[hypothesis]))
        allowance = self.view.untested_after
        zones = _StartZones(self)
        supported, untested = HypothesisStatus.SUPPORTED, HypothesisStatus.UNTESTED
        for hypothesis, verdict in enumerate(h.status):
            if verdict is supported:
                self._derive_candidate(h.experiment[hypothesis], hypothesis)
            elif verdict is untested and self._might_be_untested(
                h.experiment[hypothesis], allowance
            ):
                zones.wanted.append((h.experiment[hypothesis], hypothesis))
        for place, hypothesis, started in zones.resolve():
            deadline = rules.untested_deadline(
                e.status[place], started, h.status[hypothesis], allowance, self.at
            )
            if deadline is not None:
                h.untested[hypothesis] = (started, days_between(deadline, self.at))
        _Criteria(self).apply()

    def _might_pass(self, start_key: str, duration: pendulum.Duration, *, zoned: bool) -> bool:
        """Whether ``duration`` after the UTC instant ``start_key`` may lie before the moment.

        Most never do, so this answers by comparing text with one limit per duration,
        loose enough for a zone's calendar when the start has a zone (``zoned``); what
        it lets through is decided exactly.
        """
        if duration.years or duration.months:
            slack = _SLACK_MONTH_DAYS
        else:
            slack = _SLACK_DAYS if zoned else 0
        limit = self._limits.get((duration, slack))
        if limit is None:
            limit = self._limits[duration, slack] = self._limit(duration, slack)
        return start_key < limit

    def _limit(self, duration: pendulum.Duration, slack: int) -> str:
        """The UTC text that starts ``duration`` (less ``slack`` days) past sort before."""
        try:
            moment = self.at.in_tz(UTC) - duration
        except (OverflowError, ValueError):  # before the year 1: nothing has run so long
            return ""
        try:
            return utc_key(moment + pendulum.duration(days=slack))
        except (OverflowError, ValueError):  # after the year 9999: work it out exactly
            return "\uffff"

    def _derive_overdue(self, place: int) -> None:
        """Whether the running experiment at ``place`` is past its time box."""
        e = self.experiments
        text = e.time_box[place]
        if not text:
            return
        # "start/duration"; the start's zone ("...Z[Europe/Oslo]") may hold a slash too.
        start_text, fixed, duration_text = text.rpartition("/")
        if fixed and duration_text.startswith("P"):
            # A box with its own start ends where it ends whoever runs it: worked out once
            # for all the experiments that share it.
            if text not in self._box_ends:
                self._box_ends[text] = self._anchored_overdue(start_text, duration_text)
            e.overdue[place] = self._box_ends[text]
            return
        box_start: pendulum.DateTime | None
        started_key = e.started[place]
        if fixed:  # not in the stored form: read in full
            box = parse_timebox(text)
            box_start, duration = box.start, box.duration
        else:
            duration = _timebox(text).duration
            if started_key is None or not self._might_pass(started_key, duration, zoned=True):
                return
            box_start = None
        started = None if started_key is None else _moment(started_key)
        e.overdue[place] = self._overdue(rules.time_box_start(box_start, started), duration)

    def _anchored_overdue(self, start_text: str, duration_text: str) -> BoxOverrun | None:
        """:meth:`_overdue` for a box with its own start, which is read only if the box
        may be over."""
        duration = _duration(duration_text)
        zoned = len(start_text) > UTC_WIDTH
        if not self._might_pass(start_text[:UTC_WIDTH], duration, zoned=zoned):
            return None
        return self._overdue(_moment(start_text), duration)

    def _overdue(
        self, start: pendulum.DateTime | None, duration: pendulum.Duration
    ) -> BoxOverrun | None:
        """Where a box from ``start`` ends, the days a running experiment in it is overdue
        at the moment, and the box's last day; None unless it is overdue."""
        end = rules.time_box_end(start, duration, None)
        days = rules.overdue_days(ExperimentStatus.RUNNING, end, self.at)
        if start is None or end is None or days is None:
            return None
        return end, days, rules.days_covered(start, end)[1]

    def _might_be_untested(self, place: int, allowance: pendulum.Duration) -> bool:
        """Whether an untested hypothesis of the experiment at ``place`` may be overdue."""
        e = self.experiments
        started = e.started[place]
        return (
            started is not None
            and e.status[place] is not ExperimentStatus.ABANDONED
            and self._might_pass(started, allowance, zoned=True)
        )

    def _derive_voices(self, place: int, hypothesis: int, resting_on: set[int]) -> None:
        # The stances those people took part in this experiment with (if they did).
        codes = self.experiments.participations[place]
        stances = {stance_of(code) for code in codes if code >> PERSON_SHIFT in resting_on}
        if len(stances) == 1:
            (only,) = stances
            self.hypotheses.one_sided[hypothesis] = STANCES[only]
            self.hypotheses.voices[hypothesis] = len(resting_on)

    def _derive_candidate(self, place: int, hypothesis: int) -> None:
        e, h = self.experiments, self.hypotheses
        if rules.is_candidate(
            h.status[hypothesis], h.evidence[hypothesis], e.status[place], e.decision[place]
        ):
            h.candidate[hypothesis] = True


class _StartZones:
    """When experiments started, in the zone they started in, for the few that need it.

    The facts keep only the UTC instant; a duration from the start counts on the
    calendar of its zone, which the time box holds when it was anchored at the start,
    and the record otherwise.
    """

    def __init__(self, facts: _Derivation) -> None:
        self.facts = facts
        self.wanted: list[tuple[int, int]] = []  # experiment and hypothesis places

    def resolve(self) -> Iterator[tuple[int, int, pendulum.DateTime]]:
        known: dict[int, pendulum.DateTime] = {}
        missing: set[str] = set()
        e = self.facts.experiments
        for place, _ in self.wanted:
            started = self._from_box(place)
            if started is None:
                missing.add(e.ids[place])
            else:
                known[place] = started
        store = self.facts.view.store
        for group in chunks(sorted(missing)):
            for record in store.query(Experiment, id=group, include_deleted=True):
                if record.started_at is not None:
                    found = e.place(record.id)
                    if found is not None:
                        known[found] = record.started_at
        for place, hypothesis in self.wanted:
            started = known.get(place)
            if started is not None:
                yield place, hypothesis, started

    def _from_box(self, place: int) -> pendulum.DateTime | None:
        e = self.facts.experiments
        text, started = e.time_box[place], e.started[place]
        if not text or started is None or text[:UTC_WIDTH] != started[:UTC_WIDTH]:
            return None
        start_text, fixed, _ = text.rpartition("/")
        return _moment(start_text) if fixed else None


class _Criteria:
    """Whether each candidate's success criterion is met by its latest measurement."""

    def __init__(self, facts: _Derivation) -> None:
        self.facts = facts
        h = facts.hypotheses
        self.candidates = {
            h.ids[place]: place
            for place in itertools.compress(itertools.count(), h.candidate.codes)
        }

    def apply(self) -> None:
        if not self.candidates:
            return
        view = self.facts.view
        criteria: dict[str, tuple[str, Criterion]] = {}
        with_criterion = F.criterion != None  # noqa: E711 - set, in the store's own terms
        for group in chunks(sorted(self.candidates)):
            for data in view.store.select_data(Hypothesis, with_criterion & F.id.in_(group)):
                raw = data.get("criterion")
                if raw:
                    criteria[data["id"]] = (data["experiment"], Criterion(**raw))
        if not criteria:
            return
        values = view.latest_values([experiment for experiment, _ in criteria.values()])
        found = self.facts.hypotheses.criteria
        for hypothesis_id, (experiment_id, criterion) in criteria.items():
            value = values.get((experiment_id, rules.metric_key(criterion.metric)))
            found[self.candidates[hypothesis_id]] = (
                str(criterion),
                value,
                rules.criterion_met(criterion, value),
            )
