"""The built-in checks: the five brave moves as rules, registered like any plugin's."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, Final

import pendulum

from experiments.checks._found import (
    each_found,
    experiments_in_scope,
    open_without,
    sprints_in_scope,
)
from experiments.checks._mental_models import MENTAL_MODEL_CHECKS
from experiments.checks._message import Message, plural
from experiments.checks._options import DURATION_OPTION, OPTIONAL_BOOLEAN_OPTION
from experiments.checks.base import Check, CheckContext, Finding, Severity
from experiments.checks.practice import PRACTICE_CHECKS
from experiments.model import (
    Experiment,
    ExperimentStatus,
    HypothesisStatus,
    Participant,
    Participation,
    Role,
    Stance,
)
from experiments.model._time import days_between
from experiments.model.asof import (
    consent_in_force,
    consent_withdrawn,
    longer_than,
    retention_passed,
)
from experiments.model.participant import departments_of
from experiments.plugins import hookimpl
from experiments.stores._keys import REQUIRE_CONSENT, setting_flag

if TYPE_CHECKING:
    from experiments.hookspecs import RegisterCheck

__all__ = ["BUILTIN_CHECKS"]

_PLANNED, _RUNNING = ExperimentStatus.PLANNED, ExperimentStatus.RUNNING
_CONCLUDED, _DECIDED = ExperimentStatus.CONCLUDED, ExperimentStatus.DECIDED
_OPEN: Final = (_PLANNED, _RUNNING)
_ALIVE: Final = (_PLANNED, _RUNNING, _CONCLUDED, _DECIDED)
_DONE: Final = (_CONCLUDED, _DECIDED)


def _no_objective(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    # As in the roll-up: a link to an objective that is deleted or was never stored
    # rolls nothing up, so an experiment with only such links is unlinked.
    for experiment in context.experiments:
        if context.status(experiment) not in _ALIVE:
            continue
        if any(o in context.objectives for o in experiment.objectives):
            continue
        if experiment.objectives:
            message = Message(
                "is linked only to objectives that are deleted or not in the store "
                "(%(objectives)s); link it to the strategy objective it serves so its "
                "learning rolls up",
                objectives=experiment.objectives,
            )
        else:
            message = Message(
                "is linked to no objective; link it to the strategy objective it serves "
                "so its learning rolls up"
            )
        yield NO_OBJECTIVE.finding(message, experiment)


def _long_time_box(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    limit: pendulum.Duration = options["max"]  # read by DURATION_OPTION
    for experiment in context.experiments:
        box = experiment.time_box
        if box is None or context.status(experiment) not in _OPEN:
            continue
        anchor = box.start or experiment.started_at or experiment.created_at
        if longer_than(anchor, box.duration, limit):
            yield LONG_TIME_BOX.finding(
                "is time-boxed to %(length)s, longer than %(limit)s; cut it into smaller "
                "experiments that each end in a decision",
                experiment,
                length=box.duration,
                limit=limit,
            )


def _missing_voice(
    check_id: str,
    move: str,
    summary: str,
    message: Message,
    heard: Callable[[Participation, Participant], bool],
) -> Check:
    """A check finding each experiment in which nobody taking part is ``heard``."""

    def found(context: CheckContext, experiment: Experiment) -> bool:
        alive = context.status(experiment) in _ALIVE
        return alive and not any(heard(*part) for part in context.people_in(experiment))

    return each_found(check_id, "warning", move, summary, experiments_in_scope, found, message)


def _no_prototype_shown(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for experiment in context.experiments:
        status = context.status(experiment)
        if status not in (_RUNNING, *_DONE):
            continue
        by = experiment.concluded_at if status in _DONE else None
        if context.first_exposure(experiment, by=by) is not None:
            continue
        if status is _RUNNING:
            yield NO_PROTOTYPE.finding(
                "has shown no prototype to participants yet; show them something unfinished "
                "before concluding",
                experiment,
                severity=Severity.INFO,
            )
        else:
            yield NO_PROTOTYPE.finding(
                "was concluded without showing participants a prototype; next time invite "
                "them into the unfinished, while it can still change",
                experiment,
            )


def _one_department(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for sprint in context.sprints:
        members = [context.participants[m] for m in sprint.team if m in context.participants]
        departments = departments_of(members)
        if len(departments) >= 2:  # noqa: PLR2004 - "across silos" means at least two
            continue
        if departments:
            message = Message(
                "has a team from only %(department)s; add people from other departments, "
                "levels and functions, and from outside",
                department=next(iter(departments)),
            )
        else:
            message = Message(
                "has a team from no named department; add people from other departments, "
                "levels and functions, and from outside"
            )
        yield ONE_DEPARTMENT.finding(message, sprint)


def _no_decision(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    grace: pendulum.Duration = options["grace"]  # read by DURATION_OPTION
    for experiment in context.experiments:
        if experiment.concluded_at is None or not context.awaits_decision(experiment, grace):
            continue
        yield NO_DECISION.finding(
            plural(
                "was concluded %(count)s day ago without a decision; decide to scale it up, "
                "iterate, pivot or stop",
                "was concluded %(count)s days ago without a decision; decide to scale it up, "
                "iterate, pivot or stop",
                count=days_between(experiment.concluded_at, context.at),
            ),
            experiment,
        )


def _overdue(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    grace: pendulum.Duration = options["grace"]  # read by DURATION_OPTION
    for experiment in context.experiments:
        days = context.overdue_days(experiment, grace)
        if days is not None:
            yield OVERDUE.finding(
                plural(
                    "is still running %(count)s day after its time box ended; conclude it, "
                    "or abandon it, and follow up on what was learned",
                    "is still running %(count)s days after its time box ended; conclude it, "
                    "or abandon it, and follow up on what was learned",
                    count=days,
                ),
                experiment,
            )


def _criterion_not_met(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for experiment in context.experiments:
        if context.status(experiment) is ExperimentStatus.ABANDONED:
            continue
        for hypothesis in context.hypotheses.get(experiment.id, ()):
            if context.hypothesis_status(hypothesis) is not HypothesisStatus.SUPPORTED:
                continue
            if context.criterion_met(hypothesis) is not False:
                continue
            value = context.criterion_value(hypothesis)
            yield CRITERION_NOT_MET.finding(
                "is judged supported, but its criterion '%(criterion)s' is not met by the "
                "latest measurement (%(value)s); look again before magnifying it, or record "
                "the learning that says what the measurements miss",
                hypothesis,
                criterion=hypothesis.criterion,
                value=value,
            )


def _taking_part(context: CheckContext) -> Iterator[tuple[Experiment, Participant]]:
    """Each alive experiment in scope with each person taking part, erased ones left out."""
    for experiment in context.experiments:
        if context.status(experiment) not in _ALIVE:
            continue
        for _, person in context.people_in(experiment):
            if not person.metadata.get("erased"):
                yield experiment, person


def _consent_missing(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    required = options["external"]
    if required is None:  # the store says, as `experiments settings` set it
        required = setting_flag(context.store.configuration()[REQUIRE_CONSENT])
    if not required:
        return
    for experiment, person in _taking_part(context):
        if person.external and person.consent is None:
            yield CONSENT_MISSING.finding(
                "takes part without recorded consent, which this programme requires of "
                "external participants; record it (Participant.consent) or take them out",
                person,
                experiment,
            )


def _once_each(
    check_id: str,
    summary: str,
    due: Callable[[Participant, pendulum.DateTime], bool],
    message: Message,
) -> Check:
    """A check of privacy finding each person taking part who is ``due`` at the moment, once."""

    def found(context: CheckContext, person: Participant) -> bool:
        return due(person, context.at)

    return each_found(check_id, "error", _PRIVACY, summary, _people_taking_part, found, message)


def _people_taking_part(context: CheckContext) -> Iterator[Participant]:
    """Each person taking part in an experiment in scope, once, as first met."""
    seen: set[str] = set()
    for _, person in _taking_part(context):
        if person.id not in seen:
            seen.add(person.id)
            yield person


def _consent_other_purpose(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
    for experiment, person in _taking_part(context):
        consent = person.consent
        if consent is None or not consent_in_force(consent, context.at):
            continue
        names = [experiment.id, experiment.slug or "", *experiment.tags]
        for objective_id in experiment.objectives:
            objective = context.objectives.get(objective_id)
            names += [objective_id, (objective.slug or "") if objective else ""]
        if not consent.covers(names):
            yield CONSENT_OTHER_PURPOSE.finding(
                "consented to '%(purpose)s', not to this experiment; ask for their consent "
                "to it, or take them out of it",
                person,
                experiment,
                purpose=consent.purpose,
            )


_THINK_BIG = "Think big, start small"
_UNFINISHED = "Invite into the unfinished"
_ENGINE_ROOM = "Let customers and citizens into the engine room"
_FRONTLINE = "Involve frontline employees"
_SPRINT = "Create and sprint together"
_FOLLOW_UP = "Follow up on actions and results"
_MAGNIFY = "Find and magnify what works"
_PRIVACY = "Respect the people let in"

NO_OBJECTIVE = Check(
    "think-big/no-objective",
    "warning",
    _THINK_BIG,
    "An experiment linked to no strategy objective.",
    _no_objective,
)
NO_TIME_BOX = open_without(
    "start-small/no-time-box",
    "warning",
    _THINK_BIG,
    "A planned or running experiment without a time box.",
    "time_box",
    Message(
        "has no time box; give it one (e.g. 'P4W') so that it stays small and ends in a decision"
    ),
)
LONG_TIME_BOX = Check(
    "start-small/long-time-box",
    "warning",
    _THINK_BIG,
    "A planned or running experiment time-boxed to longer than a limit.",
    _long_time_box,
    {"max": "P12W"},
    {"max": DURATION_OPTION},
)
NO_EXTERNAL = _missing_voice(
    "engine-room/no-external",
    _ENGINE_ROOM,
    "An experiment with no external participant (citizen, customer, user, partner ...).",
    Message(
        "has no citizen, customer, user or other external participant taking part; invite "
        "the people it is for into the engine room"
    ),
    lambda _, person: person.external,
)
NO_CRITICAL = _missing_voice(
    "engine-room/no-critical-voice",
    _ENGINE_ROOM,
    "An experiment in which nobody took a critical stance.",
    Message(
        "has no critical voice taking part; invite someone who is sceptical of the idea, "
        "not only those who like it"
    ),
    lambda participation, _: participation.stance is Stance.CRITICAL,
)
NO_FRONTLINE = _missing_voice(
    "frontline/no-frontline",
    _FRONTLINE,
    "An experiment with no frontline employee taking part.",
    Message(
        "has no frontline employee taking part; involve the staff who meet the citizens "
        "and customers every day"
    ),
    lambda _, person: person.role is Role.FRONTLINE_EMPLOYEE,
)
NO_PROTOTYPE = Check(
    "unfinished/no-prototype-shown",
    "warning",
    _UNFINISHED,
    "No prototype shown to participants before the experiment concluded.",
    _no_prototype_shown,
)
NO_FACILITATOR = each_found(
    "sprint/no-facilitator",
    "warning",
    _SPRINT,
    "A sprint without a named facilitator.",
    sprints_in_scope,
    lambda _, sprint: not sprint.facilitators,
    Message("has no facilitator; name who runs the process and decides who is involved when"),
)
ONE_DEPARTMENT = Check(
    "sprint/single-department",
    "warning",
    _SPRINT,
    "A sprint whose team comes from one department (or none named).",
    _one_department,
)
NO_LEARNING = each_found(
    "follow-up/no-learning",
    "warning",
    _FOLLOW_UP,
    "A concluded experiment without a learning.",
    experiments_in_scope,
    lambda context, experiment: context.concluded_without_learning(experiment),
    Message("was concluded without a learning; write down what was observed and learned"),
)
NO_DECISION = Check(
    "follow-up/no-decision",
    "warning",
    _FOLLOW_UP,
    "A concluded experiment still without a decision after a grace period.",
    _no_decision,
    {"grace": "P14D"},
    {"grace": DURATION_OPTION},
)
OVERDUE = Check(
    "follow-up/overdue",
    "error",
    _FOLLOW_UP,
    "An experiment still running after its time box ended.",
    _overdue,
    {"grace": "P0D"},
    {"grace": DURATION_OPTION},
)

CRITERION_NOT_MET = Check(
    "magnify/criterion-not-met",
    "warning",
    _MAGNIFY,
    "A hypothesis judged supported whose criterion its latest measurement does not meet.",
    _criterion_not_met,
)

CONSENT_MISSING = Check(
    "privacy/consent-missing",
    "warning",
    _PRIVACY,
    "An external participant taking part without recorded consent, where the programme "
    "requires it (option external; by default the store's setting "
    "require-consent-for-external, off unless set).",
    _consent_missing,
    {"external": None},
    {"external": OPTIONAL_BOOLEAN_OPTION},
)
CONSENT_WITHDRAWN = _once_each(
    "privacy/consent-withdrawn",
    "A participant who withdrew their consent and is not erased.",
    lambda person, at: consent_withdrawn(person.consent, at),
    Message(
        "withdrew their consent; erase their personal data (`experiments erase --due`), "
        "which keeps the counts"
    ),
)
CONSENT_OTHER_PURPOSE = Check(
    "privacy/consent-other-purpose",
    "warning",
    _PRIVACY,
    "A participant whose consent is for another purpose than an experiment they take "
    "part in (its slug or id, an objective's, or one of its tags).",
    _consent_other_purpose,
)
RETENTION_PASSED = _once_each(
    "privacy/retention-passed",
    "A participant kept past their retention period and not erased.",
    lambda person, at: retention_passed(person.created_at, person.retention, at),
    Message(
        "is kept past their retention period; erase their personal data (`experiments "
        "erase --due`), which keeps the counts"
    ),
)

#: Every built-in check, in the order they are documented.
BUILTIN_CHECKS: Final = (
    NO_OBJECTIVE,
    NO_TIME_BOX,
    LONG_TIME_BOX,
    NO_EXTERNAL,
    NO_CRITICAL,
    NO_FRONTLINE,
    NO_PROTOTYPE,
    NO_FACILITATOR,
    ONE_DEPARTMENT,
    NO_LEARNING,
    NO_DECISION,
    OVERDUE,
    CRITERION_NOT_MET,
    CONSENT_MISSING,
    CONSENT_WITHDRAWN,
    CONSENT_OTHER_PURPOSE,
    RETENTION_PASSED,
    *PRACTICE_CHECKS,
    *MENTAL_MODEL_CHECKS,
)


@hookimpl
def register_checks(register: RegisterCheck) -> None:
    for check in BUILTIN_CHECKS:
        register(check)
