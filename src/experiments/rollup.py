"""Many small experiments, one strategy: what was tried, with whom, what was learned.

:func:`rollup` reads a store and answers, for one objective (with its sub-objectives) or
for the whole strategy, as of a given time:

- experiments by status, hypotheses by status, learnings, decisions by outcome;
- key-result progress from measurements, and objective progress as the weighted mean of
  its key results and sub-objectives (those with no data left out);
- who was let into the engine room: the share of external participants, of critical
  voices and of frontline staff, the departments crossed, how deep the involvement
  went, and hypotheses whose evidence rests on voices of one stance only;
- "start small" health: time-boxed experiments, and those running past their end;
- "follow-up" health: experiments concluded without a learning or a decision,
  objectives without experiments, hypotheses left untested too long;
- candidates to magnify ("find and magnify"): supported hypotheses ranked by evidence
  strength, breadth of involvement (critical voices included) and objectives served;
- excuses for not letting a group in, by reason.

The result is a tree of typed, frozen objects.  "As of" applies to dated facts:
measurements count by ``measured_at``, learnings by ``observed_at``, decisions by
``decided_at``, and an experiment's status is the one its lifecycle times give at that
moment.  The figures come from the store's aggregation, pushed into its engine where
the backend can, streamed otherwise; both give the same result.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import sys
from array import array
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import attrs
import pendulum

from experiments._collector import paused
from experiments.errors import NotFoundError, ValidationError
from experiments.model import (
    Evidence,
    Excuse,
    ExcuseReason,
    ExperimentStatus,
    HypothesisStatus,
    Involvement,
    KeyResult,
    Objective,
    Outcome,
    Record,
    Role,
    Stance,
    Verdict,
)
from experiments.model._time import (
    UTC,
    DurationLike,
    argument,
    days_between,
    parse_datetime,
    parse_duration,
    parse_timebox,
    utc_key,
)
from experiments.model.experiment import awaits_decision, decision_of
from experiments.model.objective import cycle_message, parent_cycles
from experiments.query import Count, F, Latest, Max
from experiments.refs import Ref

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = [
    "Candidate",
    "InvolvementProfile",
    "KeyResultProgress",
    "ObjectiveRollup",
    "OneSidedEvidence",
    "Overdue",
    "Ref",
    "Rollup",
    "Summary",
    "Untested",
    "rollup",
]

#: How long a started experiment's hypothesis may stay untested before it is flagged.
DEFAULT_UNTESTED_AFTER: Final = "P30D"

_STANCES: Final = tuple(Stance)
_DEPTHS: Final = tuple(Involvement)
_STANCE_INDEX: Final = {s.value: i for i, s in enumerate(_STANCES)}
_CRITICAL: Final = _STANCES.index(Stance.CRITICAL)
_EXTERNAL: Final = 1
_FRONTLINE: Final = 2
_PSEUDONYMOUS: Final = 4
_DEPTH_INDEX: Final = {d.value: i for i, d in enumerate(_DEPTHS)}
_STATUS_OF_VERDICT: Final = {v.value: v.status for v in Verdict}
_EVIDENCE: Final = {e.value: e for e in Evidence}
_OUTCOME: Final = {o.value: o for o in Outcome}
_STATUS_ORDER: Final = tuple(ExperimentStatus)


@attrs.frozen
class KeyResultProgress:
    """How far a key result has come: its latest measurement against baseline and target."""

    key_result: KeyResult
    latest: float | None
    measured_at: pendulum.DateTime | None
    measurements: int

    @property
    def progress(self) -> float | None:
        """(latest - baseline) / (target - baseline), clamped to [0, 1]; None without data."""
        return None if self.latest is None else self.key_result.progress(self.latest)


@attrs.frozen
class InvolvementProfile:
    """Who was let into the engine room, counted over distinct participants."""

    participants: int = 0
    external: int = 0
    critical: int = 0
    frontline: int = 0
    pseudonymous: int = 0
    departments: tuple[str, ...] = ()
    depth: Mapping[Involvement, int] = attrs.field(factory=dict)

    @staticmethod
    def _share(count: int, total: int) -> float | None:
        return None if total == 0 else count / total

    @property
    def share_external(self) -> float | None:
        """Share of participants from outside the organisation."""
        return self._share(self.external, self.participants)

    @property
    def share_critical(self) -> float | None:
        """Share of participants who were a critical voice in at least one experiment."""
        return self._share(self.critical, self.participants)

    @property
    def share_frontline(self) -> float | None:
        """Share of participants who are frontline employees."""
        return self._share(self.frontline, self.participants)

    @property
    def departments_crossed(self) -> int:
        """How many departments or units the participants came from."""
        return len(self.departments)


@attrs.frozen
class OneSidedEvidence:
    """A hypothesis whose learnings rest only on voices of one stance."""

    hypothesis: Ref
    experiment: Ref
    stance: Stance
    voices: int


@attrs.frozen
class Overdue:
    """A running experiment past the end of its time box."""

    experiment: Ref
    ended_at: pendulum.DateTime
    days: int


@attrs.frozen
class Untested:
    """A hypothesis of a started experiment with no learning, for longer than allowed."""

    hypothesis: Ref
    experiment: Ref
    since: pendulum.DateTime
    days_overdue: int


@attrs.frozen
class Candidate:
    """A supported hypothesis that may be ready to magnify."""

    hypothesis: Ref
    experiment: Ref
    evidence: Evidence
    participants: int
    critical_voices: int
    objectives: tuple[Ref, ...]

    def rank_key(self) -> tuple[int, int, int, int]:
        """Stronger evidence first, then critical voices heard, breadth, objectives served."""
        return (
            self.evidence.rank,
            1 if self.critical_voices else 0,
            self.participants,
            len(self.objectives),
        )


@attrs.frozen
class Summary:
    """The figures of a set of experiments: one objective's subtree, or the whole strategy."""

    experiments: int
    by_status: Mapping[ExperimentStatus, int]
    hypotheses: Mapping[HypothesisStatus, int]
    learnings: int
    decisions: Mapping[Outcome, int]
    involvement: InvolvementProfile
    one_sided: tuple[OneSidedEvidence, ...]
    time_boxed: int
    overdue: tuple[Overdue, ...]
    concluded_without_learning: tuple[Ref, ...]
    concluded_without_decision: tuple[Ref, ...]
    untested: tuple[Untested, ...]
    candidates: tuple[Candidate, ...]
    excuses: tuple[Excuse, ...]

    @property
    def share_time_boxed(self) -> float | None:
        """Share of the experiments that have a time box ("start small")."""
        return None if self.experiments == 0 else self.time_boxed / self.experiments

    @property
    def excuses_by_reason(self) -> Mapping[ExcuseReason, int]:
        """How many excuses of each reason were given."""
        counts = Counter(excuse.reason for excuse in self.excuses)
        return {reason: counts[reason] for reason in ExcuseReason if counts[reason]}


@attrs.frozen
class ObjectiveRollup:
    """One objective with its key results, its sub-objectives and the figures of its subtree."""

    objective: Objective
    key_results: tuple[KeyResultProgress, ...]
    children: tuple[ObjectiveRollup, ...]
    summary: Summary
    direct_experiments: int

    @property
    def progress(self) -> float | None:
        """Weighted mean of key-result and sub-objective progress; None if none has data."""
        parts = [(kr.progress, kr.key_result.weight) for kr in self.key_results]
        parts += [(child.progress, child.objective.weight) for child in self.children]
        known = [(value, weight) for value, weight in parts if value is not None]
        if not known:
            return None
        return math.fsum(v * w for v, w in known) / math.fsum(w for _, w in known)

    def walk(self) -> Iterator[ObjectiveRollup]:
        """This objective and every sub-objective below it, depth first."""
        yield self
        for child in self.children:
            yield from child.walk()


@attrs.frozen
class Rollup:
    """The roll-up of one objective or of the whole strategy, as of ``at``."""

    at: pendulum.DateTime
    objectives: tuple[ObjectiveRollup, ...]
    total: Summary
    objectives_without_experiments: tuple[Ref, ...]
    unlinked_experiments: tuple[Ref, ...]
    scope: Ref | None = None

    def find(self, objective: Objective | str) -> ObjectiveRollup:
        """The roll-up of one objective in the tree, by record or id."""
        wanted = objective.id if isinstance(objective, Record) else objective
        for top in self.objectives:
            for node in top.walk():
                if node.objective.id == wanted:
                    return node
        raise NotFoundError(
            f"objective {wanted!r} is not in this roll-up; roll up the whole strategy, or "
            "the objective it sits under"
        )


# --- gathering facts from the store -------------------------------------------------


@attrs.define
class _Experiment:
    """One experiment's facts, and what follows from them alone (derived once).

    A hundred thousand of these are alive at once, so they hold plain values: tuples
    that are shared while empty, participations packed into an array of machine ints,
    and a ``Ref`` made the first time one is shown.
    """

    id: str
    title: str
    status: ExperimentStatus
    time_box: str | None
    started_key: str | None
    objectives: tuple[str, ...] = ()
    learnings: int = 0
    decision: Outcome | None = None  # only while decided (decision_of)
    participations: array[int] = attrs.field(factory=lambda: array("q"))
    hypotheses: tuple[_Hypothesis, ...] = ()
    overdue: Overdue | None = None
    _ref: Ref | None = attrs.field(default=None, init=False)

    @property
    def ref(self) -> Ref:
        if self._ref is None:
            self._ref = Ref(self.id, self.title)
        return self._ref

    @property
    def critics(self) -> int:
        # A person takes part in an experiment once, so every code is a different person.
        return sum(1 for code in self.participations if (code >> 2) & 3 == _CRITICAL)


@attrs.define
class _Hypothesis:
    """One hypothesis's facts, and the findings about it (derived once)."""

    id: str
    statement: str
    status: HypothesisStatus = HypothesisStatus.UNTESTED
    voices: tuple[int, ...] = ()  # the people (by index) whose voice the evidence rests on
    evidence: Evidence | None = None
    one_sided: OneSidedEvidence | None = None
    untested: Untested | None = None
    candidate: Candidate | None = None
    _ref: Ref | None = attrs.field(default=None, init=False)

    @property
    def ref(self) -> Ref:
        if self._ref is None:
            self._ref = Ref(self.id, self.statement)
        return self._ref


_LIFECYCLE: Final = ("started_at", "concluded_at", "decided_at", "abandoned_at")


# A participation is packed into one int, person * 16 + stance * 4 + depth: 28 bytes each
# instead of a tuple's 64, which matters with hundreds of thousands of them.


_REACHED: Final = (
    ("abandoned_at", ExperimentStatus.ABANDONED),
    ("decided_at", ExperimentStatus.DECIDED),
    ("concluded_at", ExperimentStatus.CONCLUDED),
    ("started_at", ExperimentStatus.RUNNING),
)


def _status_at(row: Mapping[str, Any], at_key: str) -> ExperimentStatus:
    """The status an experiment's lifecycle times give it at the instant ``at_key``."""
    for name, status in _REACHED:
        value = row.get(name)
        if value is not None and value <= at_key:
            return status
    return ExperimentStatus.PLANNED


# Programmes use a handful of time boxes ("P2W", "P100D"), each parsed once.
_timebox: Final = functools.lru_cache(maxsize=256)(parse_timebox)

_duration: Final = functools.lru_cache(maxsize=256)(parse_duration)
_UTC_WIDTH: Final = len("2026-01-01T00:00:00.000000Z")


def _utc_plus(start: pendulum.DateTime, duration: pendulum.Duration) -> pendulum.DateTime:
    """``start + duration`` for a UTC ``start``, twenty times faster for whole weeks and days.

    In UTC a day is always 24 hours, so the stdlib's exact addition gives what
    pendulum's calendar addition does; only months and years need the calendar.
    """
    if duration.years or duration.months:
        return start + duration
    return dt.datetime.__add__(start, duration)


class _Facts:
    """Everything the roll-up needs, read once from the store in compact form."""

    def __init__(self, store: Store, at: pendulum.DateTime, *, pushdown: bool) -> None:
        self.at = at
        self._at_key = utc_key(at)
        self._limits: dict[tuple[pendulum.Duration, int], str] = {}
        self._store = store
        self._pushdown = pushdown
        self.objectives = {o.id: o for o in store.query(Objective)}
        self.key_results: dict[str, list[KeyResult]] = defaultdict(list)
        for kr in store.query(KeyResult):
            if kr.objective in self.objectives:
                self.key_results[kr.objective].append(kr)
        self.excuses = list(store.query(Excuse))
        self.experiments: dict[str, _Experiment] = {}
        # Per participant, by index: _EXTERNAL | _FRONTLINE | _PSEUDONYMOUS bits (small
        # ints, which Python shares) and the department.
        self.people: list[int] = []
        self.departments: list[str | None] = []
        self.measurements: dict[str, tuple[float, pendulum.DateTime, int]] = {}
        # Read in this order, then dropped: only the packed facts are kept.
        index = self._read_people()
        self._read_experiments()
        self._read_outcomes()
        self._read_hypotheses(index)
        self._read_participations(index)
        self._read_measurements()

    def derive(self, untested_after: pendulum.Duration) -> None:
        """What each experiment and hypothesis shows on its own, worked out once."""
        for experiment in self.experiments.values():
            self._derive_experiment(experiment)
            for hypothesis in experiment.hypotheses:
                self._derive_hypothesis(experiment, hypothesis, untested_after)

    def _past(self, start_key: str, duration: pendulum.Duration, *, slack: int = 0) -> bool:
        """Whether the UTC instant ``start_key`` plus ``duration`` lies before the moment.

        Most never do, so this answers by comparing text with one limit per duration,
        and does date arithmetic only for months and years, which vary in length.  With
        ``slack`` days it answers whether it might (for days counted on a wall clock).
        """
        if duration.years or duration.months:
            if slack > 0:
                return True
            try:
                return parse_datetime(start_key) + duration < self.at
            except (OverflowError, ValueError):  # ends after the year 9999: not yet
                return False
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

    def _derive_experiment(self, experiment: _Experiment) -> None:
        text = experiment.time_box
        if experiment.status is not ExperimentStatus.RUNNING or not text:
            return
        # "start/duration"; the start's zone ("...Z[Europe/Oslo]") may hold a slash too.
        start, fixed, duration = text.rpartition("/")
        if fixed and duration.startswith("P") and start[_UTC_WIDTH - 1 : _UTC_WIDTH] == "Z":
            # Stored as UTC text, then the zone if it is not UTC; days pass on that
            # zone's clock, which a change to or from summer time moves by an hour.
            length = _duration(duration)
            zoned = len(start) > _UTC_WIDTH
            if not self._past(start[:_UTC_WIDTH], length, slack=1 if zoned else 0):
                return
            if zoned:
                end = parse_datetime(start) + length
            else:
                end = _utc_plus(parse_datetime(start), length)
        elif fixed:  # not in the stored form: read in full
            box = parse_timebox(text)
            assert box.end is not None
            end = box.end
        elif experiment.started_key is not None:
            length = _timebox(text).duration
            if not self._past(experiment.started_key, length):
                return
            end = _utc_plus(parse_datetime(experiment.started_key), length)
        else:
            return
        if end < self.at:
            experiment.overdue = Overdue(experiment.ref, end, days_between(end, self.at))

    def _derive_hypothesis(
        self, experiment: _Experiment, hypothesis: _Hypothesis, untested_after: pendulum.Duration
    ) -> None:
        resting_on = hypothesis.voices
        if resting_on:
            # The stances those people took part in this experiment with (if they did).
            stances = {
                (code >> 2) & 3 for code in experiment.participations if code >> 4 in resting_on
            }
            if len(stances) == 1:
                (only,) = stances
                hypothesis.one_sided = OneSidedEvidence(
                    hypothesis.ref, experiment.ref, _STANCES[only], len(resting_on)
                )
        if (
            hypothesis.status is HypothesisStatus.UNTESTED
            and experiment.started_key is not None
            and experiment.status is not ExperimentStatus.ABANDONED
            and self._past(experiment.started_key, untested_after)
        ):
            started = parse_datetime(experiment.started_key)
            deadline = _utc_plus(started, untested_after)
            hypothesis.untested = Untested(
                hypothesis.ref, experiment.ref, started, days_between(deadline, self.at)
            )
        if hypothesis.status is HypothesisStatus.SUPPORTED and hypothesis.evidence is not None:
            served = tuple(
                Ref(o, self.objectives[o].title)
                for o in sorted(set(experiment.objectives))
                if o in self.objectives
            )
            hypothesis.candidate = Candidate(
                hypothesis.ref,
                experiment.ref,
                hypothesis.evidence,
                len(experiment.participations),
                experiment.critics,
                served,
            )

    def _rows(self, kind: str, group_by: list[str], **options: Any) -> Iterator[dict[str, Any]]:
        options.setdefault("measures", {})
        return self._store.aggregate(kind, group_by=group_by, pushdown=self._pushdown, **options)

    def _read_experiments(self) -> None:
        fields = ["id", "title", "objectives", "time_box", *_LIFECYCLE]
        for row in self._rows("experiment", fields):
            known = self.experiments.get(row["id"])
            if known is None:
                known = self.experiments[row["id"]] = self._experiment(row)
            if row["objectives"] is not None:
                known.objectives += (sys.intern(row["objectives"]),)

    def _experiment(self, row: Mapping[str, Any]) -> _Experiment:
        started = row["started_at"]
        return _Experiment(
            row["id"],
            row["title"],
            _status_at(row, self._at_key),
            None if row["time_box"] is None else sys.intern(row["time_box"]),
            started if started and started <= self._at_key else None,
        )

    def _read_outcomes(self) -> None:
        """Learnings and the latest decision of each experiment, as of the moment."""
        for row in self._rows(
            "learning",
            ["experiment"],
            measures={"n": Count()},
            where=F.observed_at <= self._at_key,
        ):
            experiment = self.experiments.get(row["experiment"])
            if experiment is not None:
                experiment.learnings = row["n"]
        for row in self._rows(
            "decision",
            ["experiment"],
            measures={"outcome": Latest("outcome", by="decided_at")},
            where=F.decided_at <= self._at_key,
        ):
            experiment = self.experiments.get(row["experiment"])
            if experiment is not None and row["outcome"] is not None:
                experiment.decision = decision_of(experiment.status, _OUTCOME[row["outcome"]])

    def _read_hypotheses(self, index: Mapping[str, int]) -> None:
        """Hypotheses, their status from the latest learning, and whose voices they rest on."""
        hypotheses: dict[str, _Hypothesis] = {}
        for row in self._rows("hypothesis", ["id", "experiment", "statement"]):
            experiment = self.experiments.get(row["experiment"])
            if experiment is not None:
                made = hypotheses[row["id"]] = _Hypothesis(row["id"], row["statement"])
                experiment.hypotheses += (made,)
        bearing = (F.observed_at <= self._at_key) & (F.hypothesis != None)  # noqa: E711 - null
        for row in self._rows(
            "learning",
            ["hypothesis"],
            measures={
                "verdict": Latest("verdict", by="observed_at"),
                "evidence": Latest("evidence", by="observed_at"),
            },
            where=bearing,
        ):
            hypothesis = hypotheses.get(row["hypothesis"])
            if hypothesis is not None and row["verdict"] is not None:
                hypothesis.status = _STATUS_OF_VERDICT[row["verdict"]]
                hypothesis.evidence = _EVIDENCE[row["evidence"]]
        # One row per hypothesis and person, so each person comes once.
        for row in self._rows("learning", ["hypothesis", "participants"], where=bearing):
            hypothesis = hypotheses.get(row["hypothesis"])
            person = index.get(row["participants"])
            if hypothesis is not None and person is not None:
                hypothesis.voices += (person,)

    def _read_people(self) -> dict[str, int]:
        """Participants: their attributes, and the index each is known by from here on."""
        index: dict[str, int] = {}
        for row in self._rows(
            "participant", ["id", "role", "external", "pseudonymous", "department"]
        ):
            index[row["id"]] = len(self.people)
            department = row["department"]
            self.people.append(
                (_EXTERNAL if row["external"] else 0)
                | (_FRONTLINE if row["role"] == Role.FRONTLINE_EMPLOYEE.value else 0)
                | (_PSEUDONYMOUS if row["pseudonymous"] else 0)
            )
            self.departments.append(None if department is None else sys.intern(department))
        return index

    def _read_participations(self, index: Mapping[str, int]) -> None:
        """Every participation, packed into one int on its experiment."""
        experiments = self.experiments
        stances, depths = _STANCE_INDEX, _DEPTH_INDEX
        for row in self._rows(
            "participation", ["id", "experiment", "participant", "stance", "involvement"]
        ):
            experiment = experiments.get(row["experiment"])
            person = index.get(row["participant"])
            if experiment is not None and person is not None:
                code = person * 16 + stances[row["stance"]] * 4 + depths[row["involvement"]]
                experiment.participations.append(code)

    def _read_measurements(self) -> None:
        """The latest value of each key result, as of the moment (late data by its time)."""
        for row in self._rows(
            "measurement",
            ["key_result"],
            measures={
                "value": Latest("value", by="measured_at"),
                "last": Max("measured_at"),
                "n": Count(),
            },
            where=(F.measured_at <= self._at_key) & (F.key_result != None),  # noqa: E711
        ):
            if row["key_result"] is not None and row["value"] is not None:
                self.measurements[row["key_result"]] = (
                    float(row["value"]),
                    parse_datetime(row["last"]),
                    int(row["n"]),
                )

    def children_of(self) -> dict[str | None, list[Objective]]:
        children: dict[str | None, list[Objective]] = defaultdict(list)
        for objective in sorted(self.objectives.values(), key=lambda o: (o.title, o.id)):
            parent = objective.parent if objective.parent in self.objectives else None
            children[parent].append(objective)
        return children


# --- summarising ------------------------------------------------------------------------


def _summary(facts: _Facts, experiment_ids: Collection[str], excuses: Sequence[Excuse]) -> Summary:
    experiments = [facts.experiments[i] for i in sorted(experiment_ids)]
    by_status = Counter(e.status for e in experiments)
    hypotheses = [h for e in experiments for h in e.hypotheses]
    by_hypothesis = Counter(h.status for h in hypotheses)
    decisions = Counter(e.decision for e in experiments if e.decision is not None)

    profile = _involvement(facts, experiments)
    overdue = sorted(
        (e.overdue for e in experiments if e.overdue is not None),
        key=lambda o: (o.ended_at, o.experiment.id),
    )
    concluded = [
        e for e in experiments if e.status in (ExperimentStatus.CONCLUDED, ExperimentStatus.DECIDED)
    ]
    untested = sorted(
        (h.untested for h in hypotheses if h.untested is not None),
        key=lambda u: (-u.days_overdue, u.hypothesis.id),
    )
    candidates = sorted(
        (h.candidate for h in hypotheses if h.candidate is not None),
        key=lambda c: (tuple(-v for v in c.rank_key()), c.hypothesis.id),
    )
    return Summary(
        experiments=len(experiments),
        by_status={s: by_status[s] for s in _STATUS_ORDER},
        hypotheses={s: by_hypothesis[s] for s in HypothesisStatus},
        learnings=sum(e.learnings for e in experiments),
        decisions={o: decisions[o] for o in Outcome},
        involvement=profile,
        one_sided=tuple(h.one_sided for h in hypotheses if h.one_sided is not None),
        time_boxed=sum(1 for e in experiments if e.time_box),
        overdue=tuple(overdue),
        concluded_without_learning=tuple(e.ref for e in concluded if e.learnings == 0),
        concluded_without_decision=tuple(e.ref for e in experiments if awaits_decision(e.status)),
        untested=tuple(untested),
        candidates=tuple(candidates),
        excuses=tuple(sorted(excuses, key=lambda x: (x.reason.value, x.group, x.id))),
    )


# What one participation adds to its person's mark: a bit for its depth, 16 if critical.
_MARK: Final = tuple(
    (1 << (code & 3)) | (16 if code >> 2 == _CRITICAL else 0) for code in range(16)
)


def _involvement(facts: _Facts, experiments: Sequence[_Experiment]) -> InvolvementProfile:
    """Who took part in ``experiments``: each person once, at the deepest they went."""
    # Each person's mark ORs together what their participations add.  A few experiments'
    # people are marked in a dict; a whole strategy's in one byte per person, which
    # takes a hundredth of the memory of a dict of them all.
    people, departments = facts.people, facts.departments
    codes = sum(len(e.participations) for e in experiments)
    marks: bytearray | defaultdict[int, int]
    marks = bytearray(len(people)) if codes * 4 >= len(people) else defaultdict(int)
    for experiment in experiments:
        for code in experiment.participations:
            marks[code >> 4] |= _MARK[code & 15]
    marked = (
        ((p, m) for p, m in enumerate(marks) if m)
        if isinstance(marks, bytearray)
        else marks.items()
    )
    flags: Counter[int] = Counter()
    depths = [0] * len(_DEPTHS)
    critical = 0
    crossed: set[str] = set()
    for person, mark in marked:
        flags[people[person]] += 1
        depths[(mark & 15).bit_length() - 1] += 1
        critical += mark >> 4
        if (department := departments[person]) is not None:
            crossed.add(department)
    return InvolvementProfile(
        participants=sum(depths),
        external=sum(n for bits, n in flags.items() if bits & _EXTERNAL),
        critical=critical,
        frontline=sum(n for bits, n in flags.items() if bits & _FRONTLINE),
        pseudonymous=sum(n for bits, n in flags.items() if bits & _PSEUDONYMOUS),
        departments=tuple(sorted(crossed)),
        depth=dict(zip(_DEPTHS, depths, strict=True)),
    )


def _key_results(facts: _Facts, objective: Objective) -> tuple[KeyResultProgress, ...]:
    progress = []
    for key_result in sorted(
        facts.key_results.get(objective.id, ()),
        key=lambda kr: (kr.metric, kr.id),
    ):
        latest = facts.measurements.get(key_result.id)
        progress.append(
            KeyResultProgress(
                key_result,
                None if latest is None else latest[0],
                None if latest is None else latest[1],
                0 if latest is None else latest[2],
            )
        )
    return tuple(progress)


def rollup(
    store: Store,
    objective: Objective | str | None = None,
    *,
    at: pendulum.DateTime | str | None = None,
    untested_after: DurationLike = DEFAULT_UNTESTED_AFTER,
    pushdown: bool = True,
) -> Rollup:
    """Roll experiments up into one objective (with its sub-objectives) or the whole strategy.

    Args:
        store: where the programme is recorded.
        objective: an objective (record, id or slug) to roll up, or None for every
            objective and every experiment in the store.
        at: the moment to roll up as of (default now).
        untested_after: how long a started experiment's hypothesis may go without a
            learning before it is listed as left untested (default 30 days).
        pushdown: let the store compute aggregates in its engine where it can; False
            streams every record through Python instead (the same result, slower).

    Raises:
        NotFoundError: the objective is not in the store.
        ValidationError: objectives in the roll-up are their own ancestors through their
            ``parent`` links (a loop); the message names them.
    """
    moment = pendulum.now("UTC") if at is None else argument(at, "at", parse_datetime)
    allowance = argument(untested_after, "untested_after", parse_duration)
    scope_objective: Objective | None = None
    if objective is not None:
        scope_objective = _find_objective(store, objective)
    with paused():
        return _rollup(store, scope_objective, moment, allowance, pushdown=pushdown)


def _rollup(
    store: Store,
    scope_objective: Objective | None,
    moment: pendulum.DateTime,
    allowance: pendulum.Duration,
    *,
    pushdown: bool,
) -> Rollup:
    facts = _Facts(store, moment, pushdown=pushdown)
    _refuse_cycles(facts, scope_objective)
    facts.derive(allowance)
    children = facts.children_of()
    linked: dict[str, list[str]] = defaultdict(list)
    for experiment in facts.experiments.values():
        for objective_id in set(experiment.objectives):
            linked[objective_id].append(experiment.id)
    excuses_by_objective: dict[str, list[Excuse]] = defaultdict(list)
    excuses_by_experiment: dict[str, list[Excuse]] = defaultdict(list)
    for excuse in facts.excuses:
        if excuse.objective is not None:
            excuses_by_objective[excuse.objective].append(excuse)
        elif excuse.experiment is not None:
            excuses_by_experiment[excuse.experiment].append(excuse)

    empty: list[Ref] = []

    def build(node: Objective) -> tuple[ObjectiveRollup, set[str], list[Excuse]]:
        built = [build(child) for child in children.get(node.id, ())]
        experiment_ids = set(linked.get(node.id, ()))
        excuses = list(excuses_by_objective.get(node.id, ()))
        for _, ids, child_excuses in built:
            experiment_ids |= ids
            excuses += child_excuses
        excuses += [x for e in sorted(experiment_ids) for x in excuses_by_experiment.get(e, ())]
        unique = list({x.id: x for x in excuses}.values())
        if not experiment_ids:
            empty.append(Ref(node.id, node.title))
        summary = _summary(facts, experiment_ids, unique)
        result = ObjectiveRollup(
            objective=node,
            key_results=_key_results(facts, node),
            children=tuple(b[0] for b in built),
            summary=summary,
            direct_experiments=len(set(linked.get(node.id, ()))),
        )
        return result, experiment_ids, unique

    if scope_objective is not None:
        tree, _, _ = build(scope_objective)
        return Rollup(
            at=moment,
            objectives=(tree,),
            total=tree.summary,
            objectives_without_experiments=tuple(sorted(empty, key=lambda r: r.id)),
            unlinked_experiments=(),
            scope=Ref(scope_objective.id, scope_objective.title),
        )
    # Only the trees are kept: each root's set of experiment ids was needed by no parent.
    roots = [build(node)[0] for node in children.get(None, ())]
    everything = facts.experiments.keys()
    known = facts.objectives.keys()
    unlinked = sorted(
        (e.ref for e in facts.experiments.values() if known.isdisjoint(e.objectives)),
        key=lambda r: (r.title, r.id),
    )
    return Rollup(
        at=moment,
        objectives=tuple(roots),
        total=_summary(facts, everything, facts.excuses),
        objectives_without_experiments=tuple(sorted(empty, key=lambda r: r.id)),
        unlinked_experiments=tuple(unlinked),
    )


def _refuse_cycles(facts: _Facts, scope: Objective | None) -> None:
    """Objectives that are their own ancestors have no place in a tree: say which, and how."""
    cycles = parent_cycles(facts.objectives.values())
    if scope is not None:
        cycles = [c for c in cycles if any(o.id == scope.id for o in c)]
    if cycles:
        raise ValidationError(
            "cannot roll up: " + "; and ".join(cycle_message(cycle) for cycle in cycles)
        )


def _find_objective(store: Store, objective: Objective | str) -> Objective:
    if isinstance(objective, Objective):
        return store.get(objective.id, Objective)

    found = store.find(objective)
    if isinstance(found, Objective):
        return found
    try:
        return store.get_by_slug(Objective, objective)
    except (NotFoundError, ValidationError):
        raise NotFoundError(
            f"no objective with id or slug {objective!r} in {store.url.redacted}"
        ) from None
