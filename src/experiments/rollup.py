"""Many small experiments, one strategy: what was tried, with whom, what was learned.

:func:`rollup` answers, for one objective (with its sub-objectives) or for the whole
strategy, as of a given time:

- experiments by status, hypotheses by status, learnings, decisions in force by outcome;
- key-result progress from measurements, and objective progress as the weighted mean of
  its key results and sub-objectives (those with no data left out);
- who was let into the engine room: the share of external participants, of critical
  voices and of frontline staff, the departments crossed, how deep the involvement
  went, and hypotheses whose evidence rests on voices of one stance only;
- "start small" health: time-boxed experiments, those with a planned scope, and those
  running past their end;
- "invite into the unfinished": experiments by the fidelity of the first prototype
  their participants saw;
- "follow-up" health: experiments concluded without a learning or a decision,
  objectives without experiments, hypotheses left untested too long, next steps past
  their due date, and key results behind what their due date expects;
- candidates to magnify ("find and magnify"): supported hypotheses of experiments not
  abandoned, stopped or pivoted, those decided for scale-up apart from those awaiting a
  decision, ranked by evidence strength, breadth of involvement (critical voices
  included) and objectives served, each with whether its criterion is met;
- excuses for not letting a group in, by reason;
- each sprint in scope: its challenge, team, facilitators, process design, experiments
  and learnings (:mod:`experiments.sprints`).

The result is a tree of typed, frozen objects, summed over an
:class:`~experiments.asof.AsOf` view of the programme: every rule that depends on the
moment is the view's (see docs/rollup.md for each definition).
"""

from __future__ import annotations

import itertools
import math
from array import array
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, TypeVar

import attrs
import pendulum

from experiments._collector import paused
from experiments._columns import Found, typecode_for
from experiments._facts import Facts
from experiments._packing import (
    CRITICAL,
    DEPTHS,
    EXTERNAL,
    FRONTLINE,
    PERSON_SHIFT,
    PSEUDONYMOUS,
    stance_of,
)
from experiments.asof import (
    DEFAULT_UNTESTED_AFTER,
    AsOf,
    Candidate,
    FollowUp,
    OneSidedEvidence,
    Overdue,
    Untested,
)
from experiments.errors import NotFoundError
from experiments.model import (
    Excuse,
    ExcuseReason,
    ExperimentStatus,
    Fidelity,
    HypothesisStatus,
    Involvement,
    KeyResult,
    Objective,
    Outcome,
    Record,
)
from experiments.model import asof as rules
from experiments.model._time import DurationLike
from experiments.refs import Ref
from experiments.sprints import Member, PhaseRollup, SprintRollup, sprint_rollups

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = [
    "DEFAULT_UNTESTED_AFTER",
    "Candidate",
    "FollowUp",
    "InvolvementProfile",
    "KeyResultProgress",
    "Member",
    "ObjectiveRollup",
    "OneSidedEvidence",
    "Overdue",
    "PhaseRollup",
    "Ref",
    "Rollup",
    "SprintRollup",
    "Summary",
    "Untested",
    "rollup",
]


T = TypeVar("T")

_STATUS_ORDER: Final = tuple(ExperimentStatus)


@attrs.frozen
class KeyResultProgress:
    """How far a key result has come: its latest measurement against baseline and target.

    ``expected`` is how far it should have come by the roll-up's moment on a straight
    line from ``since`` to its due date (None without a due date).
    """

    key_result: KeyResult
    latest: float | None
    measured_at: pendulum.DateTime | None
    measurements: int
    expected: float | None = None

    @property
    def progress(self) -> float | None:
        """(latest - baseline) / (target - baseline), clamped to [0, 1]; None without data."""
        return None if self.latest is None else self.key_result.progress(self.latest)

    @property
    def behind(self) -> bool:
        """Whether its progress (none without a measurement) lags what is expected by now."""
        return rules.behind_schedule(self.progress, self.expected)


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
class Summary:
    """The figures of a set of experiments: one objective's subtree, or the whole strategy."""

    experiments: int
    by_status: Mapping[ExperimentStatus, int]
    hypotheses: Mapping[HypothesisStatus, int]
    learnings: int
    decisions: Mapping[Outcome, int]
    involvement: InvolvementProfile
    one_sided: Sequence[OneSidedEvidence]
    time_boxed: int
    overdue: Sequence[Overdue]
    concluded_without_learning: Sequence[Ref]
    concluded_without_decision: Sequence[Ref]
    untested: Sequence[Untested]
    candidates: Sequence[Candidate]
    excuses: tuple[Excuse, ...]
    scoped: int = 0
    first_shown: Mapping[Fidelity, int] = attrs.field(factory=dict)
    open_next_steps: int = 0
    overdue_next_steps: tuple[FollowUp, ...] = ()

    @property
    def scaling_up(self) -> tuple[Candidate, ...]:
        """Candidates whose experiment is already decided for scale-up, best first."""
        return tuple(c for c in self.candidates if c.scaling_up)

    @property
    def awaiting_decision(self) -> tuple[Candidate, ...]:
        """Candidates still awaiting a decision to scale up, best first."""
        return tuple(c for c in self.candidates if not c.scaling_up)

    @property
    def share_time_boxed(self) -> float | None:
        """Share of the experiments that have a time box ("start small")."""
        return None if self.experiments == 0 else self.time_boxed / self.experiments

    @property
    def share_scoped(self) -> float | None:
        """Share of the experiments that have a planned scope ("start small")."""
        return None if self.experiments == 0 else self.scoped / self.experiments

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
    unlinked_experiments: Sequence[Ref]
    scope: Ref | None = None
    view: AsOf | None = attrs.field(default=None, eq=False, repr=False)
    """The view it was summed over, for reports to read their detail from."""
    sprints: tuple[SprintRollup, ...] = ()
    """The sprints in scope, each with its team, process design, experiments and learnings."""

    @property
    def behind(self) -> tuple[KeyResultProgress, ...]:
        """Every key result in the roll-up that is behind what its due date expects."""
        return tuple(
            kr
            for top in self.objectives
            for node in top.walk()
            for kr in node.key_results
            if kr.behind
        )

    def find(self, objective: Objective | str) -> ObjectiveRollup:
        """The roll-up of one objective in the tree, by record, id or slug."""
        if isinstance(objective, Record):
            wanted = objective.id
        elif self.view is not None:
            try:
                wanted = self.view.store.resolve(objective, Objective).id
            except NotFoundError as exc:
                raise NotFoundError(f"{exc}, so it is not in this roll-up either") from None
        else:
            wanted = objective
        for top in self.objectives:
            for node in top.walk():
                if node.objective.id == wanted:
                    return node
        raise NotFoundError(
            f"objective {wanted!r} is not in this roll-up; roll up the whole strategy, or "
            "the objective it sits under"
        )


# --- summarising ------------------------------------------------------------------------


def _summary(
    facts: Facts,
    experiments: Collection[int],
    excuses: Sequence[Excuse],
    candidate_rank: Sequence[int],
) -> Summary:
    """The figures of the ``experiments`` (their places in ``facts``).

    ``candidate_rank`` orders candidates, by their hypothesis's place.
    """
    # In id order; the whole strategy's range is already, and sorting it would make an
    # int object per experiment.
    places = experiments if isinstance(experiments, range) else sorted(experiments)
    return Summary(
        experiments=len(places),
        involvement=_involvement(facts, places),
        excuses=tuple(sorted(excuses, key=lambda x: (x.reason.value, x.group, x.id))),
        **_tally(facts, places, candidate_rank),
    )


def _tally(facts: Facts, places: Sequence[int], candidate_rank: Sequence[int]) -> dict[str, Any]:
    """The summary's counts and lists of what needs attention, a pass over each column.

    The passes run in C (``map``, ``Counter``, ``sum``), so a summary costs little more
    than reading the values it sums; only the findings are looked at one by one.
    """
    e, h = facts.experiments, facts.hypotheses
    statuses = list(e.status.values(places))
    learned = list(map(e.learnings.__getitem__, places))
    # Every hypothesis's place: the packed array the facts hold for the whole strategy;
    # otherwise a list, though it holds an int object each, as the passes below would
    # each make them anew from an array.
    hypotheses: Sequence[int]
    if isinstance(places, range) and len(places) == len(e.ids):  # all: already packed
        hypotheses = e.hypotheses.values
    else:
        hypotheses = list(itertools.chain.from_iterable(map(e.hypotheses.__getitem__, places)))
    # The rules on a status are asked once per status, not once per experiment.
    awaiting = {status: rules.awaits_decision(status) for status in _STATUS_ORDER}
    without_learning = map(rules.concluded_without_learning, statuses, learned)
    late = e.overdue_steps
    steps = itertools.chain.from_iterable(map(late.__getitem__, filter(late.__contains__, places)))
    overdue, untested, ids = e.overdue, h.untested, e.ids
    return {
        "by_status": _counted(_STATUS_ORDER, statuses),
        "hypotheses": h.status.counts(hypotheses),
        "learnings": sum(learned),
        "decisions": e.decision.counts(places),
        "time_boxed": sum(map(bool, map(e.time_box.__getitem__, places))),
        # What needs attention is listed by place, each finding made when it is read.
        "one_sided": Found(
            itertools.compress(hypotheses, map(h.one_sided.codes.__getitem__, hypotheses)),
            facts.one_sided,
        ),
        "overdue": Found(
            sorted(
                itertools.compress(places, map(overdue.__getitem__, places)),
                key=lambda p: (overdue[p][0], ids[p]),  # type: ignore[index]  # all overdue
            ),
            facts.overdue,
        ),
        "concluded_without_learning": Found(
            itertools.compress(places, without_learning), facts.ref
        ),
        "concluded_without_decision": Found(
            itertools.compress(places, map(awaiting.__getitem__, statuses)), facts.ref
        ),
        "untested": Found(
            sorted(
                filter(untested.__contains__, hypotheses),
                key=lambda u: (-untested[u][1], h.ids[u]),
            ),
            facts.untested,
        ),
        "candidates": Found(
            sorted(
                itertools.compress(hypotheses, map(h.candidate.codes.__getitem__, hypotheses)),
                key=candidate_rank.__getitem__,
            ),
            facts.candidate,
        ),
        "scoped": e.scoped.counts(places)[True],
        "first_shown": e.first_shown.counts(places),
        "open_next_steps": sum(map(e.open_steps.__getitem__, places)),
        "overdue_next_steps": tuple(
            sorted(steps, key=lambda f: (-(f.overdue_days or 0), f.source.id, f.number))
        ),
    }


def _counted(members: Iterable[T], values: Iterable[T | None]) -> dict[T, int]:
    """How many of ``values`` are each of ``members``, in their order (None not counted)."""
    counts = Counter(values)
    return {member: counts[member] for member in members}


def _candidate_ranks(facts: Facts) -> array[int]:
    """Every candidate's place in the order summaries list them, by its hypothesis's place.

    Worked out once for the whole roll-up: each summary then sorts its candidates by
    that place, which is the same order (:meth:`Facts.candidate_order` breaks ties by id).
    """
    candidates = facts.hypotheses.candidate.codes
    found = sorted(itertools.compress(itertools.count(), candidates), key=facts.candidate_order)
    code = typecode_for(len(found))
    ranks = array(code, bytes(array(code).itemsize * len(candidates)))
    for rank, hypothesis in enumerate(found):
        ranks[hypothesis] = rank
    return ranks


# What one participation adds to its person's mark: a bit for its depth, 16 if critical.
_MARK: Final = tuple(
    (1 << (code & 3)) | (16 if stance_of(code) == CRITICAL else 0) for code in range(16)
)


def _involvement(facts: Facts, places: Sequence[int]) -> InvolvementProfile:
    """Who took part in the experiments at ``places``: each person once, at the deepest."""
    # Each person's mark ORs together what their participations add.  A few experiments'
    # people are marked in a dict; a whole strategy's in one byte per person, which
    # takes a hundredth of the memory of a dict of them all.  The people marked are then
    # counted by their mark, their flags and their department in C, not one by one.
    people, departments = facts.people, facts.departments
    start, codes = facts.experiments.participations.start, facts.experiments.participations.values
    marked = sum(start[place + 1] - start[place] for place in places)
    marks: bytearray | defaultdict[int, int]
    marks = bytearray(len(people)) if marked * 4 >= len(people) else defaultdict(int)
    if len(places) == len(start) - 1:  # every experiment: every code
        for code in codes:
            marks[code >> PERSON_SHIFT] |= _MARK[code & 15]
    else:
        for place in places:
            for code in codes[start[place] : start[place + 1]]:
                marks[code >> PERSON_SHIFT] |= _MARK[code & 15]
    by_mark: Counter[int]
    if isinstance(marks, bytearray):
        by_mark = Counter(marks)
        del by_mark[0]  # the people not marked
        flags = Counter(itertools.compress(people, marks))
        crossed = set(itertools.compress(departments, marks))
    else:
        by_mark = Counter(marks.values())
        flags = Counter(map(people.__getitem__, marks))
        crossed = set(map(departments.__getitem__, marks))
    depths = [0] * len(DEPTHS)
    critical = 0
    for mark, count in by_mark.items():
        depths[(mark & 15).bit_length() - 1] += count
        critical += (mark >> 4) * count
    return InvolvementProfile(
        participants=sum(depths),
        external=sum(n for bits, n in flags.items() if bits & EXTERNAL),
        critical=critical,
        frontline=sum(n for bits, n in flags.items() if bits & FRONTLINE),
        pseudonymous=sum(n for bits, n in flags.items() if bits & PSEUDONYMOUS),
        departments=tuple(sorted(d for d in crossed if d is not None)),
        depth=dict(zip(DEPTHS, depths, strict=True)),
    )


def _key_results(view: AsOf, objective: Objective) -> tuple[KeyResultProgress, ...]:
    progress = []
    for key_result in sorted(
        view.key_results.get(objective.id, ()),
        key=lambda kr: (kr.metric, kr.id),
    ):
        latest = view.measurements.get(key_result.id)
        progress.append(
            KeyResultProgress(
                key_result,
                None if latest is None else latest[0],
                None if latest is None else latest[1],
                0 if latest is None else latest[2],
                view.expected_progress(key_result),
            )
        )
    return tuple(progress)


def rollup(
    store: Store | AsOf,
    objective: Objective | str | None = None,
    *,
    at: pendulum.DateTime | str | None = None,
    untested_after: DurationLike = DEFAULT_UNTESTED_AFTER,
    pushdown: bool = True,
) -> Rollup:
    """Roll experiments up into one objective (with its sub-objectives) or the whole strategy.

    Args:
        store: where the programme is recorded, or an :class:`~experiments.asof.AsOf`
            view of it already made (the other arguments are then the view's own).
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
    if isinstance(store, AsOf):
        view = store
    else:
        view = AsOf(
            store, objective=objective, at=at, untested_after=untested_after, pushdown=pushdown
        )
    with view.store.reading(), paused():
        return _rollup(view)


def _rollup(view: AsOf) -> Rollup:
    view.refuse_cycles()
    facts = view._facts  # noqa: SLF001 - the columns behind view.facts, which the roll-up reads
    tree = _Tree(view, facts)
    scope = view.scope_objective
    if scope is not None:
        top, in_scope, _ = tree.build(scope)
        return Rollup(
            at=view.at,
            objectives=(top,),
            total=top.summary,
            objectives_without_experiments=tree.without_experiments(),
            unlinked_experiments=Found((), facts.ref),
            scope=Ref(scope.id, scope.title),
            view=view,
            sprints=sprint_rollups(view, [facts.experiments.ids[e] for e in in_scope]),
        )
    # Only the trees are kept: each root's set of experiment ids was needed by no parent.
    roots = [tree.build(node)[0] for node in tree.children.get(None, ())]
    known = view.objectives.keys()
    every = range(len(facts.experiments.ids))
    linked = facts.experiments.objectives
    titles, ids = facts.experiments.titles, facts.experiments.ids
    unlinked = Found(
        sorted(
            (e for e in every if known.isdisjoint(linked[e])), key=lambda e: (titles[e], ids[e])
        ),
        facts.ref,
    )
    return Rollup(
        at=view.at,
        objectives=tuple(roots),
        total=_summary(facts, every, view.excuses, tree.ranks),
        objectives_without_experiments=tree.without_experiments(),
        unlinked_experiments=unlinked,
        view=view,
        sprints=sprint_rollups(view, facts.experiments.ids),
    )


class _Tree:
    """Each objective's roll-up, built from its children's, down the tree from a root.

    A class and not a function nested in :func:`_rollup` that calls itself: such a
    function is in a reference cycle with its own closure, which would have kept the
    links and excuses below alive until the cyclic collector came by.
    """

    def __init__(self, view: AsOf, facts: Facts) -> None:
        self.view = view
        self.facts = facts
        self.ranks = _candidate_ranks(facts)
        self.children = view.children()
        # Arrays, not lists: a list would hold an int object per experiment.
        code = typecode_for(len(facts.experiments.ids))
        self.linked: defaultdict[str, array[int]] = defaultdict(lambda: array(code))
        for place, objectives in enumerate(facts.experiments.objectives):
            for objective_id in set(objectives):
                self.linked[objective_id].append(place)
        self.excuses_by_objective: dict[str, list[Excuse]] = defaultdict(list)
        self.excuses_by_experiment: dict[int, list[Excuse]] = defaultdict(list)
        for excuse in view.excuses:
            if excuse.objective is not None:
                self.excuses_by_objective[excuse.objective].append(excuse)
            else:
                excused = facts.experiments.place(excuse.experiment)
                if excused is not None:
                    self.excuses_by_experiment[excused].append(excuse)
        self.empty: list[Ref] = []

    def build(self, node: Objective) -> tuple[ObjectiveRollup, set[int], list[Excuse]]:
        """``node``'s roll-up, the places of the experiments under it, and their excuses."""
        built = [self.build(child) for child in self.children.get(node.id, ())]
        direct = set(self.linked.get(node.id, ()))
        experiments = set(direct)
        excuses = list(self.excuses_by_objective.get(node.id, ()))
        for _, places, child_excuses in built:
            experiments |= places
            excuses += child_excuses
        by_experiment = self.excuses_by_experiment
        excuses += [
            x for e in sorted(experiments.intersection(by_experiment)) for x in by_experiment[e]
        ]
        unique = list({x.id: x for x in excuses}.values())
        if not experiments:
            self.empty.append(Ref(node.id, node.title))
        result = ObjectiveRollup(
            objective=node,
            key_results=_key_results(self.view, node),
            children=tuple(b[0] for b in built),
            summary=_summary(self.facts, experiments, unique, self.ranks),
            direct_experiments=len(direct),
        )
        return result, experiments, unique

    def without_experiments(self) -> tuple[Ref, ...]:
        """The objectives built so far with no experiment under them, by id."""
        return tuple(sorted(self.empty, key=lambda r: r.id))
