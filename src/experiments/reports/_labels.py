"""The words reports use for the model's values, as messages for the gettext catalogs.

Each value is a (context, message) pair looked up with ``pgettext``: "running" the
status and "running" anything else can then be translated differently.  ``N_`` only
marks the pairs for extraction (``pybabel extract -k N_:1c,2``).
"""

from __future__ import annotations

import enum
from typing import Final

from experiments.checks import Severity
from experiments.maturity import GroupBy
from experiments.model import (
    AssumptionKind,
    Evidence,
    ExcuseReason,
    ExperimentStatus,
    Fidelity,
    HypothesisStatus,
    Involvement,
    Outcome,
    Requirement,
    Role,
    Stance,
    Verdict,
)

__all__ = ["CHECKS", "LABELS", "MONTHS", "MOVES", "label_of"]


def N_(context: str, message: str) -> tuple[str, str]:  # noqa: N802 - the gettext convention
    return context, message


LABELS: Final[dict[type[enum.Enum], dict[str, tuple[str, str]]]] = {
    ExperimentStatus: {
        "planned": N_("experiment status", "planned"),
        "running": N_("experiment status", "running"),
        "concluded": N_("experiment status", "concluded"),
        "decided": N_("experiment status", "decided"),
        "abandoned": N_("experiment status", "abandoned"),
    },
    HypothesisStatus: {
        "supported": N_("hypothesis status", "supported"),
        "refuted": N_("hypothesis status", "refuted"),
        "inconclusive": N_("hypothesis status", "inconclusive"),
        "untested": N_("hypothesis status", "untested"),
    },
    Verdict: {
        "supports": N_("verdict", "supports"),
        "refutes": N_("verdict", "refutes"),
        "inconclusive": N_("verdict", "is inconclusive about"),
    },
    Evidence: {
        "strong": N_("evidence", "strong"),
        "moderate": N_("evidence", "moderate"),
        "weak": N_("evidence", "weak"),
    },
    Outcome: {
        "scale-up": N_("decision", "scale up"),
        "iterate": N_("decision", "iterate"),
        "pivot": N_("decision", "pivot"),
        "stop": N_("decision", "stop"),
    },
    Stance: {
        "supportive": N_("stance", "supportive"),
        "neutral": N_("stance", "neutral"),
        "critical": N_("stance", "critical"),
    },
    Involvement: {
        "informed": N_("involvement", "informed"),
        "consulted": N_("involvement", "consulted"),
        "co-creating": N_("involvement", "co-creating"),
    },
    Role: {
        "customer": N_("role", "customer"),
        "citizen": N_("role", "citizen"),
        "user": N_("role", "user"),
        "employee": N_("role", "employee"),
        "frontline-employee": N_("role", "frontline employee"),
        "manager": N_("role", "manager"),
        "partner": N_("role", "partner"),
        "expert": N_("role", "expert"),
        "politician": N_("role", "politician"),
        "association": N_("role", "association"),
        "researcher": N_("role", "researcher"),
        "student": N_("role", "student"),
        "other": N_("role", "other"),
    },
    Severity: {
        "error": N_("severity", "error"),
        "warning": N_("severity", "warning"),
        "info": N_("severity", "info"),
    },
    ExcuseReason: {
        "already-asked": N_("excuse", "we already asked them"),
        "know-what-they-say": N_("excuse", "we know what they will say"),
        "no-time": N_("excuse", "we have no time for it"),
        "rules-forbid": N_("excuse", "rules forbid it"),
        "disturbs-work": N_("excuse", "it disturbs our work"),
        "nothing-good-comes": N_("excuse", "nothing good comes of it"),
        "bad-timing": N_("excuse", "the timing is bad"),
        "not-ready": N_("excuse", "we are not ready"),
        "other": N_("excuse", "another reason"),
    },
    AssumptionKind: {
        "desirability": N_("assumption", "desirability"),
        "feasibility": N_("assumption", "feasibility"),
        "viability": N_("assumption", "viability"),
    },
    Fidelity: {
        "sketch": N_("fidelity", "sketch"),
        "mock-up": N_("fidelity", "mock-up"),
        "working-prototype": N_("fidelity", "working prototype"),
        "pilot": N_("fidelity", "pilot"),
    },
    Requirement: {
        "owner": N_("requirement", "an owner"),
        "time-box": N_("requirement", "a time box"),
        "scope": N_("requirement", "a planned scope"),
        "facilitator": N_("requirement", "a facilitator"),
        "sprint": N_("requirement", "a sprint"),
        "objective": N_("requirement", "an objective it serves"),
        "description": N_("requirement", "a description"),
        "hypothesis": N_("requirement", "a hypothesis with a success criterion"),
        "prototype-shown": N_("requirement", "a prototype shown to participants"),
    },
    GroupBy: {
        "department": N_("grouping", "department"),
        "level": N_("grouping", "level"),
        "department-and-level": N_("grouping", "department and level"),
    },
}

MONTHS: Final = (
    N_("month", "January"),
    N_("month", "February"),
    N_("month", "March"),
    N_("month", "April"),
    N_("month", "May"),
    N_("month", "June"),
    N_("month", "July"),
    N_("month", "August"),
    N_("month", "September"),
    N_("month", "October"),
    N_("month", "November"),
    N_("month", "December"),
)

#: The brave moves the built-in checks come from, so findings can be grouped under them.
MOVES: Final = (
    N_("brave move", "Think big, start small"),
    N_("brave move", "Invite into the unfinished"),
    N_("brave move", "Let customers and citizens into the engine room"),
    N_("brave move", "Involve frontline employees"),
    N_("brave move", "Create and sprint together"),
    N_("brave move", "Follow up on actions and results"),
    N_("brave move", "Find and magnify what works"),
    N_("brave move", "Start from the organisation's template"),
    N_("brave move", "Build shared mental models"),
    N_("brave move", "Respect the people let in"),
)


#: What each built-in check looks for, as its ``summary`` says it.
CHECKS: Final = (
    N_("check", "An experiment linked to no strategy objective."),
    N_("check", "A planned or running experiment without a time box."),
    N_("check", "A planned or running experiment time-boxed to longer than a limit."),
    N_(
        "check",
        "An experiment with no external participant (citizen, customer, user, partner ...).",
    ),
    N_("check", "An experiment in which nobody took a critical stance."),
    N_("check", "An experiment with no frontline employee taking part."),
    N_("check", "No prototype shown to participants before the experiment concluded."),
    N_("check", "A sprint without a named facilitator."),
    N_("check", "A sprint whose team comes from one department (or none named)."),
    N_("check", "A concluded experiment without a learning."),
    N_("check", "A concluded experiment still without a decision after a grace period."),
    N_("check", "An experiment still running after its time box ended."),
    N_(
        "check",
        "A hypothesis judged supported whose criterion its latest measurement does not meet.",
    ),
    N_(
        "check",
        "A planned or running experiment that lacks what its template requires for its next move.",
    ),
    N_("check", "The first prototype participants saw was already more finished than a limit."),
    N_("check", "A sprint without a process design: no phases saying who takes part when."),
    N_("check", "A sprint with nobody from outside the organisation on its team or in its phases."),
    N_("check", "A planned or running experiment without a planned scope."),
    N_("check", "A planned or running experiment whose planned scope is larger than a limit."),
    N_("check", "A next step of a learning or decision past its due date and not done."),
    N_("check", "A next step without an owner or a due date."),
    N_("check", "A key result whose progress lags what its due date expects by now."),
    N_("check", "A workshop action not done by its due date."),
    N_("check", "A term the scope uses that nobody has defined."),
    N_("check", "A term departments define differently, with no definition agreed."),
    N_(
        "check",
        "An external participant taking part without recorded consent, where the programme "
        "requires it (option external; by default the store's setting "
        "require-consent-for-external, off unless set).",
    ),
    N_("check", "A participant who withdrew their consent and is not erased."),
    N_(
        "check",
        "A participant whose consent is for another purpose than an experiment they take "
        "part in (its slug or id, an objective's, or one of its tags).",
    ),
    N_("check", "A participant kept past their retention period and not erased."),
)


def label_of(value: enum.Enum) -> tuple[str, str]:
    """The (context, message) of a value; values no catalog knows pass as they are.

    Looked up by the value's class first: a hypothesis that is "inconclusive" and a
    learning that is "inconclusive" are different words in other languages.
    """
    return LABELS.get(type(value), {}).get(value.value, ("", str(value.value)))
