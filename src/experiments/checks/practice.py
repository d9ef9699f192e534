"""Built-in checks of the practice in depth: templates, prototypes, sprints, scope, follow-up.

Registered with the other built-in checks (:data:`experiments.checks.builtin.BUILTIN_CHECKS`);
each reads the :class:`~experiments.asof.AsOf` view and its rules, as the roll-up and
the reports do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from experiments.checks._found import each_found, open_without, sprints_in_scope
from experiments.checks._message import Message, Share, plural
from experiments.checks._options import NUMBER_OPTION, OptionKind
from experiments.checks.base import Check, CheckContext, Finding, Severity
from experiments.model import ExperimentStatus, Fidelity, Sprint
from experiments.model import asof as rules
from experiments.model.objective import subtree
from experiments.model.participant import is_external_role
from experiments.model.template import Move

__all__ = ["FIDELITY_OPTION", "PRACTICE_CHECKS"]

_OPEN: Final = (ExperimentStatus.PLANNED, ExperimentStatus.RUNNING)


def _fidelity(value: object) -> Fidelity:
    if isinstance(value, Fidelity):
        return value
    if not isinstance(value, str):
        raise TypeError(type(value).__name__)
    return Fidelity(value.strip().lower().replace("_", "-"))  # ValueError if it is none


#: A fidelity: ``sketch``, ``mock-up``, ``working-prototype`` or ``pilot``.
FIDELITY_OPTION: Final = OptionKind(
    _fidelity, "one of 'sketch', 'mock-up', 'working-prototype' or 'pilot'"
)


def _template_unsatisfied(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for experiment in context.experiments:
        for gaps in context.template_gaps(experiment):
            values = {"template": gaps.template.title, "missing": gaps.missing}
            if gaps.move is Move.START and gaps.mandatory:
                message = Message(
                    "cannot start as its mandatory template '%(template)s' asks: it still "
                    "needs %(missing)s",
                    **values,
                )
            elif gaps.move is Move.START:
                message = Message(
                    "cannot start as its template '%(template)s' asks: it still needs %(missing)s",
                    **values,
                )
            elif gaps.mandatory:
                message = Message(
                    "cannot conclude as its mandatory template '%(template)s' asks: it still "
                    "needs %(missing)s",
                    **values,
                )
            else:
                message = Message(
                    "cannot conclude as its template '%(template)s' asks: it still needs "
                    "%(missing)s",
                    **values,
                )
            yield TEMPLATE_UNSATISFIED.finding(
                message,
                experiment,
                severity=Severity.WARNING if gaps.mandatory else Severity.INFO,
            )


def _polished_first(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    most: Fidelity = options["max_first_fidelity"]
    for experiment in context.experiments:
        first = context.first_exposure(experiment)
        if first is not None and rules.polished_first(first[1], most):
            yield POLISHED_FIRST.finding(
                "first showed participants a %(shown)s (on %(date)s), more finished than a "
                "%(limit)s; show something they can still change first",
                experiment,
                shown=first[1],
                date=first[0],
                limit=most,
            )


def _no_outsider(context: CheckContext, sprint: Sprint) -> bool:
    """Nobody on the sprint's team or in its phases is from outside, nor invited as such."""
    people = context.participants
    phases = context.phases.get(sprint.id, ())
    ids = {*sprint.team, *(p for phase in phases for p in phase.participants)}
    if any(people[i].external for i in ids if i in people):
        return False
    return not any(is_external_role(role) for phase in phases for role in phase.roles)


def _too_big(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for experiment in context.experiments:
        scope = experiment.scope
        if scope is None or context.status(experiment) not in _OPEN:
            continue
        planned = (
            Message(
                "participants %(value)s (more than %(limit)s)",
                value=scope.participants,
                limit=options["max_participants"],
            ),
            Message(
                "sites or units %(value)s (more than %(limit)s)",
                value=scope.sites,
                limit=options["max_sites"],
            ),
            Message(
                "budget %(value)s (more than %(limit)s)",
                value=scope.budget,
                limit=options["max_budget"],
            ),
        )
        over = [
            part
            for part in planned
            if part.arguments["limit"]
            and part.arguments["value"] is not None
            and part.arguments["value"] > part.arguments["limit"]
        ]
        if over:
            yield TOO_BIG.finding(
                "is planned big: %(over)s; start smaller, with a concrete part close to "
                "people's everyday life, and grow it once it works",
                experiment,
                over=over,
            )


def _overdue_next_step(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for experiment in context.experiments:
        for follow_up in context.follow_ups(experiment):
            if follow_up.overdue_days is None:
                continue
            step = follow_up.step
            if step.owner:
                message = plural(
                    "has a next step %(count)s day past its due date %(due)s: '%(action)s' "
                    "(%(owner)s); do it, or give it a new date",
                    "has a next step %(count)s days past its due date %(due)s: '%(action)s' "
                    "(%(owner)s); do it, or give it a new date",
                    count=follow_up.overdue_days,
                    due=step.due,
                    action=step.action,
                    owner=step.owner,
                )
            else:
                message = plural(
                    "has a next step %(count)s day past its due date %(due)s: '%(action)s'; "
                    "do it, or give it a new date",
                    "has a next step %(count)s days past its due date %(due)s: '%(action)s'; "
                    "do it, or give it a new date",
                    count=follow_up.overdue_days,
                    due=step.due,
                    action=step.action,
                )
            yield OVERDUE_NEXT_STEP.finding(message, experiment)


def _untracked_next_step(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for experiment in context.experiments:
        for follow_up in context.follow_ups(experiment):
            step = follow_up.step
            if follow_up.done or step.tracked:
                continue
            if step.owner is None and step.due is None:
                message = Message(
                    "has a next step without an owner and a due date: '%(action)s'; give it "
                    "both, so that it is followed up (`experiments follow-up`)",
                    action=step.action,
                )
            elif step.owner is None:
                message = Message(
                    "has a next step without an owner: '%(action)s'; give it one, so that it "
                    "is followed up (`experiments follow-up`)",
                    action=step.action,
                )
            else:
                message = Message(
                    "has a next step without a due date: '%(action)s'; give it one, so that "
                    "it is followed up (`experiments follow-up`)",
                    action=step.action,
                )
            yield UNTRACKED_NEXT_STEP.finding(message, experiment)


def _behind(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    if context.scope_experiment is not None:
        return  # key results measure objectives: an experiment's checks leave them be
    tolerance = float(options["tolerance"])
    scope = context.scope_objective
    inside = context.objectives if scope is None else subtree(context.objectives.values(), scope.id)
    for objective_id in sorted(inside):
        for key_result in context.key_results.get(objective_id, ()):
            expected = context.expected_progress(key_result)
            actual = context.progress(key_result)
            if rules.behind_schedule(actual, expected, tolerance):
                assert expected is not None
                if actual is None:
                    message = Message(
                        "has no measurement yet where %(expected)s is expected by now on the "
                        "way to its due date %(due)s; look at what holds it back",
                        expected=Share(expected),
                        due=key_result.due,
                    )
                else:
                    message = Message(
                        "is at %(actual)s where %(expected)s is expected by now on the way to "
                        "its due date %(due)s; look at what holds it back",
                        actual=Share(actual),
                        expected=Share(expected),
                        due=key_result.due,
                    )
                yield KEY_RESULT_BEHIND.finding(message, key_result)


_TEMPLATES = "Start from the organisation's template"
_UNFINISHED = "Invite into the unfinished"
_SPRINT = "Create and sprint together"
_THINK_BIG = "Think big, start small"
_FOLLOW_UP = "Follow up on actions and results"

TEMPLATE_UNSATISFIED = Check(
    "template/unsatisfied",
    "warning",
    _TEMPLATES,
    "A planned or running experiment that lacks what its template requires for its next move.",
    _template_unsatisfied,
)
POLISHED_FIRST = Check(
    "unfinished/polished-first",
    "warning",
    _UNFINISHED,
    "The first prototype participants saw was already more finished than a limit.",
    _polished_first,
    {"max_first_fidelity": "mock-up"},
    {"max_first_fidelity": FIDELITY_OPTION},
)
NO_PROCESS_DESIGN = each_found(
    "sprint/no-process-design",
    "warning",
    _SPRINT,
    "A sprint without a process design: no phases saying who takes part when.",
    sprints_in_scope,
    lambda context, sprint: not context.phases.get(sprint.id),
    Message(
        "has no process design; add its phases and who takes part in each "
        "(`experiments add phase`, Run.phase())"
    ),
)
NO_OUTSIDER = each_found(
    "sprint/no-external-stakeholder",
    "warning",
    _SPRINT,
    "A sprint with nobody from outside the organisation on its team or in its phases.",
    sprints_in_scope,
    _no_outsider,
    Message(
        "has nobody from outside the organisation on its team or in its phases; "
        "invite citizens, customers or other stakeholders into the sprint"
    ),
)
NO_SCOPE = open_without(
    "start-small/no-scope",
    "info",
    _THINK_BIG,
    "A planned or running experiment without a planned scope.",
    "scope",
    Message(
        "has no planned scope; say how many participants, sites or units and what "
        "budget it starts with (e.g. 'participants=20, sites=1')"
    ),
)
TOO_BIG = Check(
    "start-small/too-big",
    "warning",
    _THINK_BIG,
    "A planned or running experiment whose planned scope is larger than a limit.",
    _too_big,
    {"max_participants": 50, "max_sites": 3, "max_budget": 0},
    {"max_participants": NUMBER_OPTION, "max_sites": NUMBER_OPTION, "max_budget": NUMBER_OPTION},
)
OVERDUE_NEXT_STEP = Check(
    "follow-up/overdue-next-step",
    "warning",
    _FOLLOW_UP,
    "A next step of a learning or decision past its due date and not done.",
    _overdue_next_step,
)
UNTRACKED_NEXT_STEP = Check(
    "follow-up/untracked-next-step",
    "info",
    _FOLLOW_UP,
    "A next step without an owner or a due date.",
    _untracked_next_step,
)
KEY_RESULT_BEHIND = Check(
    "follow-up/key-result-behind",
    "warning",
    _FOLLOW_UP,
    "A key result whose progress lags what its due date expects by now.",
    _behind,
    {"tolerance": 0.0},
    {"tolerance": NUMBER_OPTION},
)

#: The checks of this module, in the order they are documented.
PRACTICE_CHECKS: Final = (
    TEMPLATE_UNSATISFIED,
    POLISHED_FIRST,
    NO_PROCESS_DESIGN,
    NO_OUTSIDER,
    NO_SCOPE,
    TOO_BIG,
    OVERDUE_NEXT_STEP,
    UNTRACKED_NEXT_STEP,
    KEY_RESULT_BEHIND,
)
