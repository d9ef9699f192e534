"""The words reports use for the model's values, as messages for the gettext catalogs.

Each value is a (context, message) pair looked up with ``pgettext``: "running" the
status and "running" anything else can then be translated differently.  ``N_`` only
marks the pairs for extraction (``pybabel extract -k N_:1c,2``).
"""

from __future__ import annotations

import enum
from typing import Final

from experiments.checks import Severity
from experiments.model import (
    AssumptionKind,
    Evidence,
    ExcuseReason,
    ExperimentStatus,
    HypothesisStatus,
    Involvement,
    Outcome,
    Role,
    Stance,
    Verdict,
)

__all__ = ["CHECKS", "LABELS", "MONTHS", "MOVES", "label_of"]


def N_(context: str, message: str) -> tuple[str, str]:  # noqa: N802 - the gettext convention
    return context, message


LABELS: Final[dict[enum.Enum, tuple[str, str]]] = {
    ExperimentStatus.PLANNED: N_("experiment status", "planned"),
    ExperimentStatus.RUNNING: N_("experiment status", "running"),
    ExperimentStatus.CONCLUDED: N_("experiment status", "concluded"),
    ExperimentStatus.DECIDED: N_("experiment status", "decided"),
    ExperimentStatus.ABANDONED: N_("experiment status", "abandoned"),
    HypothesisStatus.SUPPORTED: N_("hypothesis status", "supported"),
    HypothesisStatus.REFUTED: N_("hypothesis status", "refuted"),
    HypothesisStatus.INCONCLUSIVE: N_("hypothesis status", "inconclusive"),
    HypothesisStatus.UNTESTED: N_("hypothesis status", "untested"),
    Verdict.SUPPORTS: N_("verdict", "supports"),
    Verdict.REFUTES: N_("verdict", "refutes"),
    Verdict.INCONCLUSIVE: N_("verdict", "inconclusive"),
    Evidence.STRONG: N_("evidence", "strong"),
    Evidence.MODERATE: N_("evidence", "moderate"),
    Evidence.WEAK: N_("evidence", "weak"),
    Outcome.SCALE_UP: N_("decision", "scale up"),
    Outcome.ITERATE: N_("decision", "iterate"),
    Outcome.PIVOT: N_("decision", "pivot"),
    Outcome.STOP: N_("decision", "stop"),
    Stance.SUPPORTIVE: N_("stance", "supportive"),
    Stance.NEUTRAL: N_("stance", "neutral"),
    Stance.CRITICAL: N_("stance", "critical"),
    Involvement.INFORMED: N_("involvement", "informed"),
    Involvement.CONSULTED: N_("involvement", "consulted"),
    Involvement.CO_CREATING: N_("involvement", "co-creating"),
    Role.CUSTOMER: N_("role", "customer"),
    Role.CITIZEN: N_("role", "citizen"),
    Role.USER: N_("role", "user"),
    Role.EMPLOYEE: N_("role", "employee"),
    Role.FRONTLINE_EMPLOYEE: N_("role", "frontline employee"),
    Role.MANAGER: N_("role", "manager"),
    Role.PARTNER: N_("role", "partner"),
    Role.EXPERT: N_("role", "expert"),
    Role.POLITICIAN: N_("role", "politician"),
    Role.ASSOCIATION: N_("role", "association"),
    Role.RESEARCHER: N_("role", "researcher"),
    Role.STUDENT: N_("role", "student"),
    Role.OTHER: N_("role", "other"),
    Severity.ERROR: N_("severity", "error"),
    Severity.WARNING: N_("severity", "warning"),
    Severity.INFO: N_("severity", "info"),
    ExcuseReason.ALREADY_ASKED: N_("excuse", "we already asked them"),
    ExcuseReason.KNOW_WHAT_THEY_SAY: N_("excuse", "we know what they will say"),
    ExcuseReason.NO_TIME: N_("excuse", "we have no time for it"),
    ExcuseReason.RULES_FORBID: N_("excuse", "rules forbid it"),
    ExcuseReason.DISTURBS_WORK: N_("excuse", "it disturbs our work"),
    ExcuseReason.NOTHING_GOOD_COMES: N_("excuse", "nothing good comes of it"),
    ExcuseReason.BAD_TIMING: N_("excuse", "the timing is bad"),
    ExcuseReason.NOT_READY: N_("excuse", "we are not ready"),
    ExcuseReason.OTHER: N_("excuse", "another reason"),
    AssumptionKind.DESIRABILITY: N_("assumption", "desirability"),
    AssumptionKind.FEASIBILITY: N_("assumption", "feasibility"),
    AssumptionKind.VIABILITY: N_("assumption", "viability"),
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
)


def label_of(value: enum.Enum) -> tuple[str, str]:
    """The (context, message) of a value; values no catalog knows pass as they are."""
    return LABELS.get(value, ("", str(value.value)))
