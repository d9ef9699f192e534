"""Built-in checks of the practice in depth: templates, prototypes, sprints, scope, follow-up.

Registered with the other built-in checks (:data:`experiments.checks.builtin.BUILTIN_CHECKS`);
each reads the :class:`~experiments.asof.AsOf` view and its rules, as the roll-up and
the reports do.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from experiments.checks._found import open_without
from experiments.checks._options import NUMBER_OPTION, OptionKind
from experiments.checks.base import Check, CheckContext, Finding, Severity
from experiments.model import ExperimentStatus, Fidelity
from experiments.model import asof as rules
from experiments.model.objective import subtree
from experiments.model.participant import is_external_role

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
            kind = "mandatory template" if gaps.mandatory else "template"
            yield TEMPLATE_UNSATISFIED.finding(
                f"cannot {gaps.move} as its {kind} {gaps.template.title!r} asks: it still "
                f"needs {', '.join(map(str, gaps.missing))}",
                experiment,
                severity=Severity.WARNING if gaps.mandatory else Severity.INFO,
            )


def _polished_first(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    most: Fidelity = options["max_first_fidelity"]
    for experiment in context.experiments:
        first = context.first_exposure(experiment)
        if first is not None and rules.polished_first(first[1], most):
            yield POLISHED_FIRST.finding(
                f"first showed participants a {first[1].value} (on {first[0].date()}), more "
                f"finished than a {most.value}; show something they can still change first",
                experiment,
            )


def _no_process_design(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for sprint in context.sprints:
        if not context.phases.get(sprint.id):
            yield NO_PROCESS_DESIGN.finding(
                "has no process design; add its phases and who takes part in each "
                "(`experiments add phase`, Run.phase())",
                sprint,
            )


def _no_outsider(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    people = context.participants
    for sprint in context.sprints:
        phases = context.phases.get(sprint.id, ())
        ids = {*sprint.team, *(p for phase in phases for p in phase.participants)}
        if any(people[i].external for i in ids if i in people):
            continue
        if any(is_external_role(role) for phase in phases for role in phase.roles):
            continue
        yield NO_OUTSIDER.finding(
            "has nobody from outside the organisation on its team or in its phases; "
            "invite citizens, customers or other stakeholders into the sprint",
            sprint,
        )


def _no_scope(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    yield from open_without(
        NO_SCOPE,
        context,
        "scope",
        "has no planned scope; say how many participants, sites or units and what budget "
        "it starts with (e.g. 'participants=20, sites=1')",
    )


def _too_big(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    limits = (
        ("participants", options["max_participants"], "participants"),
        ("sites", options["max_sites"], "sites or units"),
        ("budget", options["max_budget"], "budget"),
    )
    for experiment in context.experiments:
        scope = experiment.scope
        if scope is None or context.status(experiment) not in _OPEN:
            continue
        over = [
            f"{words} {getattr(scope, name):,.10g} (more than {limit:,.10g})"
            for name, limit, words in limits
            if limit and getattr(scope, name) is not None and getattr(scope, name) > limit
        ]
        if over:
            yield TOO_BIG.finding(
                f"is planned big: {'; '.join(over)}; start smaller, with a concrete part "
                "close to people's everyday life, and grow it once it works",
                experiment,
            )


def _overdue_next_step(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for experiment in context.experiments:
        for follow_up in context.follow_ups(experiment):
            if follow_up.overdue_days is None:
                continue
            step = follow_up.step
            owner = f" ({step.owner})" if step.owner else ""
            yield OVERDUE_NEXT_STEP.finding(
                f"has a next step {follow_up.overdue_days} days past its due date "
                f"{step.due}: {step.action!r}{owner}; do it, or give it a new date",
                experiment,
            )


def _untracked_next_step(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for experiment in context.experiments:
        for follow_up in context.follow_ups(experiment):
            step = follow_up.step
            if follow_up.done or step.tracked:
                continue
            lacking = " and ".join(
                word
                for word, missing in (
                    ("an owner", step.owner is None),
                    ("a due date", step.due is None),
                )
                if missing
            )
            yield UNTRACKED_NEXT_STEP.finding(
                f"has a next step without {lacking}: {step.action!r}; give it both, so that "
                "it is followed up (`experiments follow-up`)",
                experiment,
            )


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
                shown = "no measurement yet" if actual is None else f"{actual:.0%}"
                yield KEY_RESULT_BEHIND.finding(
                    f"is at {shown} where {expected:.0%} is expected by now on the way to "
                    f"its due date {key_result.due}; look at what holds it back",
                    key_result,
                )


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
NO_PROCESS_DESIGN = Check(
    "sprint/no-process-design",
    "warning",
    _SPRINT,
    "A sprint without a process design: no phases saying who takes part when.",
    _no_process_design,
)
NO_OUTSIDER = Check(
    "sprint/no-external-stakeholder",
    "warning",
    _SPRINT,
    "A sprint with nobody from outside the organisation on its team or in its phases.",
    _no_outsider,
)
NO_SCOPE = Check(
    "start-small/no-scope",
    "info",
    _THINK_BIG,
    "A planned or running experiment without a planned scope.",
    _no_scope,
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
