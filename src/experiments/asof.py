"""The programme as of a moment: one scope, read once, the only reader of time rules.

:class:`AsOf` is what the roll-up sums over, what the checks look at (it is their
:class:`~experiments.checks.CheckContext`) and what a report reads its detail from, so
the three never disagree.  It reads a scope (one objective with its sub-objectives,
one experiment, or the whole strategy) at a moment, in two layers, each read once and
only when first asked for:

- the *facts*: every experiment, hypothesis, participation, learning, decision and
  measurement in compact form, pushed down into the store's aggregation where the
  backend can, streamed otherwise; the roll-up needs nothing else, even for a hundred
  thousand experiments;
- the *detail*: the current records of the experiments in scope and of what belongs to
  them, a few hundred ids per query, for checks and reports.

Every question that depends on the moment (an experiment's status, where its time box
ends, whether it is overdue, the decision in force, where the evidence on a hypothesis
stands, which hypotheses are left untested or ready to magnify) is answered by the
rules in :mod:`experiments.model.asof`, called here on either layer.
"""

from __future__ import annotations

import functools
import sys
from array import array
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs
import pendulum

from experiments._grouping import chunks
from experiments.errors import ValidationError
from experiments.model import asof as rules
from experiments.model._time import (
    UTC,
    UTC_WIDTH,
    DateTimeLike,
    DurationLike,
    argument,
    days_between,
    parse_datetime,
    parse_duration,
    parse_timebox,
    utc_key,
)
from experiments.model.excuse import Excuse
from experiments.model.experiment import Decision, Experiment
from experiments.model.hypothesis import Criterion, Hypothesis, HypothesisStatus
from experiments.model.learning import Evidence, Learning, Verdict
from experiments.model.lifecycle import ExperimentStatus, Outcome
from experiments.model.next_step import NextStep
from experiments.model.objective import KeyResult, Objective, cycle_message, parent_cycles, subtree
from experiments.model.participant import Involvement, Participant, Participation, Role, Stance
from experiments.model.phase import Phase
from experiments.model.prototype import Fidelity, Prototype
from experiments.model.sprint import Sprint
from experiments.model.template import Gap, Move, Template, next_move, templates_for
from experiments.query import Count, Expr, F, Latest, Max, Min
from experiments.refs import Ref
from experiments.serialization import from_data

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = ["DEFAULT_UNTESTED_AFTER", "AsOf", "FollowUp", "TemplateGaps"]

#: How long a started experiment's hypothesis may stay untested before it is flagged.
DEFAULT_UNTESTED_AFTER: Final = "P30D"

_STANCES: Final = tuple(Stance)
_DEPTHS: Final = tuple(Involvement)
_STANCE_INDEX: Final = {s.value: i for i, s in enumerate(_STANCES)}
_CRITICAL: Final = _STANCES.index(Stance.CRITICAL)
_DEPTH_INDEX: Final = {d.value: i for i, d in enumerate(_DEPTHS)}
# Participation codes (person * 16 + ...) fit in four bytes up to this many people.
_PEOPLE_IN_32_BITS: Final = 2**27
# A participation's stance and depth as the low four bits of its code (stance * 4 + depth).
_LOW_CODE: Final = {
    (stance, depth): s * 4 + d
    for stance, s in _STANCE_INDEX.items()
    for depth, d in _DEPTH_INDEX.items()
}
_STATUS_OF_VERDICT: Final = {v.value: v.status for v in Verdict}
_EVIDENCE: Final = {e.value: e for e in Evidence}
_OUTCOME: Final = {o.value: o for o in Outcome}
_FIDELITY: Final = {f.value: f for f in Fidelity}

#: Bits of a person's flags in :attr:`AsOf.people`.
EXTERNAL: Final = 1
FRONTLINE: Final = 2
PSEUDONYMOUS: Final = 4

# How far a duration counted on a zone's calendar can end from the same duration
# counted in UTC: up to a day when the clocks change (Samoa once skipped a whole one),
# and for months a short month's clamping on top.  Within this of the moment, ends are
# worked out exactly.
_SLACK_DAYS: Final = 1
_SLACK_MONTH_DAYS: Final = 7


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


@attrs.frozen
class TemplateGaps:
    """What a template still needs before an experiment may make its next move."""

    template: Ref
    mandatory: bool
    move: Move
    missing: tuple[Gap, ...]


@attrs.frozen
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
        return self.decision is Outcome.SCALE_UP

    def rank_key(self) -> tuple[int, int, int, int]:
        """Stronger evidence first, then critical voices heard, breadth, objectives served."""
        return (
            self.evidence.rank,
            1 if self.critical_voices else 0,
            self.participants,
            len(self.objectives),
        )


@attrs.define(weakref_slot=False)
class _Shown:
    """Facts that findings name: each by a ``Ref`` made the first time it is shown."""

    _ref: Ref | None = attrs.field(default=None, init=False)

    @property
    def ref(self) -> Ref:
        if self._ref is None:
            self._ref = Ref(*self._named())
        return self._ref

    def _named(self) -> tuple[str, str]:
        """The id and the words a finding names these facts by."""
        raise NotImplementedError


@attrs.define(weakref_slot=False)
class ExperimentFacts(_Shown):
    """One experiment's facts at the moment, and what follows from them alone.

    A hundred thousand of these are alive at once, so they hold plain values: tuples
    shared while empty (and ``objectives`` among experiments that serve the same), time
    texts shared among those that start at the same moment, participations packed into
    four-byte ints (person * 16 + stance * 4 + depth; eight bytes past 2**27 people), and
    a ``Ref`` made the first time one is shown.
    """

    id: str
    title: str
    status: ExperimentStatus
    time_box: str | None
    started_key: str | None
    objectives: tuple[str, ...] = ()
    learnings: int = 0
    decision: Outcome | None = None  # the decision in force (rules.decision_in_force)
    participations: array[int] = attrs.field(factory=lambda: array("i"))
    hypotheses: tuple[HypothesisFacts, ...] = ()
    overdue: Overdue | None = None
    sprint: str | None = None
    scoped: bool = False
    first_shown: Fidelity | None = None  # rules.first_exposure
    open_steps: int = 0
    overdue_steps: tuple[FollowUp, ...] = ()

    def _named(self) -> tuple[str, str]:
        return self.id, self.title

    @property
    def critics(self) -> int:
        # A person takes part in an experiment once, so every code is a different person.
        return sum(1 for code in self.participations if (code >> 2) & 3 == _CRITICAL)


@attrs.define(weakref_slot=False)
class HypothesisFacts(_Shown):
    """One hypothesis's facts at the moment, and the findings about it."""

    id: str
    statement: str
    status: HypothesisStatus = HypothesisStatus.UNTESTED
    # The people (by index) whose voice the evidence rests on, until ``one_sided`` is
    # worked out from them.
    voices: tuple[int, ...] = ()
    evidence: Evidence | None = None
    one_sided: OneSidedEvidence | None = None
    untested: Untested | None = None
    candidate: Candidate | None = None

    def _named(self) -> tuple[str, str]:
        return self.id, self.statement


# Programmes use a handful of time boxes ("P2W", "P100D"), each parsed once.
_timebox: Final = functools.lru_cache(maxsize=256)(parse_timebox)
_duration: Final = functools.lru_cache(maxsize=256)(parse_duration)
_moment: Final = functools.lru_cache(maxsize=4096)(parse_datetime)


class AsOf:
    """A scope of the programme at a moment; see the module documentation.

    Args:
        store: where the programme is recorded.
        objective: an objective (record, id or slug): the scope is it and every
            objective below it.  None (and no ``experiment``): the whole strategy.
        experiment: one experiment (record, id or slug) as the scope, for checks.
        at: the moment (default now).
        untested_after: how long a started experiment's hypothesis may go without a
            learning before it counts as left untested (default 30 days).
        pushdown: let the store aggregate in its engine where it can; False streams
            every record through Python (the same result, slower).

    Raises:
        NotFoundError: the objective or experiment is not in the store.
        ValidationError: both an objective and an experiment, a bad moment or allowance.
    """

    def __init__(
        self,
        store: Store,
        *,
        objective: Objective | str | None = None,
        experiment: Experiment | str | None = None,
        at: DateTimeLike | None = None,
        untested_after: DurationLike = DEFAULT_UNTESTED_AFTER,
        pushdown: bool = True,
    ) -> None:
        if objective is not None and experiment is not None:
            raise ValidationError("give one scope: an objective or an experiment, not both")
        self.store = store
        self.at: pendulum.DateTime = (
            pendulum.now("UTC") if at is None else argument(at, "at", parse_datetime)
        )
        self.untested_after = argument(untested_after, "untested_after", parse_duration)
        self.pushdown = pushdown
        self._at_key = utc_key(self.at)
        self._at_utc = self.at.in_tz(UTC)
        self.scope_objective: Objective | None = (
            None if objective is None else store.resolve(objective, Objective)
        )
        self.scope_experiment: Experiment | None = (
            None if experiment is None else store.resolve(experiment, Experiment)
        )
        self._limits: dict[tuple[pendulum.Duration, int], str] = {}

    def __repr__(self) -> str:
        return f"<AsOf {self.scope or 'the whole strategy'} at {self.at} in {self.store!r}>"

    @property
    def scope(self) -> Ref | None:
        """The objective or experiment in scope, or None for the whole strategy."""
        if self.scope_objective is not None:
            return Ref(self.scope_objective.id, self.scope_objective.title)
        if self.scope_experiment is not None:
            return Ref(self.scope_experiment.id, self.scope_experiment.title)
        return None

    # --- the rules, on either layer -------------------------------------------------

    def reached(self, moment: pendulum.DateTime | None) -> bool:
        """Whether a fact dated ``moment`` counts at the view's moment."""
        return moment is not None and rules.reached(moment.astimezone(UTC), self._at_utc)

    def status(self, experiment: Experiment | str) -> ExperimentStatus:
        """An experiment's status at the view's moment."""
        if isinstance(experiment, str):
            facts = self.facts.get(experiment)
            if facts is not None:
                return facts.status
            experiment = self.store.get(experiment, Experiment)
        return experiment.status_at(self.at)

    def status_at(self, experiment: Experiment) -> str:
        """The experiment's status at the view's moment, as its value (``"running"``)."""
        return self.status(experiment).value

    def time_box_end(self, experiment: Experiment) -> pendulum.DateTime | None:
        """Where the experiment's time box ends, once known (see docs/rollup.md)."""
        return experiment.ends_at

    def overdue_days(self, experiment: Experiment, grace: DurationLike | None = None) -> int | None:
        """Whole days a running experiment is past its time box (and ``grace``), if it is."""
        allowance = None if grace is None else argument(grace, "grace", parse_duration)
        return rules.overdue_days(
            self.status(experiment), self.time_box_end(experiment), self.at, allowance
        )

    def awaits_decision(self, experiment: Experiment, grace: DurationLike | None = None) -> bool:
        """Whether a concluded experiment still has no decision ``grace`` after concluding."""
        if not rules.awaits_decision(self.status(experiment)):
            return False
        if grace is None or experiment.concluded_at is None:
            return True
        allowance = argument(grace, "grace", parse_duration)
        return self.reached(rules.after(experiment.concluded_at, allowance))

    def concluded_without_learning(self, experiment: Experiment) -> bool:
        """Whether the experiment is concluded (or decided) with no learning that counts."""
        return rules.concluded_without_learning(
            self.status(experiment), len(self.learnings.get(experiment.id, ()))
        )

    def decision(self, experiment: Experiment) -> Decision | None:
        """The decision in force about the experiment at the view's moment."""
        latest = rules.latest_decision(self.decisions.get(experiment.id, ()))
        return rules.decision_in_force(self.status(experiment), latest)

    def hypothesis_status(self, hypothesis: Hypothesis) -> HypothesisStatus:
        """Where the evidence on a hypothesis stands: the verdict of its latest learning."""
        return hypothesis.status_from(self.learnings.get(hypothesis.experiment, ()))

    def latest_values(self, experiment_ids: Iterable[str]) -> dict[tuple[str, str], float]:
        """The latest value of each metric measured in each experiment, as of the moment.

        Keyed by experiment id and :func:`~experiments.model.asof.metric_key` of the
        metric, which is how a hypothesis's criterion names the metric it is judged by.
        """
        found: dict[tuple[str, str], tuple[str, float]] = {}
        for group in chunks(sorted(set(experiment_ids))):
            for row in self.store.aggregate(
                "measurement",
                group_by=["experiment", "metric"],
                measures={"value": Latest("value", by="measured_at"), "last": Max("measured_at")},
                where=(F.measured_at <= self._at_key) & F.experiment.in_(group),
                pushdown=self.pushdown,
            ):
                if row["value"] is None:
                    continue
                key = (row["experiment"], rules.metric_key(row["metric"]))
                candidate = (row["last"], float(row["value"]))
                if key not in found or candidate > found[key]:  # two spellings: the later
                    found[key] = candidate
        return {key: value for key, (_, value) in found.items()}

    @functools.cached_property
    def _values_in_scope(self) -> dict[tuple[str, str], float]:
        return self.latest_values(self.experiment_ids)

    def criterion_value(self, hypothesis: Hypothesis) -> float | None:
        """The latest value of the metric a hypothesis's criterion names, in its experiment."""
        if hypothesis.criterion is None:
            return None
        key = (hypothesis.experiment, rules.metric_key(hypothesis.criterion.metric))
        return self._values_in_scope.get(key)

    def criterion_met(self, hypothesis: Hypothesis) -> bool | None:
        """Whether that value meets the criterion; None without a criterion or a value."""
        if hypothesis.criterion is None:
            return None
        return rules.criterion_met(hypothesis.criterion, self.criterion_value(hypothesis))

    def first_exposure(
        self, experiment: Experiment, *, by: pendulum.DateTime | None = None
    ) -> tuple[pendulum.DateTime, Fidelity] | None:
        """When participants first saw a prototype of the experiment, and how finished.

        As of the view's moment, or of ``by`` if that is earlier (when it concluded).
        """
        moment = self._at_utc if by is None else min(by.in_timezone(UTC), self._at_utc)
        showings = [
            (p.shown_at.in_timezone(UTC) if p.shown_at else None, p.shown_as)
            for p in self.prototypes.get(experiment.id, ())
        ]
        first = rules.first_exposure(showings, moment)
        # The moment is one of the showings' own DateTimes, as given.
        return None if first is None else (pendulum.instance(first[0]), first[1])

    def progress(self, key_result: KeyResult) -> float | None:
        """How far a key result has come by the moment, from its latest measurement then."""
        latest = self.measurements.get(key_result.id)
        return None if latest is None else key_result.progress(latest[0])

    def expected_progress(self, key_result: KeyResult) -> float | None:
        """How far a key result should have come by the moment (None without a due date)."""
        return rules.expected_progress(key_result.starts, key_result.due, self.at)

    def follow_ups(self, experiment: Experiment) -> list[FollowUp]:
        """The next steps of the experiment's learnings and of its decision in force.

        Learnings that count at the moment, oldest first, then the decision in force; a
        revised decision's steps are replaced by those of the decision that revises it.
        """
        ref = Ref(experiment.id, experiment.title)
        found = [
            self._follow_up(learning.next_action, Ref(learning.id, learning.observation), 1, ref)
            for learning in self.learnings.get(experiment.id, ())
            if learning.next_action is not None
        ]
        decision = self.decision(experiment)
        if decision is not None:
            source = _decision_ref(decision, experiment.title)
            found += [
                self._follow_up(step, source, number, ref)
                for number, step in enumerate(decision.next_steps, start=1)
            ]
        return found

    def _follow_up(self, step: NextStep, source: Ref, number: int, experiment: Ref) -> FollowUp:
        """Where ``step`` stands at the view's moment: done, or how many days overdue."""
        return FollowUp(
            step,
            source,
            number,
            experiment,
            done=self.reached(step.done_at),
            overdue_days=rules.step_overdue_days(step.due, step.done_at, self.at),
        )

    @functools.cached_property
    def templates(self) -> dict[str, Template]:
        """Every template in the store (deleted ones left out), by id."""
        return {t.id: t for t in self.store.query(Template)}

    def templates_of(self, experiment: Experiment) -> list[tuple[Template, bool]]:
        """The templates an experiment is held to, each with whether it is mandatory.

        Those mandatory for the objectives it serves (or objectives above them), then the
        one it was made from, if that is another.
        """
        parents = {o.id: o.parent for o in self.objectives.values()}
        return templates_for(experiment, self.templates.values(), parents)

    def template_gaps(self, experiment: Experiment) -> list[TemplateGaps]:
        """What each of its templates still needs before its next move (start or conclude).

        Only templates that still need something are listed; an experiment that is
        concluded, decided or abandoned has no move left that a template holds.
        """
        move = next_move(self.status(experiment))
        templates = self.templates_of(experiment) if move is not None else []
        if not templates:
            return []
        assert move is not None
        sprint = self.store.find(experiment.sprint) if experiment.sprint else None
        found = []
        for template, mandatory in templates:
            missing = template.missing(
                experiment,
                move,
                people=list(self.people_in(experiment)),
                hypotheses=self.hypotheses.get(experiment.id, ()),
                prototypes=self.prototypes.get(experiment.id, ()),
                sprint=sprint if isinstance(sprint, Sprint) else None,
                at=self.at,
            )
            if missing:
                found.append(
                    TemplateGaps(Ref(template.id, template.title), mandatory, move, missing)
                )
        return found

    # --- the facts: the compact layer -----------------------------------------------

    @functools.cached_property
    def facts(self) -> dict[str, ExperimentFacts]:
        """Every experiment's facts by id, for the whole store, which the roll-up's tree needs."""
        return self._facts.experiments

    @functools.cached_property
    def _facts(self) -> _Facts:
        return _Facts(self)

    @property
    def objectives(self) -> dict[str, Objective]:
        """Every objective in the store, by id (deleted ones left out)."""
        return self._objectives

    @functools.cached_property
    def _objectives(self) -> dict[str, Objective]:
        return {o.id: o for o in self.store.query(Objective)}

    @functools.cached_property
    def key_results(self) -> dict[str, list[KeyResult]]:
        """Key results by the objective they measure."""
        found: dict[str, list[KeyResult]] = defaultdict(list)
        for kr in self.store.query(KeyResult):
            if kr.objective in self.objectives:
                found[kr.objective].append(kr)
        return found

    @functools.cached_property
    def excuses(self) -> list[Excuse]:
        """Every excuse recorded for not letting a group in."""
        return list(self.store.query(Excuse))

    @property
    def people(self) -> list[int]:
        """Each participant's flags (external, frontline, pseudonymous bits), by index."""
        return self._facts.people

    def taking_part_nowhere(self) -> int:
        """How many recorded participants take part in no experiment at all, in any scope."""
        involved = {
            code >> 4 for facts in self._facts.experiments.values() for code in facts.participations
        }
        return len(self.people) - len(involved)

    @property
    def departments(self) -> list[str | None]:
        """Each participant's department, by the index facts use."""
        return self._facts.departments

    @property
    def measurements(self) -> dict[str, tuple[float, pendulum.DateTime, int]]:
        """The latest value of each key result, when it was measured and how many there are."""
        return self._facts.measurements

    def cycles(self) -> list[tuple[Objective, ...]]:
        """Loops of ``parent`` links among the objectives that touch the scope."""
        found = parent_cycles(self.objectives.values())
        if self.scope_objective is not None:
            scope_id = self.scope_objective.id
            found = [c for c in found if any(o.id == scope_id for o in c)]
        return found

    def refuse_cycles(self) -> None:
        """Objectives that are their own ancestors have no place in a tree: say which."""
        cycles = self.cycles()
        if cycles:
            raise ValidationError(
                "cannot roll up: " + "; and ".join(cycle_message(cycle) for cycle in cycles)
            )

    def children(self) -> dict[str | None, list[Objective]]:
        """Objectives by parent (None for the top), each list by title then id."""
        found: dict[str | None, list[Objective]] = defaultdict(list)
        for objective in sorted(self.objectives.values(), key=lambda o: (o.title, o.id)):
            parent = objective.parent if objective.parent in self.objectives else None
            found[parent].append(objective)
        return found

    # --- the scope --------------------------------------------------------------------

    @functools.cached_property
    def experiment_ids(self) -> list[str]:
        """The ids of the experiments in scope, sorted."""
        if self.scope_experiment is not None:
            return [self.scope_experiment.id]
        if self.scope_objective is None:
            return sorted(self.facts) if "facts" in self.__dict__ else self._all_ids()
        inside = subtree(self.objectives.values(), self.scope_objective.id)
        return (
            sorted(
                row["id"]
                for group in chunks(sorted(inside))
                for row in self.store.aggregate(
                    Experiment,
                    group_by=["id"],
                    measures={},
                    objectives=group,
                    pushdown=self.pushdown,
                )
            )
            if inside
            else []
        )

    def _all_ids(self) -> list[str]:
        return sorted(
            row["id"]
            for row in self.store.aggregate(
                Experiment, group_by=["id"], measures={}, pushdown=self.pushdown
            )
        )

    # --- the detail: current records of the experiments in scope ---------------------

    @functools.cached_property
    def experiments(self) -> list[Experiment]:
        """The experiments in scope, as records, by id."""
        if self.scope_experiment is not None:
            return [self.scope_experiment]
        if self.scope_objective is None:
            return list(self.store.query(Experiment))
        return [
            experiment
            for group in chunks(self.experiment_ids)
            for experiment in self.store.query(Experiment, id=group)
        ]

    @functools.cached_property
    def sprints(self) -> list[Sprint]:
        """The sprints in scope (all of them, or those its experiments belong to)."""
        if self.scope_objective is None and self.scope_experiment is None:
            return list(self.store.query(Sprint))
        wanted = sorted({e.sprint for e in self.experiments if e.sprint})
        return [s for group in chunks(wanted) for s in self.store.query(Sprint, id=group)]

    @functools.cached_property
    def phases(self) -> dict[str, list[Phase]]:
        """The phases of each sprint in scope (its process design), in order."""
        found: dict[str, list[Phase]] = defaultdict(list)
        wanted = sorted(s.id for s in self.sprints)
        for group in chunks(wanted):
            for phase in self.store.query(Phase, sprint=group):
                found[phase.sprint].append(phase)
        for phases in found.values():
            phases.sort(key=Phase.order_key)
        return found

    def learnings_of(self, experiment_ids: Iterable[str]) -> dict[str, list[Learning]]:
        """The learnings that count at the moment of a few experiments, by experiment id.

        For parts of a report that need only some experiments' learnings, whatever the
        scope: read for those ids alone, oldest first.
        """
        found: dict[str, list[Learning]] = defaultdict(list)
        for group in chunks(sorted(set(experiment_ids))):
            for learning in self.store.query(Learning, experiment=group):
                if self.reached(learning.observed_at):
                    found[learning.experiment].append(learning)
        for learnings in found.values():
            learnings.sort(key=Learning.order_key)
        return found

    def _by_experiment(self, kind: type[Any]) -> dict[str, list[Any]]:
        grouped: dict[str, list[Any]] = defaultdict(list)
        if self.scope_objective is None and self.scope_experiment is None:
            for record in self.store.query(kind):
                grouped[record.experiment].append(record)
            return grouped
        for group in chunks(self.experiment_ids):
            for record in self.store.query(kind, experiment=group):
                grouped[record.experiment].append(record)
        return grouped

    @functools.cached_property
    def hypotheses(self) -> dict[str, list[Hypothesis]]:
        """Hypotheses by experiment id."""
        return self._by_experiment(Hypothesis)

    @functools.cached_property
    def participations(self) -> dict[str, list[Participation]]:
        """Participations by experiment id."""
        return self._by_experiment(Participation)

    @functools.cached_property
    def prototypes(self) -> dict[str, list[Prototype]]:
        """Prototypes by experiment id."""
        return self._by_experiment(Prototype)

    def _counted(self, kind: type[Any], dated_by: str) -> dict[str, list[Any]]:
        """Records of ``kind`` that count at the moment, by experiment id, oldest first.

        ``dated_by`` names the time a record counts from (see ``rules.reached``); ties
        are broken by id, so every reader agrees which is the latest.
        """
        counted: dict[str, list[Any]] = {}
        for key, group in self._by_experiment(kind).items():
            kept = [r for r in group if self.reached(getattr(r, dated_by))]
            if kept:
                counted[key] = sorted(
                    kept, key=lambda r: (getattr(r, dated_by).astimezone(UTC), r.id)
                )
        return counted

    @functools.cached_property
    def learnings(self) -> dict[str, list[Learning]]:
        """Learnings that count at the moment (observed by then), by experiment id."""
        return self._counted(Learning, "observed_at")

    @functools.cached_property
    def decisions(self) -> dict[str, list[Decision]]:
        """Decisions dated up to the moment, by experiment id, oldest first."""
        return self._counted(Decision, "decided_at")

    @functools.cached_property
    def participants(self) -> dict[str, Participant]:
        """Every participant taking part in an experiment or sprint in scope, by id."""
        wanted = {p.participant for group in self.participations.values() for p in group}
        wanted |= {member for sprint in self.sprints for member in sprint.team}
        wanted |= {
            p for phases in self.phases.values() for phase in phases for p in phase.participants
        }
        return {
            p.id: p
            for group in chunks(sorted(wanted))
            for p in self.store.query(Participant, id=group)
        }

    def people_in(self, experiment: Experiment) -> Iterator[tuple[Participation, Participant]]:
        """Each participation in ``experiment`` with its participant (purged ones left out)."""
        for participation in self.participations.get(experiment.id, ()):
            person = self.participants.get(participation.participant)
            if person is not None:
                yield participation, person


class _Facts:
    """The compact layer of an :class:`AsOf`, read in one pass over the store."""

    def __init__(self, view: AsOf) -> None:
        self.view = view
        self.at = view.at
        self._at_key = utc_key(view.at)
        self._limits: dict[tuple[pendulum.Duration, int], str] = {}
        self._box_ends: dict[str, tuple[pendulum.DateTime, int] | None] = {}
        self._refs: dict[tuple[str, ...], tuple[Ref, ...]] = {}
        self.experiments: dict[str, ExperimentFacts] = {}
        # Per participant, by index: EXTERNAL | FRONTLINE | PSEUDONYMOUS bits (small ints,
        # which Python shares) and the department.
        self.people: list[int] = []
        self.departments: list[str | None] = []
        self.measurements: dict[str, tuple[float, pendulum.DateTime, int]] = {}
        self._in_force: set[str] = set()  # the ids of the decisions in force
        self._read_experiments()
        self._read_outcomes()
        self._read_next_steps()  # the ids of the decisions in force are let go here
        self._read_measurements()
        self._read_prototypes()
        self._read_scopes()
        # The people last, and dropped right after: a string and an int per person.
        index = self._read_people()
        hypotheses = self._read_hypotheses(index)
        self._read_participations(index)
        del index
        self._derive(hypotheses)

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

    # --- reading ----------------------------------------------------------------------

    def _read_people(self) -> dict[str, int]:
        """Participants: their attributes, and the index each is known by from here on."""
        index: dict[str, int] = {}
        people, departments = self.people, self.departments
        frontline = Role.FRONTLINE_EMPLOYEE.value
        for person, role, external, pseudonymous, department in self._rows(
            "participant", ["id", "role", "external", "pseudonymous", "department"]
        ):
            index[person] = len(people)
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
        at_key, experiments = self._at_key, self.experiments
        status_at, reached, intern = rules.status_at, rules.reached, sys.intern
        # Most experiments serve the same few objectives: their tuples are shared.
        shared: dict[tuple[str, ...], tuple[str, ...]] = {}
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
            known = experiments.get(experiment_id)
            if known is None:
                known = experiments[experiment_id] = ExperimentFacts(
                    experiment_id,
                    title,
                    status_at(started, concluded, decided, abandoned, at_key),
                    None if time_box is None else intern(time_box),
                    intern(started) if reached(started, at_key) else None,
                    sprint=sprint,
                )
            if objective is not None:
                linked = (*known.objectives, objective)
                known.objectives = shared.setdefault(linked, linked)

    def _read_outcomes(self) -> None:
        """Learnings and the decision in force of each experiment, as of the moment."""
        experiments = self.experiments
        for experiment_id, count in self._rows(
            "learning",
            ["experiment"],
            measures={"n": Count()},
            where=F.observed_at <= self._at_key,
        ):
            experiment = experiments.get(experiment_id)
            if experiment is not None:
                experiment.learnings = count
        for experiment_id, outcome, decision_id in self._latest(
            "decision", "experiment", ("outcome", "id"), by="decided_at"
        ):
            experiment = experiments.get(experiment_id)
            if experiment is not None and outcome is not None:
                experiment.decision = rules.decision_in_force(experiment.status, _OUTCOME[outcome])
                if experiment.decision is not None:
                    self._in_force.add(decision_id)

    def _read_hypotheses(self, index: Mapping[str, int]) -> dict[str, HypothesisFacts]:
        """Hypotheses, their status from the latest learning, and whose voices they rest on."""
        hypotheses: dict[str, HypothesisFacts] = {}
        experiments = self.experiments
        for hypothesis_id, experiment_id, statement in self._rows(
            "hypothesis", ["id", "experiment", "statement"]
        ):
            experiment = experiments.get(experiment_id)
            if experiment is not None:
                made = hypotheses[hypothesis_id] = HypothesisFacts(hypothesis_id, statement)
                experiment.hypotheses += (made,)
        on_one = F.hypothesis != None  # noqa: E711 - a learning about a hypothesis
        for hypothesis_id, verdict, evidence in self._latest(
            "learning", "hypothesis", ("verdict", "evidence"), by="observed_at", also=on_one
        ):
            hypothesis = hypotheses.get(hypothesis_id)
            if hypothesis is not None and verdict is not None:
                hypothesis.status = _STATUS_OF_VERDICT[verdict]
                hypothesis.evidence = _EVIDENCE[evidence]
        # One row per learning and person (grouped by id: a projection, without a sort);
        # a person heard in two learnings on a hypothesis counts once.
        for _, hypothesis_id, participant in self._rows(
            "learning",
            ["id", "hypothesis", "participants"],
            where=(F.observed_at <= self._at_key) & on_one,
        ):
            hypothesis = hypotheses.get(hypothesis_id)
            person = index.get(participant)
            if hypothesis is not None and person is not None and person not in hypothesis.voices:
                hypothesis.voices += (person,)
        return hypotheses

    def _read_participations(self, index: Mapping[str, int]) -> None:
        """Every participation, packed into one int on its experiment."""
        experiments = self.experiments
        if len(self.people) > _PEOPLE_IN_32_BITS:  # codes too large for four bytes
            for facts in experiments.values():
                facts.participations = array("q")
        # Grouped by id too, so that every participation is a row of its own.
        for _, experiment_id, participant, stance, involvement in self._rows(
            "participation", ["id", "experiment", "participant", "stance", "involvement"]
        ):
            experiment = experiments.get(experiment_id)
            person = index.get(participant)
            if experiment is not None and person is not None:
                experiment.participations.append(person * 16 + _LOW_CODE[stance, involvement])

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
        for experiment_id, shown in showings.items():
            experiment = self.experiments.get(experiment_id)
            first = rules.first_exposure(shown, self._at_key)
            if experiment is not None and first is not None:
                experiment.first_shown = first[1]

    def _read_scopes(self) -> None:
        """Which experiments have a planned scope."""
        for (experiment_id,) in self._rows("experiment", ["id"], where=F.scope != None):  # noqa: E711
            experiment = self.experiments.get(experiment_id)
            if experiment is not None:
                experiment.scoped = True

    def _read_next_steps(self) -> None:
        """Open and overdue next steps: of learnings that count, and of decisions in force."""
        store, at_key = self.view.store, self._at_key
        with_action = (F.next_action != None) & (F.observed_at <= at_key)  # noqa: E711
        for learning in store.query(Learning, with_action):
            experiment = self.experiments.get(learning.experiment)
            if experiment is not None and learning.next_action is not None:
                self._count_step(
                    experiment, learning.next_action, Ref(learning.id, learning.observation), 1
                )
        # Only the decisions in force (found with the outcomes) with steps are read whole.
        with_steps = (F.decided_at <= at_key) & (F.next_steps != None)  # noqa: E711 - any
        for data in store.select_data(Decision, with_steps):
            if data["id"] not in self._in_force:
                continue
            decision = from_data(data)
            assert isinstance(decision, Decision)
            experiment = self.experiments[decision.experiment]
            source = _decision_ref(decision, experiment.title)
            for number, step in enumerate(decision.next_steps, start=1):
                self._count_step(experiment, step, source, number)
        self._in_force.clear()  # needed no more

    def _count_step(
        self, experiment: ExperimentFacts, step: NextStep, source: Ref, number: int
    ) -> None:
        follow_up = self.view._follow_up(step, source, number, experiment.ref)  # noqa: SLF001
        if not follow_up.done:
            experiment.open_steps += 1
            if follow_up.overdue:
                experiment.overdue_steps += (follow_up,)

    # --- deriving ---------------------------------------------------------------------

    def _derive(self, hypotheses: Mapping[str, HypothesisFacts]) -> None:
        """What each experiment and hypothesis shows on its own, worked out once."""
        allowance = self.view.untested_after
        zones = _StartZones(self)
        for experiment in self.experiments.values():
            self._derive_overdue(experiment)
            for hypothesis in experiment.hypotheses:
                self._derive_voices(experiment, hypothesis)
                self._derive_candidate(experiment, hypothesis)
                if self._might_be_untested(experiment, hypothesis, allowance):
                    zones.wanted.append((experiment, hypothesis))
        for experiment, hypothesis, started in zones.resolve():
            deadline = rules.untested_deadline(
                experiment.status, started, hypothesis.status, allowance, self.at
            )
            if deadline is not None:
                hypothesis.untested = Untested(
                    hypothesis.ref, experiment.ref, started, days_between(deadline, self.at)
                )
        _Criteria(self, hypotheses).apply()

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

    def _derive_overdue(self, experiment: ExperimentFacts) -> None:
        text = experiment.time_box
        if experiment.status is not ExperimentStatus.RUNNING or not text:
            return
        # "start/duration"; the start's zone ("...Z[Europe/Oslo]") may hold a slash too.
        start_text, fixed, duration_text = text.rpartition("/")
        if fixed and duration_text.startswith("P"):
            # A box with its own start ends where it ends whoever runs it: worked out once
            # for all the experiments that share it.
            if text not in self._box_ends:
                self._box_ends[text] = self._anchored_overdue(start_text, duration_text)
            found = self._box_ends[text]
            if found is not None:
                experiment.overdue = Overdue(experiment.ref, *found)
            return
        box_start: pendulum.DateTime | None
        if fixed:  # not in the stored form: read in full
            box = parse_timebox(text)
            box_start, duration = box.start, box.duration
        else:
            duration = _timebox(text).duration
            if experiment.started_key is None or not self._might_pass(
                experiment.started_key, duration, zoned=True
            ):
                return
            box_start = None
        started = None if experiment.started_key is None else _moment(experiment.started_key)
        end = rules.time_box_end(box_start, duration, started)
        days = rules.overdue_days(experiment.status, end, self.at)
        if end is not None and days is not None:
            experiment.overdue = Overdue(experiment.ref, end, days)

    def _anchored_overdue(
        self, start_text: str, duration_text: str
    ) -> tuple[pendulum.DateTime, int] | None:
        """Where a box with its own start ends, and the days a running experiment in it is
        overdue at the moment; None unless it is."""
        duration = _duration(duration_text)
        zoned = len(start_text) > UTC_WIDTH
        if not self._might_pass(start_text[:UTC_WIDTH], duration, zoned=zoned):
            return None
        end = rules.time_box_end(_moment(start_text), duration, None)
        days = rules.overdue_days(ExperimentStatus.RUNNING, end, self.at)
        return None if end is None or days is None else (end, days)

    def _might_be_untested(
        self, experiment: ExperimentFacts, hypothesis: HypothesisFacts, allowance: pendulum.Duration
    ) -> bool:
        return (
            hypothesis.status is HypothesisStatus.UNTESTED
            and experiment.started_key is not None
            and experiment.status is not ExperimentStatus.ABANDONED
            and self._might_pass(experiment.started_key, allowance, zoned=True)
        )

    def _derive_voices(self, experiment: ExperimentFacts, hypothesis: HypothesisFacts) -> None:
        resting_on = hypothesis.voices
        if not resting_on:
            return
        hypothesis.voices = ()  # what they show is kept; the roll-up needs no more of them
        # The stances those people took part in this experiment with (if they did).
        stances = {(code >> 2) & 3 for code in experiment.participations if code >> 4 in resting_on}
        if len(stances) == 1:
            (only,) = stances
            hypothesis.one_sided = OneSidedEvidence(
                hypothesis.ref, experiment.ref, _STANCES[only], len(resting_on)
            )

    def _derive_candidate(self, experiment: ExperimentFacts, hypothesis: HypothesisFacts) -> None:
        if not rules.is_candidate(
            hypothesis.status, hypothesis.evidence, experiment.status, experiment.decision
        ):
            return
        assert hypothesis.evidence is not None  # is_candidate says so
        hypothesis.candidate = Candidate(
            hypothesis.ref,
            experiment.ref,
            hypothesis.evidence,
            len(experiment.participations),
            experiment.critics,
            self._served(experiment.objectives),
            experiment.decision,
        )

    def _served(self, linked: tuple[str, ...]) -> tuple[Ref, ...]:
        """The objectives an experiment serves, as candidates name them (shared, once each)."""
        served = self._refs.get(linked)
        if served is None:
            objectives = self.view.objectives
            served = self._refs[linked] = tuple(
                Ref(o, objectives[o].title) for o in sorted(set(linked)) if o in objectives
            )
        return served


class _StartZones:
    """When experiments started, in the zone they started in, for the few that need it.

    The facts keep only the UTC instant; a duration from the start counts on the
    calendar of its zone, which the time box holds when it was anchored at the start,
    and the record otherwise.
    """

    def __init__(self, facts: _Facts) -> None:
        self.facts = facts
        self.wanted: list[tuple[ExperimentFacts, HypothesisFacts]] = []

    def resolve(self) -> Iterator[tuple[ExperimentFacts, HypothesisFacts, pendulum.DateTime]]:
        known: dict[str, pendulum.DateTime] = {}
        missing: set[str] = set()
        for experiment, _ in self.wanted:
            started = self._from_box(experiment)
            if started is None:
                missing.add(experiment.id)
            else:
                known[experiment.id] = started
        store = self.facts.view.store
        for group in chunks(sorted(missing)):
            for record in store.query(Experiment, id=group, include_deleted=True):
                if record.started_at is not None:
                    known[record.id] = record.started_at
        for experiment, hypothesis in self.wanted:
            started = known.get(experiment.id)
            if started is not None:
                yield experiment, hypothesis, started

    @staticmethod
    def _from_box(experiment: ExperimentFacts) -> pendulum.DateTime | None:
        text, started = experiment.time_box, experiment.started_key
        if not text or started is None or text[:UTC_WIDTH] != started[:UTC_WIDTH]:
            return None
        start_text, fixed, _ = text.rpartition("/")
        return _moment(start_text) if fixed else None


class _Criteria:
    """Whether each candidate's success criterion is met by its latest measurement."""

    def __init__(self, facts: _Facts, hypotheses: Mapping[str, HypothesisFacts]) -> None:
        self.facts = facts
        self.candidates = {h.id: h for h in hypotheses.values() if h.candidate is not None}

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
        for hypothesis_id, (experiment_id, criterion) in criteria.items():
            hypothesis = self.candidates[hypothesis_id]
            assert hypothesis.candidate is not None
            value = values.get((experiment_id, rules.metric_key(criterion.metric)))
            hypothesis.candidate = attrs.evolve(
                hypothesis.candidate,
                criterion=str(criterion),
                measured=value,
                criterion_met=rules.criterion_met(criterion, value),
            )


def _decision_ref(decision: Decision, title: str) -> Ref:
    """A decision as findings and follow-ups name it: its experiment and its outcome."""
    return Ref(decision.id, f"{title}: {decision.outcome.value}")
