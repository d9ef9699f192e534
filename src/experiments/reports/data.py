"""What a report shows: the roll-up, and the detail of each experiment read from the store.

The roll-up holds references and figures; a report also lists each experiment with its
owner, dates, hypotheses and their verdicts, learnings and decision.  :func:`gather`
reads that detail for the experiments in the roll-up's scope, current versions only
(never a record's history), a few hundred ids per query.

Participants appear in a report only through the voices a learning rests on, and then
only by :attr:`~experiments.Participant.display_name`: a pseudonymous participant is
counted everywhere but never named.  Every time is given in the time zone of the
roll-up's ``at``, and everything is as of that moment.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING

import attrs
import pendulum

from experiments._grouping import chunks
from experiments.asof import AsOf, TemplateGaps
from experiments.checks import CheckReport, Message, Severity
from experiments.maturity import GroupBy, Maturity
from experiments.maturity import of_view as maturity_of
from experiments.model import (
    AssumptionKind,
    Evidence,
    Experiment,
    ExperimentStatus,
    Fidelity,
    HypothesisStatus,
    Learning,
    NextStep,
    Outcome,
    Participant,
    Role,
    Scope,
    Stance,
    Verdict,
)
from experiments.model import asof as rules
from experiments.model.participant import departments_of
from experiments.model.small_groups import DEFAULT_MIN_GROUP
from experiments.plugins import CatalogInfo
from experiments.rollup import KeyResultProgress, ObjectiveRollup, Ref, Rollup
from experiments.vocabulary import Glossary
from experiments.vocabulary import of_view as glossary_of

if TYPE_CHECKING:
    from experiments.plugins import Plugins
    from experiments.stores import Store

__all__ = [
    "DecisionDetail",
    "ExperimentDetail",
    "HypothesisDetail",
    "LearningDetail",
    "PrototypeDetail",
    "RecordedPeople",
    "Report",
    "ReportFinding",
    "StepDetail",
    "Voice",
    "gather",
]


@attrs.frozen
class Voice:
    """Someone a learning rests on, as a report may show them.

    ``name`` is the participant's display name, or None when they are pseudonymous or
    unnamed; reports then show their role and ``number``, which tells two anonymous
    voices in one report apart without saying who they are.
    """

    role: Role
    name: str | None
    number: int | None
    external: bool
    stance: Stance | None


@attrs.frozen
class HypothesisDetail:
    """A hypothesis with where its evidence stands as of the report's moment."""

    ref: Ref
    status: HypothesisStatus
    evidence: Evidence | None
    criterion: str | None
    assumption: AssumptionKind | None


@attrs.frozen
class StepDetail:
    """A next step as of the report's moment: who, by when, done, overdue.

    ``done_at`` is when it was done, in the report's time zone, if it was done by the
    report's moment; ``overdue_days`` how many whole days it is past its due date.
    """

    action: str
    owner: str | None
    due: pendulum.Date | None
    done_at: pendulum.DateTime | None
    overdue_days: int | None

    @property
    def tracked(self) -> bool:
        """Whether it has an owner and a due date."""
        return self.owner is not None and self.due is not None


@attrs.frozen
class PrototypeDetail:
    """A prototype of an experiment: how finished it is, and when participants first saw it.

    ``shown_at`` (in the report's time zone) and ``shown_as`` are left out if it was
    first shown after the report's moment.
    """

    ref: Ref
    fidelity: Fidelity
    version: int
    shown_at: pendulum.DateTime | None
    shown_as: Fidelity | None
    link: str | None


@attrs.frozen
class LearningDetail:
    """What was observed, what it says about which hypothesis, and whose voices it rests on.

    ``next_action`` is what will be done about it, as of the report's moment.
    """

    ref: Ref
    observed_at: pendulum.DateTime
    hypothesis: str | None
    verdict: Verdict | None
    evidence: Evidence
    insight: str
    next_action: StepDetail | None
    voices: tuple[Voice, ...]


@attrs.frozen
class DecisionDetail:
    """The decision in force about an experiment as of the report's moment.

    ``revises`` is the id of the earlier decision it replaced, if it revised one.
    """

    id: str
    outcome: Outcome
    decided_at: pendulum.DateTime
    decided_by: str | None
    rationale: str
    next_steps: tuple[StepDetail, ...]
    revises: str | None = None


@attrs.frozen
class ExperimentDetail:
    """One experiment as a report lists it.

    Lifecycle times after the report's moment are left out, so that they agree with
    ``status``; ``planned_start`` and ``planned_end`` are its time box.  ``template`` is
    the template it was made from, ``template_gaps`` what its templates still need for
    its next move, ``scope`` its planned scope, ``sprint`` the sprint it belongs to,
    and ``first_shown`` the fidelity of the first prototype its participants saw.
    Who took part: ``participants`` in all, of them ``external`` from outside the
    organisation, ``frontline`` frontline employees and ``critical_voices`` with a
    critical stance; ``departments`` the organisation's own departments they came from.
    """

    ref: Ref
    slug: str | None
    objectives: tuple[Ref, ...]
    owner: str | None
    facilitators: tuple[str, ...]
    status: ExperimentStatus
    time_box_days: int | None
    planned_start: pendulum.DateTime | None
    planned_end: pendulum.DateTime | None
    started_at: pendulum.DateTime | None
    concluded_at: pendulum.DateTime | None
    decided_at: pendulum.DateTime | None
    abandoned_at: pendulum.DateTime | None
    abandon_reason: str
    participants: int
    critical_voices: int
    hypotheses: tuple[HypothesisDetail, ...]
    learnings: tuple[LearningDetail, ...]
    decision: DecisionDetail | None
    tags: tuple[str, ...]
    template: Ref | None = None
    template_gaps: tuple[TemplateGaps, ...] = ()
    scope: Scope | None = None
    sprint: Ref | None = None
    prototypes: tuple[PrototypeDetail, ...] = ()
    first_shown: Fidelity | None = None
    external: int = 0
    frontline: int = 0
    departments: tuple[str, ...] = ()

    @property
    def next_steps(self) -> tuple[StepDetail, ...]:
        """The next steps of its learnings, then those of its decision in force."""
        from_learnings = tuple(x.next_action for x in self.learnings if x.next_action)
        decided = self.decision.next_steps if self.decision is not None else ()
        return from_learnings + decided

    @property
    def verdicts(self) -> Mapping[HypothesisStatus, int]:
        """How many of its hypotheses stand where, every status present."""
        counts = Counter(h.status for h in self.hypotheses)
        return {status: counts[status] for status in HypothesisStatus}

    def statement_of(self, learning: LearningDetail) -> str | None:
        """The statement of the hypothesis a learning bears on, if it bears on one."""
        for hypothesis in self.hypotheses:
            if hypothesis.ref.id == learning.hypothesis:
                return hypothesis.ref.title
        return None


@attrs.frozen
class ReportFinding:
    """A check's finding with what the check is about, so a report can explain it.

    ``wording`` is the finding's message id and values (None for a finding made with
    an English ``message`` alone); ``catalogs`` the gettext catalogs the plugin of the
    check registered, in which reports look its words up before the library's own.
    """

    check: str
    severity: Severity
    message: str
    concerns: tuple[Ref, ...]
    summary: str
    move: str
    plugin: str
    wording: Message | None = None
    catalogs: tuple[CatalogInfo, ...] = ()


@attrs.frozen
class RecordedPeople:
    """Everyone recorded as a participant, beside those a report counts as taking part.

    ``recorded`` participants are in the store; ``in_no_experiment`` of them take part
    in no experiment at all, and ``only_elsewhere`` only in experiments outside the
    report's scope.  With the scope's participants they add up to ``recorded``.
    """

    recorded: int
    in_no_experiment: int
    only_elsewhere: int


@attrs.frozen
class Report:
    """Everything one report shows, in every format and language alike.

    ``findings`` is None when no checks were run (reports then leave the section
    out), and empty when the checks found nothing.  ``maturity`` is the maturity
    analysis of the scope (every figure through the small-group rule) and ``glossary``
    the terms the scope uses; None in a report made without them.  ``recorded`` says how
    many participants are recorded beside those taking part in the scope.
    """

    rollup: Rollup
    experiments: tuple[ExperimentDetail, ...]
    findings: tuple[ReportFinding, ...] | None = None
    maturity: Maturity | None = None
    glossary: Glossary | None = None
    recorded: RecordedPeople | None = None

    @property
    def at(self) -> pendulum.DateTime:
        return self.rollup.at

    @property
    def scope(self) -> Ref | None:
        """The objective reported on, or None for the whole strategy."""
        return self.rollup.scope

    @property
    def progress(self) -> float | None:
        """The objective's progress; None for the whole strategy or without data."""
        return self.rollup.objectives[0].progress if self.scope is not None else None

    def objectives(self) -> Iterator[tuple[int, ObjectiveRollup]]:
        """Every objective in the report with its depth in the tree, depth first."""

        def walk(node: ObjectiveRollup, depth: int) -> Iterator[tuple[int, ObjectiveRollup]]:
            yield depth, node
            for child in node.children:
                yield from walk(child, depth + 1)

        for top in self.rollup.objectives:
            yield from walk(top, 0)

    def key_results(self) -> list[tuple[Ref, KeyResultProgress]]:
        """Every key result in the report with the objective it measures."""
        return [
            (Ref(node.objective.id, node.objective.title), progress)
            for _, node in self.objectives()
            for progress in node.key_results
        ]


# --- gathering ------------------------------------------------------------------------


class _Reader:
    """Reads the detail of the experiments in scope from the view, in one time zone."""

    def __init__(self, view: AsOf, result: Rollup) -> None:
        self.view = view
        self.at = result.at
        self.zone = result.at.timezone or pendulum.UTC
        self.objective_titles = {
            node.objective.id: node.objective.title
            for top in result.objectives
            for node in top.walk()
        }

    def local(self, moment: pendulum.DateTime | None) -> pendulum.DateTime | None:
        """The moment in the report's time zone, or None if it lies after the report's."""
        if not self.view.reached(moment):
            return None
        assert moment is not None
        return moment.in_timezone(self.zone)

    def objectives_of(self, experiments: Iterable[Experiment]) -> dict[str, str]:
        """Titles of every objective the experiments serve, in the scope or not."""
        titles = dict(self.objective_titles)
        titles.update((o.id, o.title) for o in self.view.objectives.values() if o.id not in titles)
        return titles

    def counts(self, experiment: Experiment) -> tuple[int, int]:
        """(participants, critical voices) of an experiment."""
        taking_part = self.view.participations.get(experiment.id, ())
        critical = sum(1 for p in taking_part if p.stance is Stance.CRITICAL)
        return len(taking_part), critical

    def who(self, experiment: Experiment) -> tuple[int, int, tuple[str, ...]]:
        """(external, frontline, departments) of the people taking part in an experiment."""
        people = [person for _, person in self.view.people_in(experiment)]
        external = sum(1 for person in people if person.external)
        frontline = sum(1 for person in people if person.role is Role.FRONTLINE_EMPLOYEE)
        return external, frontline, tuple(sorted(departments_of(people)))

    def voices(self) -> dict[tuple[str, str], Voice]:
        """Each (experiment, participant) a learning rests on, as a report may show them."""
        view = self.view
        learnings = [x for group in view.learnings.values() for x in group]
        wanted = {(x.experiment, p) for x in learnings for p in x.participants}
        people = dict(view.participants)
        missing = sorted({p for _, p in wanted} - set(people))
        for chunk in chunks(missing):
            people.update((p.id, p) for p in view.store.query(Participant, id=chunk))
        stances = {
            (p.experiment, p.participant): p.stance
            for group in view.participations.values()
            for p in group
        }
        anonymous = sorted(p.id for p in people.values() if p.display_name != p.name)
        numbers = {person: n for n, person in enumerate(anonymous, start=1)}
        voices = {}
        for key in wanted:
            person = people.get(key[1])
            if person is None:
                continue  # purged: nothing left to show
            shown = person.display_name
            voices[key] = Voice(
                role=person.role,
                name=shown if shown == person.name else None,
                number=numbers.get(person.id),
                external=person.external,
                stance=stances.get(key),
            )
        return voices

    def hypotheses(self, experiment: Experiment) -> tuple[HypothesisDetail, ...]:
        """The experiment's hypotheses, by statement, with where their evidence stands."""
        view = self.view
        learned = view.learnings.get(experiment.id, [])
        details = []
        for hypothesis in sorted(
            view.hypotheses.get(experiment.id, ()), key=lambda h: (h.statement, h.id)
        ):
            on_it = [x for x in learned if x.hypothesis == hypothesis.id and x.verdict]
            details.append(
                HypothesisDetail(
                    ref=Ref(hypothesis.id, hypothesis.statement),
                    status=view.hypothesis_status(hypothesis),
                    evidence=on_it[-1].evidence if on_it else None,
                    criterion=None if hypothesis.criterion is None else str(hypothesis.criterion),
                    assumption=hypothesis.assumption,
                )
            )
        return tuple(details)

    def learnings(
        self, experiment: Experiment, voices: Mapping[tuple[str, str], Voice]
    ) -> tuple[LearningDetail, ...]:
        """The learnings that count at the moment, oldest first, with whose voices they rest on."""

        def heard(learning: Learning) -> tuple[Voice, ...]:
            keys = [(experiment.id, p) for p in learning.participants]
            found = [voices[key] for key in keys if key in voices]
            return tuple(
                sorted(
                    found, key=lambda v: (v.name is None, v.name or "", v.role.value, v.number or 0)
                )
            )

        return tuple(
            LearningDetail(
                ref=Ref(x.id, x.observation),
                observed_at=x.observed_at.in_timezone(self.zone),
                hypothesis=x.hypothesis,
                verdict=x.verdict,
                evidence=x.evidence,
                insight=x.insight,
                next_action=None if x.next_action is None else self.step(x.next_action),
                voices=heard(x),
            )
            for x in self.view.learnings.get(experiment.id, [])
        )

    def step(self, step: NextStep) -> StepDetail:
        """A next step as of the report's moment, in the report's time zone."""
        return StepDetail(
            action=step.action,
            owner=step.owner,
            due=step.due,
            done_at=self.local(step.done_at),
            overdue_days=rules.step_overdue_days(step.due, step.done_at, self.at),
        )

    def prototypes(self, experiment: Experiment) -> tuple[PrototypeDetail, ...]:
        """The experiment's prototypes: those shown first, by when, then by title."""
        found = [
            PrototypeDetail(
                ref=Ref(p.id, p.title),
                fidelity=p.fidelity,
                version=p.version,
                shown_at=self.local(p.shown_at),
                shown_as=p.shown_as if self.view.reached(p.shown_at) else None,
                link=p.link,
            )
            for p in self.view.prototypes.get(experiment.id, ())
        ]
        return tuple(
            sorted(
                found,
                key=lambda p: (
                    p.shown_at is None,
                    p.shown_at.in_timezone(pendulum.UTC) if p.shown_at else pendulum.DateTime.min,
                    p.ref.title,
                    p.ref.id,
                ),
            )
        )

    def decision(self, experiment: Experiment) -> DecisionDetail | None:
        """The decision in force about the experiment at the moment, if any."""
        decision = self.view.decision(experiment)
        if decision is None:
            return None
        return DecisionDetail(
            id=decision.id,
            outcome=decision.outcome,
            decided_at=decision.decided_at.in_timezone(self.zone),
            decided_by=decision.decided_by,
            rationale=decision.rationale,
            next_steps=tuple(self.step(step) for step in decision.next_steps),
            revises=decision.revises,
        )

    def planned(
        self, experiment: Experiment
    ) -> tuple[pendulum.DateTime | None, pendulum.DateTime | None]:
        """Where the time box starts and ends (a bare length runs from the start).

        Both are in the zone whose calendar the box counts on, its start's, so that its
        days are counted as it was made (:func:`~experiments.model.asof.days_covered`).
        """
        box = experiment.time_box
        if box is None:
            return None, None
        start = box.start
        if start is None and self.view.reached(experiment.started_at):
            start = experiment.started_at
        if start is None:
            return None, None
        end = self.view.time_box_end(experiment)
        return start, None if end is None else end.in_timezone(start.timezone or self.zone)

    def detail(
        self,
        experiment: Experiment,
        titles: Mapping[str, str],
        voices: Mapping[tuple[str, str], Voice],
    ) -> ExperimentDetail:
        box = experiment.time_box
        planned_start, planned_end = self.planned(experiment)
        participants, critical = self.counts(experiment)
        external, frontline, departments = self.who(experiment)
        objectives = (Ref(o, titles[o]) for o in experiment.objectives if o in titles)
        template = self.view.templates.get(experiment.template or "")
        sprint = next((s for s in self.view.sprints if s.id == experiment.sprint), None)
        first = self.view.first_exposure(experiment)
        return ExperimentDetail(
            ref=Ref(experiment.id, experiment.title),
            slug=experiment.slug,
            objectives=tuple(sorted(objectives, key=lambda r: (r.title, r.id))),
            owner=experiment.owner,
            facilitators=experiment.facilitators,
            status=self.view.status(experiment),
            time_box_days=None if box is None else box.duration.in_days(),
            planned_start=planned_start,
            planned_end=planned_end,
            started_at=self.local(experiment.started_at),
            concluded_at=self.local(experiment.concluded_at),
            decided_at=self.local(experiment.decided_at),
            abandoned_at=self.local(experiment.abandoned_at),
            abandon_reason=experiment.abandon_reason if experiment.abandoned_at else "",
            participants=participants,
            critical_voices=critical,
            hypotheses=self.hypotheses(experiment),
            learnings=self.learnings(experiment, voices),
            decision=self.decision(experiment),
            tags=tuple(sorted(experiment.tags)),
            template=None if template is None else Ref(template.id, template.title),
            template_gaps=tuple(self.view.template_gaps(experiment)),
            scope=experiment.scope,
            sprint=None if sprint is None else Ref(sprint.id, sprint.title),
            prototypes=self.prototypes(experiment),
            first_shown=None if first is None else first[1],
            external=external,
            frontline=frontline,
            departments=departments,
        )


def _findings(checks: CheckReport, plugins: Plugins) -> tuple[ReportFinding, ...]:
    registry = plugins.checks()
    catalogs: dict[str, list[CatalogInfo]] = {}
    for catalog in plugins.catalogs().values():
        catalogs.setdefault(catalog.plugin, []).append(catalog)
    findings = []
    for finding in checks.findings:
        registered = registry.get(finding.check)
        findings.append(
            ReportFinding(
                check=finding.check,
                severity=finding.severity,
                message=finding.message,
                concerns=finding.concerns,
                summary="" if registered is None else registered.check.summary,
                move="" if registered is None else registered.check.move,
                plugin=finding.plugin,
                wording=finding.wording,
                catalogs=tuple(catalogs.get(finding.plugin, ())),
            )
        )
    return tuple(findings)


def gather(
    store: Store,
    result: Rollup,
    checks: CheckReport | None = None,
    *,
    plugins: Plugins | None = None,
    group_by: GroupBy | str = GroupBy.DEPARTMENT,
    min_group_size: int = DEFAULT_MIN_GROUP,
) -> Report:
    """Read what a report of ``result`` shows beyond the roll-up itself.

    The detail comes from the :class:`~experiments.asof.AsOf` view the roll-up was summed
    over (or a view of the same scope and moment, for a roll-up made without one), so the
    report, the roll-up and the checks of one view agree and read the store once.

    Args:
        store: the store the roll-up was computed from.
        result: the roll-up of one objective or of the whole strategy; the report lists
            the experiments in its scope, as of its ``at``.
        checks: what :func:`~experiments.checks.run_checks` found, or None to leave the
            findings out.
        plugins: where to look up the checks' summaries (default: the store's).
        group_by: how the maturity analysis groups respondents: ``"department"``,
            ``"level"`` or ``"department-and-level"``.
        min_group_size: the fewest respondents a group's figures are shown for
            (default 3); see :func:`experiments.maturity.analyse`.
    """
    with store.reading():
        return _gathered(store, result, checks, plugins, group_by, min_group_size)


def _gathered(
    store: Store,
    result: Rollup,
    checks: CheckReport | None,
    plugins: Plugins | None,
    group_by: GroupBy | str,
    min_group_size: int,
) -> Report:
    view = result.view
    if view is None or view.store is not store:
        scope = None if result.scope is None else result.scope.id
        view = AsOf(store, objective=scope, at=result.at)
    reader = _Reader(view, result)
    experiments = view.experiments
    titles = reader.objectives_of(experiments)
    voices = reader.voices()
    details = [reader.detail(experiment, titles, voices) for experiment in experiments]
    details.sort(key=lambda d: (d.ref.title, d.ref.id))
    return Report(
        rollup=result,
        experiments=tuple(details),
        findings=None if checks is None else _findings(checks, plugins or store.plugins),
        maturity=maturity_of(view, group_by=group_by, min_group_size=min_group_size),
        glossary=glossary_of(view),
        recorded=_recorded(view, result.total.involvement.participants),
    )


def _recorded(view: AsOf, taking_part: int) -> RecordedPeople:
    recorded = len(view.people)
    idle = view.taking_part_nowhere()
    return RecordedPeople(recorded, idle, max(recorded - idle - taking_part, 0))
