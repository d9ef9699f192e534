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

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import attrs
import pendulum

from experiments._cached import cached_property
from experiments._facts import ExperimentFacts, Facts, FactsById, HypothesisFacts, decision_ref
from experiments._findings import Candidate, FollowUp, OneSidedEvidence, Overdue, Untested
from experiments._grouping import chunks
from experiments._packing import PERSON_SHIFT
from experiments.errors import ValidationError
from experiments.model import asof as rules
from experiments.model._time import (
    UTC,
    DateTimeLike,
    DurationLike,
    argument,
    parse_datetime,
    parse_duration,
    utc_key,
)
from experiments.model.excuse import Excuse
from experiments.model.experiment import Decision, Experiment
from experiments.model.hypothesis import Hypothesis, HypothesisStatus
from experiments.model.learning import Learning
from experiments.model.lifecycle import ExperimentStatus
from experiments.model.next_step import NextStep
from experiments.model.objective import KeyResult, Objective, cycle_message, parent_cycles, subtree
from experiments.model.participant import Participant, Participation
from experiments.model.phase import Phase
from experiments.model.prototype import Fidelity, Prototype
from experiments.model.sprint import Sprint
from experiments.model.template import Gap, Move, Template, next_move, templates_for
from experiments.query import F, Latest, Max
from experiments.refs import Ref

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = [
    "DEFAULT_UNTESTED_AFTER",
    "AsOf",
    "Candidate",
    "ExperimentFacts",
    "FollowUp",
    "HypothesisFacts",
    "OneSidedEvidence",
    "Overdue",
    "TemplateGaps",
    "Untested",
]

#: How long a started experiment's hypothesis may stay untested before it is flagged.
DEFAULT_UNTESTED_AFTER: Final = "P30D"


@attrs.frozen
class TemplateGaps:
    """What a template still needs before an experiment may make its next move."""

    template: Ref
    mandatory: bool
    move: Move
    missing: tuple[Gap, ...]


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
            columns = self._facts.experiments
            place = columns.place(experiment)
            if place is not None:
                return columns.status[place]
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

    @cached_property
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
            source = decision_ref(decision, experiment.title)
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

    @cached_property
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

    @cached_property
    def facts(self) -> Mapping[str, ExperimentFacts]:
        """Every experiment's facts by id, for the whole store, which the roll-up's tree needs.

        Each :class:`ExperimentFacts` is made when it is asked for; the roll-up reads
        the columns behind them.
        """
        return FactsById(self._facts)

    @cached_property
    def _facts(self) -> Facts:
        return Facts(self)

    @property
    def objectives(self) -> dict[str, Objective]:
        """Every objective in the store, by id (deleted ones left out)."""
        return self._objectives

    @cached_property
    def _objectives(self) -> dict[str, Objective]:
        return {o.id: o for o in self.store.query(Objective)}

    @cached_property
    def key_results(self) -> dict[str, list[KeyResult]]:
        """Key results by the objective they measure."""
        found: dict[str, list[KeyResult]] = defaultdict(list)
        for kr in self.store.query(KeyResult):
            if kr.objective in self.objectives:
                found[kr.objective].append(kr)
        return found

    @cached_property
    def excuses(self) -> list[Excuse]:
        """Every excuse recorded for not letting a group in."""
        return list(self.store.query(Excuse))

    @property
    def people(self) -> list[int]:
        """Each participant's flags (external, frontline, pseudonymous bits), by index."""
        return self._facts.people

    def taking_part_nowhere(self) -> int:
        """How many recorded participants take part in no experiment at all, in any scope."""
        codes = self._facts.experiments.participations.values
        involved = {code >> PERSON_SHIFT for code in codes}
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

    @cached_property
    def experiment_ids(self) -> list[str]:
        """The ids of the experiments in scope, sorted."""
        if self.scope_experiment is not None:
            return [self.scope_experiment.id]
        if self.scope_objective is None:
            if "_facts" in self.__dict__:  # read already: every experiment, in id order
                return list(self._facts.experiments.ids)
            return self._all_ids()
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

    @cached_property
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

    @cached_property
    def sprints(self) -> list[Sprint]:
        """The sprints in scope (all of them, or those its experiments belong to)."""
        if self.scope_objective is None and self.scope_experiment is None:
            return list(self.store.query(Sprint))
        wanted = sorted({e.sprint for e in self.experiments if e.sprint})
        return [s for group in chunks(wanted) for s in self.store.query(Sprint, id=group)]

    @cached_property
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

    @cached_property
    def hypotheses(self) -> dict[str, list[Hypothesis]]:
        """Hypotheses by experiment id."""
        return self._by_experiment(Hypothesis)

    @cached_property
    def participations(self) -> dict[str, list[Participation]]:
        """Participations by experiment id."""
        return self._by_experiment(Participation)

    @cached_property
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

    @cached_property
    def learnings(self) -> dict[str, list[Learning]]:
        """Learnings that count at the moment (observed by then), by experiment id."""
        return self._counted(Learning, "observed_at")

    @cached_property
    def decisions(self) -> dict[str, list[Decision]]:
        """Decisions dated up to the moment, by experiment id, oldest first."""
        return self._counted(Decision, "decided_at")

    @cached_property
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
