"""Every experiment's and hypothesis's facts at a view's moment, in columns.

The roll-up reads a hundred thousand experiments at once, so nothing here is an object
per experiment or per hypothesis: each fact is a column indexed by the experiment's (or
hypothesis's) place in id order (a list, a packed array, or one of
:mod:`experiments._columns`), what only a few have (a hypothesis left untested, a
criterion's verdict) sits in a dict by that place, and who took part and which
hypotheses belong to which experiment are packed into two arrays each
(:class:`Grouped`).  The findings are kept as what they are made of, and made when
they are read (:meth:`Facts.overdue` and its siblings); an :class:`ExperimentFacts`
is made only when someone asks for one experiment by id.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterator, Mapping, MutableSequence, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import attrs
import pendulum

from experiments._columns import Coded, Texts, typecode_for
from experiments._facts_derived import derive
from experiments._findings import (
    Candidate,
    FollowUp,
    OneSidedEvidence,
    Overdue,
    Untested,
    rank_key,
    scales_up,
)
from experiments._packing import (
    EXTERNAL,
    FRONTLINE,
    LOW_CODE,
    PEOPLE_IN_32_BITS,
    PERSON_SHIFT,
    PSEUDONYMOUS,
    STANCES,
    critics,
)
from experiments.model import asof as rules
from experiments.model._time import (
    parse_datetime,
    utc_key,
)
from experiments.model.experiment import Decision
from experiments.model.hypothesis import HypothesisStatus
from experiments.model.learning import Evidence, Learning, Verdict
from experiments.model.lifecycle import ExperimentStatus, Outcome
from experiments.model.next_step import NextStep
from experiments.model.participant import Role, Stance
from experiments.model.prototype import Fidelity
from experiments.query import Count, Expr, F, Latest, Max, Min
from experiments.refs import Ref
from experiments.serialization import from_data

if TYPE_CHECKING:
    from experiments.asof import AsOf

__all__ = [
    "ExperimentFacts",
    "Facts",
    "FactsById",
    "HypothesisFacts",
    "decision_ref",
]

_STATUS_OF_VERDICT: Final = {v.value: v.status for v in Verdict}
_EVIDENCE: Final = {e.value: e for e in Evidence}
_OUTCOME: Final = {o.value: o for o in Outcome}
_FIDELITY: Final = {f.value: f for f in Fidelity}
# What the coded columns hold; the first is where each place starts.
_DECISIONS: Final[tuple[Outcome | None, ...]] = (None, *Outcome)
_FLAG: Final = (False, True)
_FIRST_SHOWN: Final[tuple[Fidelity | None, ...]] = (None, *Fidelity)
_EVIDENCES: Final[tuple[Evidence | None, ...]] = (None, *Evidence)
_ONE_STANCE: Final[tuple[Stance | None, ...]] = (None, *STANCES)

#: Where an overrun time box ended, the whole days since, and the last day it covered.
BoxOverrun: TypeAlias = tuple[pendulum.DateTime, int, dt.date]


@attrs.frozen
class HypothesisFacts:
    """One hypothesis's facts at the moment, and the findings about it."""

    id: str
    statement: str
    status: HypothesisStatus
    evidence: Evidence | None
    one_sided: OneSidedEvidence | None
    untested: Untested | None
    candidate: Candidate | None
    ref: Ref = attrs.field(eq=False, repr=False)
    """How findings name it."""


@attrs.frozen
class ExperimentFacts:
    """One experiment's facts at the moment, and what follows from them alone.

    ``participations`` packs each participation into an int: the person's index in
    :attr:`~experiments.asof.AsOf.people` times 16, plus its stance times 4, plus the
    depth of its involvement (the order of :class:`~experiments.model.Stance` and
    :class:`~experiments.model.Involvement`).  ``decision`` is the decision in force
    and ``first_shown`` the fidelity of the first prototype its participants saw.
    """

    id: str
    title: str
    status: ExperimentStatus
    time_box: str | None
    started_key: str | None
    objectives: tuple[str, ...]
    learnings: int
    decision: Outcome | None
    participations: array[int]
    hypotheses: tuple[HypothesisFacts, ...]
    overdue: Overdue | None
    sprint: str | None
    scoped: bool
    first_shown: Fidelity | None
    open_steps: int
    overdue_steps: tuple[FollowUp, ...]
    ref: Ref = attrs.field(eq=False, repr=False)
    """How findings name it."""

    @property
    def critics(self) -> int:
        """How many of its participants were a critical voice in it."""
        return critics(self.participations)


class Grouped:
    """Values grouped by an index: those of ``i`` are ``values[start[i] : start[i + 1]]``.

    Two arrays instead of a list per index: a hundred thousand small lists would take
    five times the memory.
    """

    __slots__ = ("start", "values")

    def __init__(self, start: array[int], values: array[int]) -> None:
        self.start = start
        self.values = values

    @classmethod
    def of(cls, keys: Sequence[int], values: Sequence[int], size: int, typecode: str) -> Grouped:
        """``values`` grouped by ``keys`` (each below ``size``), in their order within each."""
        counts = [0] * (size + 1)
        for key in keys:
            counts[key + 1] += 1
        start = array(typecode_for(len(values)), itertools.accumulate(counts))
        placed = array(typecode, bytes(len(values) * array(typecode).itemsize))
        # Where each key's next value goes (no int object per key).
        at = array(start.typecode, start)
        for key, value in zip(keys, values, strict=True):
            placed[at[key]] = value
            at[key] += 1
        return cls(start, placed)

    def __getitem__(self, index: int) -> array[int]:
        start = self.start
        return self.values[start[index] : start[index + 1]]

    def size(self, index: int) -> int:
        """How many values ``index`` has."""
        return self.start[index + 1] - self.start[index]


_EMPTY: Final = Grouped(array("q", [0]), array("q"))


@attrs.define(eq=False)
class ExperimentColumns:
    """The experiments' facts, a column per field, by each experiment's place in id order."""

    ids: list[str] = attrs.Factory(list)
    titles: Texts = attrs.Factory(Texts)
    status: Coded[ExperimentStatus] = attrs.Factory(lambda: Coded(tuple(ExperimentStatus)))
    time_box: list[str | None] = attrs.Factory(list)
    started: list[str | None] = attrs.Factory(list)  # the UTC key, once reached
    objectives: list[tuple[str, ...]] = attrs.Factory(list)
    sprint: dict[int, str] = attrs.Factory(dict)  # by place, only those in one
    learnings: array[int] = attrs.Factory(lambda: array("i"))
    decision: Coded[Outcome | None] = attrs.Factory(lambda: Coded(_DECISIONS))  # in force
    scoped: Coded[bool] = attrs.Factory(lambda: Coded(_FLAG))
    first_shown: Coded[Fidelity | None] = attrs.Factory(lambda: Coded(_FIRST_SHOWN))
    open_steps: array[int] = attrs.Factory(lambda: array("i"))
    # Where the time box of a running experiment past it ended, the days since and its
    # last day: an Overdue without the reference, made when shown (Facts.overdue).
    overdue: list[BoxOverrun | None] = attrs.Factory(list)
    overdue_steps: dict[int, list[FollowUp]] = attrs.Factory(dict)
    participations: Grouped = _EMPTY  # codes, as ExperimentFacts.participations
    hypotheses: Grouped = _EMPTY  # hypothesis places

    def place(self, experiment_id: object) -> int | None:
        """The place of the experiment with that id, if it is one of them."""
        ids = self.ids
        at = bisect.bisect_left(ids, experiment_id) if isinstance(experiment_id, str) else 0
        return at if at < len(ids) and ids[at] == experiment_id else None


@attrs.define(eq=False)
class HypothesisColumns:
    """The hypotheses' facts, a column per field, by each hypothesis's place in id order."""

    ids: list[str] = attrs.Factory(list)
    statements: Texts = attrs.Factory(Texts)
    experiment: array[int] = attrs.Factory(lambda: array("i"))  # its experiment's place
    status: Coded[HypothesisStatus] = attrs.Factory(lambda: Coded(tuple(HypothesisStatus)))
    evidence: Coded[Evidence | None] = attrs.Factory(lambda: Coded(_EVIDENCES))
    # The findings, made when shown (Facts.one_sided, .untested, .candidate): the one
    # stance of the voices a hypothesis rests on and how many they are; when its
    # experiment started and the days its test is overdue; whether it is a candidate,
    # and its success criterion, the value measured and whether that meets it.
    one_sided: Coded[Stance | None] = attrs.Factory(lambda: Coded(_ONE_STANCE))
    voices: array[int] = attrs.Factory(lambda: array("i"))
    untested: dict[int, tuple[pendulum.DateTime, int]] = attrs.Factory(dict)
    candidate: Coded[bool] = attrs.Factory(lambda: Coded(_FLAG))
    criteria: dict[int, tuple[str, float | None, bool | None]] = attrs.Factory(dict)


def _in_id_order(
    ids: list[str], columns: Sequence[MutableSequence[Any] | Texts | Coded[Any]]
) -> bool:
    """Put ``ids`` and ``columns`` (a value per id each) in id order; False if they were."""
    if all(a < b for a, b in itertools.pairwise(ids)):
        return False
    order = sorted(range(len(ids)), key=ids.__getitem__)
    for column in (ids, *columns):
        if isinstance(column, (Texts, Coded)):
            column.reorder(order)
            continue
        reordered = [column[i] for i in order]
        column[:] = array(column.typecode, reordered) if isinstance(column, array) else reordered
    return True


class Facts:
    """The compact layer of an :class:`~experiments.asof.AsOf`, read in one pass over the store."""

    def __init__(self, view: AsOf) -> None:
        self.view = view
        self.at = view.at
        self._at_key = utc_key(view.at)
        # The objectives candidates name, by the ids an experiment links (shared tuples).
        self._served: dict[tuple[str, ...], tuple[Ref, ...]] = {}
        self.experiments = ExperimentColumns()
        self.hypotheses = HypothesisColumns()
        # Per participant, by index: EXTERNAL | FRONTLINE | PSEUDONYMOUS bits (small ints,
        # which Python shares) and the department.
        self.people: list[int] = []
        self.departments: list[str | None] = []
        self.measurements: dict[str, tuple[float, pendulum.DateTime, int]] = {}
        self._in_force: set[str] = set()  # the ids of the decisions in force
        # Each experiment's place by id, while reading; a search of the ids after.
        self._index: dict[str, int] = {}
        # One int object per place while reading, shared by the three indexes (an int
        # above 256 is an object of its own: 3 MiB an index at 100,000).
        self._ints: list[int] = []
        self._read_experiments()
        self._read_outcomes()
        self._read_next_steps()  # the ids of the decisions in force are let go here
        self._read_measurements()
        self._read_prototypes()
        self._read_scopes()
        # The people last, and dropped right after: a string and an int per person.
        # The experiments' index goes once the hypotheses know their experiment's place,
        # before the hypotheses' own is made: never three indexes at once.
        people = self._read_people()
        self._read_participations(people)
        self._read_hypotheses()
        heard_on, heard = self._read_voices(people)
        # The indexes are let go before the voices are grouped and the findings made:
        # they need places only.
        del people
        self._ints = []
        voices = Grouped.of(heard_on, heard, len(self.hypotheses.ids), heard.typecode)
        del heard_on, heard
        self._make_room_for_findings()
        derive(self, voices)
        # Findings are made when they are read, perhaps after the reading has ended: all
        # they are made of is read now, the objectives candidates name included.
        if any(self.hypotheses.candidate.codes):
            _ = self.view.objectives

    def _make_room_for_findings(self) -> None:
        """The columns only findings fill, made once the indexes are let go.

        Made now and not with the others, they take the memory the indexes held instead
        of growing the process: the allocator keeps what a large object held for the
        next large one.
        """
        experiments, hypotheses = len(self.experiments.ids), len(self.hypotheses.ids)
        self.experiments.overdue = [None] * experiments
        h = self.hypotheses
        h.one_sided = Coded(_ONE_STANCE, hypotheses)
        h.voices = array("i", bytes(4 * hypotheses))
        h.candidate = Coded(_FLAG, hypotheses)

    # --- naming and showing --------------------------------------------------------

    def ref(self, experiment: int) -> Ref:
        """How findings name the experiment at ``experiment``."""
        columns = self.experiments
        return Ref(columns.ids[experiment], columns.titles[experiment])

    def hypothesis_ref(self, hypothesis: int) -> Ref:
        """How findings name the hypothesis at ``hypothesis``."""
        columns = self.hypotheses
        return Ref(columns.ids[hypothesis], columns.statements[hypothesis])

    def overdue(self, experiment: int) -> Overdue | None:
        """The experiment at ``experiment`` past its time box, if it is."""
        found = self.experiments.overdue[experiment]
        return None if found is None else Overdue(self.ref(experiment), *found)

    def one_sided(self, hypothesis: int) -> OneSidedEvidence | None:
        """The hypothesis at ``hypothesis`` resting on voices of one stance, if it does."""
        h = self.hypotheses
        stance = h.one_sided[hypothesis]
        if stance is None:
            return None
        experiment = h.experiment[hypothesis]
        return OneSidedEvidence(
            self.hypothesis_ref(hypothesis), self.ref(experiment), stance, h.voices[hypothesis]
        )

    def untested(self, hypothesis: int) -> Untested | None:
        """The hypothesis at ``hypothesis`` left untested too long, if it is."""
        found = self.hypotheses.untested.get(hypothesis)
        if found is None:
            return None
        experiment = self.hypotheses.experiment[hypothesis]
        return Untested(self.hypothesis_ref(hypothesis), self.ref(experiment), *found)

    def candidate(self, hypothesis: int) -> Candidate | None:
        """The hypothesis at ``hypothesis`` as a candidate to magnify, if it is one."""
        parts = self._candidate_parts(hypothesis)
        if parts is None:
            return None
        place, evidence, participants, critical_voices = parts
        criterion, measured, met = self.hypotheses.criteria.get(hypothesis, (None, None, None))
        return Candidate(
            self.hypothesis_ref(hypothesis),
            self.ref(place),
            evidence,
            participants,
            critical_voices,
            self.objectives_served(place),
            self.experiments.decision[place],
            criterion=criterion,
            measured=measured,
            criterion_met=met,
        )

    def candidate_order(self, hypothesis: int) -> tuple[Any, ...]:
        """Where the candidate at ``hypothesis`` comes in a summary's list, as a sort key:
        decided for scale-up first, then by :meth:`Candidate.rank_key`, ties by id."""
        parts = self._candidate_parts(hypothesis)
        assert parts is not None  # asked of candidates only
        place, evidence, participants, critical_voices = parts
        served = len(self._served_ids(self.experiments.objectives[place]))
        ranks = rank_key(evidence, critical_voices, participants, served)
        decided_up = scales_up(self.experiments.decision[place])
        return (not decided_up, tuple(-r for r in ranks), self.hypotheses.ids[hypothesis])

    def _candidate_parts(self, hypothesis: int) -> tuple[int, Evidence, int, int] | None:
        """A candidate's experiment place, evidence, participants and critical voices;
        None unless the hypothesis at ``hypothesis`` is one."""
        h = self.hypotheses
        evidence = h.evidence[hypothesis]
        if not h.candidate[hypothesis] or evidence is None:
            return None
        place = h.experiment[hypothesis]
        codes = self.experiments.participations[place]
        return place, evidence, len(codes), critics(codes)

    def objectives_served(self, experiment: int) -> tuple[Ref, ...]:
        """The objectives the experiment at ``experiment`` serves, as candidates name them."""
        linked = self.experiments.objectives[experiment]
        served = self._served.get(linked)
        if served is None:
            objectives = self.view.objectives
            served = self._served[linked] = tuple(
                Ref(o, objectives[o].title) for o in self._served_ids(linked)
            )
        return served

    def _served_ids(self, linked: tuple[str, ...]) -> list[str]:
        """Of the objectives an experiment links, those in the view, each once, by id."""
        objectives = self.view.objectives
        return sorted({o for o in linked if o in objectives})

    def experiment(self, place: int) -> ExperimentFacts:
        """The facts of the experiment at ``place``, as one object."""
        e = self.experiments
        return ExperimentFacts(
            e.ids[place],
            e.titles[place],
            e.status[place],
            e.time_box[place],
            e.started[place],
            e.objectives[place],
            e.learnings[place],
            e.decision[place],
            e.participations[place],
            tuple(self.hypothesis(h) for h in e.hypotheses[place]),
            self.overdue(place),
            e.sprint.get(place),
            e.scoped[place],
            e.first_shown[place],
            e.open_steps[place],
            tuple(e.overdue_steps.get(place, ())),
            self.ref(place),
        )

    def hypothesis(self, place: int) -> HypothesisFacts:
        """The facts of the hypothesis at ``place``, as one object."""
        h = self.hypotheses
        return HypothesisFacts(
            h.ids[place],
            h.statements[place],
            h.status[place],
            h.evidence[place],
            self.one_sided(place),
            self.untested(place),
            self.candidate(place),
            self.hypothesis_ref(place),
        )

    # --- reading ----------------------------------------------------------------------

    def _rows(self, kind: str, group_by: list[str], **options: Any) -> Iterator[tuple[Any, ...]]:
        """Rows as tuples: the ``group_by`` fields, then the measures (none unless given)."""
        options.setdefault("measures", {})
        return self.view.store.aggregate_tuples(
            kind, group_by=group_by, pushdown=self.view.pushdown, **options
        )

    def _latest(
        self, kind: str, group: str, fields: tuple[str, ...], by: str, also: Expr | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Each ``group``'s latest ``fields`` by the time ``by``, among the records of ``by``
        up to the moment (and ``also`` any other condition)."""
        until = F(by) <= self._at_key
        return self._rows(
            kind,
            [group],
            measures={field: Latest(field, by=by) for field in fields},
            where=until if also is None else until & also,
        )

    def _int(self, place: int) -> int:
        """The shared int object for ``place`` (the next one, or one made before)."""
        ints = self._ints
        if place == len(ints):
            ints.append(place)
        return ints[place]

    def _read_people(self) -> dict[str, int]:
        """Participants: their attributes, and the index each is known by from here on."""
        index: dict[str, int] = {}
        people, departments = self.people, self.departments
        frontline = Role.FRONTLINE_EMPLOYEE.value
        for person, role, external, pseudonymous, department in self._rows(
            "participant", ["id", "role", "external", "pseudonymous", "department"]
        ):
            index[person] = self._int(len(people))
            people.append(
                (EXTERNAL if external else 0)
                | (FRONTLINE if role == frontline else 0)
                | (PSEUDONYMOUS if pseudonymous else 0)
            )
            departments.append(None if department is None else sys.intern(department))
        return index

    def _read_experiments(self) -> None:
        fields = ["id", "title", "objectives", "time_box", "sprint"]
        fields += ["started_at", "concluded_at", "decided_at", "abandoned_at"]
        at_key, e = self._at_key, self.experiments
        index, objectives = self._index, e.objectives
        status_at, reached, intern = rules.status_at, rules.reached, sys.intern
        # Most experiments serve the same few objectives: their tuples are shared.
        shared: dict[tuple[str, ...], tuple[str, ...]] = {(): ()}
        sprints: dict[str, str] = {}  # few are in one
        for (
            experiment_id,
            title,
            objective,
            time_box,
            sprint,
            started,
            concluded,
            decided,
            abandoned,
        ) in self._rows("experiment", fields):
            place = index.get(experiment_id)
            if place is None:
                place = index[experiment_id] = self._int(len(e.ids))
                e.ids.append(experiment_id)
                e.titles.append(title)
                e.status.append(status_at(started, concluded, decided, abandoned, at_key))
                e.time_box.append(None if time_box is None else intern(time_box))
                e.started.append(intern(started) if reached(started, at_key) else None)
                if sprint is not None:
                    sprints[experiment_id] = sprint
                objectives.append(())
            if objective is not None:
                linked = (*objectives[place], intern(objective))
                objectives[place] = shared.setdefault(linked, linked)
        if _in_id_order(e.ids, (e.titles, e.status, e.time_box, e.started, objectives)):
            self._index = dict(zip(e.ids, self._ints, strict=False))
        index = self._index  # made anew if the ids were put in order
        e.sprint = {index[experiment_id]: sprint for experiment_id, sprint in sprints.items()}
        size = len(e.ids)
        e.learnings = array("i", bytes(4 * size))
        e.decision = Coded(_DECISIONS, size)
        e.scoped = Coded(_FLAG, size)
        e.first_shown = Coded(_FIRST_SHOWN, size)
        e.open_steps = array("i", bytes(4 * size))

    def _read_outcomes(self) -> None:
        """Learnings and the decision in force of each experiment, as of the moment."""
        e = self.experiments
        index = self._index
        for experiment_id, count in self._rows(
            "learning",
            ["experiment"],
            measures={"n": Count()},
            where=F.observed_at <= self._at_key,
        ):
            place = index.get(experiment_id)
            if place is not None:
                e.learnings[place] = count
        for experiment_id, outcome, decision_id in self._latest(
            "decision", "experiment", ("outcome", "id"), by="decided_at"
        ):
            place = index.get(experiment_id)
            if place is not None and outcome is not None:
                decision = rules.decision_in_force(e.status[place], _OUTCOME[outcome])
                e.decision[place] = decision
                if decision is not None:
                    self._in_force.add(decision_id)

    def _read_hypotheses(self) -> None:
        """Hypotheses, each with its experiment's place; the experiments' index is let go."""
        h, experiments = self.hypotheses, self._index
        h.experiment = array(typecode_for(len(self.experiments.ids)))
        for hypothesis_id, experiment_id, statement in self._rows(
            "hypothesis", ["id", "experiment", "statement"]
        ):
            place = experiments.get(experiment_id)
            if place is not None:
                h.ids.append(hypothesis_id)
                h.statements.append(statement)
                h.experiment.append(place)
        del experiments
        self._index = {}  # needed no more: let go before the hypotheses are put in order
        _in_id_order(h.ids, (h.statements, h.experiment))
        size = len(h.ids)
        h.status = Coded(tuple(HypothesisStatus), size)  # untested, the first
        h.evidence = Coded(_EVIDENCES, size)
        self.experiments.hypotheses = Grouped.of(
            h.experiment, range(size), len(self.experiments.ids), typecode_for(size)
        )

    def _read_voices(self, people: Mapping[str, int]) -> tuple[array[int], array[int]]:
        """Each hypothesis's status from its latest learning, and whose voices it rests on:
        the places of a hypothesis and of a person, pair by pair."""
        h = self.hypotheses
        size = len(h.ids)
        index = dict(zip(h.ids, map(self._int, range(size)), strict=True))
        on_one = F.hypothesis != None  # noqa: E711 - a learning about a hypothesis
        for hypothesis_id, verdict, evidence in self._latest(
            "learning", "hypothesis", ("verdict", "evidence"), by="observed_at", also=on_one
        ):
            place = index.get(hypothesis_id)
            if place is not None and verdict is not None:
                h.status[place] = _STATUS_OF_VERDICT[verdict]
                h.evidence[place] = _EVIDENCE[evidence]
        # One row per learning and person (grouped by id: a projection, without a sort);
        # a person heard in two learnings on a hypothesis counts once.
        heard_on, heard = array(typecode_for(size)), array(typecode_for(len(self.people)))
        for _, hypothesis_id, participant in self._rows(
            "learning",
            ["id", "hypothesis", "participants"],
            where=(F.observed_at <= self._at_key) & on_one,
        ):
            place = index.get(hypothesis_id)
            person = people.get(participant)
            if place is not None and person is not None:
                heard_on.append(place)
                heard.append(person)
        return heard_on, heard

    def _read_participations(self, people: Mapping[str, int]) -> None:
        """Every participation, packed into one int and grouped by experiment."""
        index = self._index
        places: array[int] = array(typecode_for(len(self.experiments.ids)))
        codes: array[int] = array("i" if len(self.people) <= PEOPLE_IN_32_BITS else "q")
        # Grouped by id too, so that every participation is a row of its own.
        for _, experiment_id, participant, stance, involvement in self._rows(
            "participation", ["id", "experiment", "participant", "stance", "involvement"]
        ):
            place = index.get(experiment_id)
            person = people.get(participant)
            if place is not None and person is not None:
                places.append(place)
                codes.append(person << PERSON_SHIFT | LOW_CODE[stance, involvement])
        self.experiments.participations = Grouped.of(
            places, codes, len(self.experiments.ids), codes.typecode
        )

    def _read_measurements(self) -> None:
        """The latest value of each key result, as of the moment (late data by its time)."""
        for key_result, value, last, count in self._rows(
            "measurement",
            ["key_result"],
            measures={
                "value": Latest("value", by="measured_at"),
                "last": Max("measured_at"),
                "n": Count(),
            },
            where=(F.measured_at <= self._at_key) & (F.key_result != None),  # noqa: E711
        ):
            if key_result is not None and value is not None:
                self.measurements[key_result] = (float(value), parse_datetime(last), int(count))

    def _read_prototypes(self) -> None:
        """The fidelity each experiment's participants first saw, as of the moment."""
        showings: dict[str, list[tuple[str, Fidelity | None]]] = defaultdict(list)
        for experiment_id, shown_as, first in self._rows(
            "prototype",
            ["experiment", "shown_as"],
            measures={"first": Min("shown_at")},
            where=F.shown_at <= self._at_key,
        ):
            if first is not None and shown_as is not None:
                showings[experiment_id].append((first, _FIDELITY[shown_as]))
        e = self.experiments
        for experiment_id, shown in showings.items():
            place = self._index.get(experiment_id)
            first = rules.first_exposure(shown, self._at_key)
            if place is not None and first is not None:
                e.first_shown[place] = first[1]

    def _read_scopes(self) -> None:
        """Which experiments have a planned scope."""
        e = self.experiments
        for (experiment_id,) in self._rows("experiment", ["id"], where=F.scope != None):  # noqa: E711
            place = self._index.get(experiment_id)
            if place is not None:
                e.scoped[place] = True

    def _read_next_steps(self) -> None:
        """Open and overdue next steps: of learnings that count, and of decisions in force."""
        store, at_key, e = self.view.store, self._at_key, self.experiments
        with_action = (F.next_action != None) & (F.observed_at <= at_key)  # noqa: E711
        for learning in store.query(Learning, with_action):
            place = self._index.get(learning.experiment)
            if place is not None and learning.next_action is not None:
                source = Ref(learning.id, learning.observation)
                self._count_step(place, learning.next_action, source, 1)
        # Only the decisions in force (found with the outcomes) with steps are read whole.
        with_steps = (F.decided_at <= at_key) & (F.next_steps != None)  # noqa: E711 - any
        for data in store.select_data(Decision, with_steps):
            if data["id"] not in self._in_force:
                continue
            decision = from_data(data)
            assert isinstance(decision, Decision)
            place = self._index[decision.experiment]
            source = decision_ref(decision, e.titles[place])
            for number, step in enumerate(decision.next_steps, start=1):
                self._count_step(place, step, source, number)
        self._in_force.clear()  # needed no more

    def _count_step(self, place: int, step: NextStep, source: Ref, number: int) -> None:
        follow_up = self.view._follow_up(step, source, number, self.ref(place))  # noqa: SLF001
        if not follow_up.done:
            self.experiments.open_steps[place] += 1
            if follow_up.overdue:
                self.experiments.overdue_steps.setdefault(place, []).append(follow_up)


class FactsById(Mapping[str, ExperimentFacts]):
    """Each experiment's facts by id, each made when it is asked for."""

    __slots__ = ("_facts",)

    def __init__(self, facts: Facts) -> None:
        self._facts = facts

    def __getitem__(self, experiment_id: str) -> ExperimentFacts:
        place = self._facts.experiments.place(experiment_id)
        if place is None:
            raise KeyError(experiment_id)
        return self._facts.experiment(place)

    def __contains__(self, experiment_id: object) -> bool:
        return self._facts.experiments.place(experiment_id) is not None

    def __iter__(self) -> Iterator[str]:
        return iter(self._facts.experiments.ids)

    def __len__(self) -> int:
        return len(self._facts.experiments.ids)


def decision_ref(decision: Decision, title: str) -> Ref:
    """A decision as findings and follow-ups name it: its experiment and its outcome."""
    return Ref(decision.id, f"{title}: {decision.outcome.value}")
