"""Wording that every built-in format shares, so that they say the same thing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from experiments.model import HypothesisStatus, Involvement

if TYPE_CHECKING:
    from experiments.asof import Candidate
    from experiments.reports.data import ExperimentDetail, Report, ReportFinding, Voice
    from experiments.reports.i18n import Language
    from experiments.rollup import InvolvementProfile

__all__ = [
    "DIAGRAM_LIMIT",
    "HYPOTHESIS_ORDER",
    "candidate_groups",
    "criterion",
    "depth",
    "findings_by_move",
    "has_follow_up",
    "quantity",
    "share",
    "time_box",
    "title",
    "upper_first",
    "voice",
]

#: The order hypothesis statuses are shown in: what is known first.
HYPOTHESIS_ORDER: Final = (
    HypothesisStatus.SUPPORTED,
    HypothesisStatus.REFUTED,
    HypothesisStatus.INCONCLUSIVE,
    HypothesisStatus.UNTESTED,
)

#: How many experiments a diagram shows at most; more would not be readable.
DIAGRAM_LIMIT: Final = 40


def upper_first(text: str) -> str:
    """The text with its first letter capitalised, the rest as it is."""
    return text[:1].upper() + text[1:]


def title(report: Report, lang: Language) -> str:
    """What the report is about: the objective, or the whole strategy."""
    return report.scope.title if report.scope is not None else lang.gettext("The whole strategy")


def share(lang: Language, value: float | None) -> str:
    """A share as a percentage, or a dash where there is nothing to divide."""
    return "\u2013" if value is None else lang.percent(value)


def quantity(lang: Language, value: float | None, unit: str | None) -> str:
    """A measured value with its unit, or a dash when there is none yet."""
    if value is None:
        return "\u2013"
    text = lang.number(value)
    return f"{text} {unit}" if unit else text


def voice(lang: Language, person: Voice) -> str:
    """Whom a learning rests on: the display name, or the role and a number."""
    if person.name is not None:
        who = person.name
    else:
        who = f"{lang.label(person.role)} {person.number or ''}".rstrip()
    if person.stance is None:
        return who
    return f"{who} ({lang.label(person.stance)})"


def depth(lang: Language, who: InvolvementProfile) -> str:
    """How many participants went how deep: "informed 0, consulted 3, co-creating 9".

    A no-break space holds each word to its figure.
    """
    return ", ".join(
        f"{lang.label(level)}\u00a0{lang.number(who.depth.get(level, 0))}" for level in Involvement
    )


def time_box(lang: Language, experiment: ExperimentDetail) -> str:
    """The experiment's time box: its dates and length, or its length alone."""
    if experiment.time_box_days is None:
        return lang.gettext("none")
    length = lang.counted("%(count)s day", "%(count)s days", experiment.time_box_days)
    if experiment.planned_start is None or experiment.planned_end is None:
        return length
    return (
        f"{lang.date(experiment.planned_start)} \u2013 {lang.date(experiment.planned_end)} "
        f"({length})"
    )


def candidate_groups(report: Report, lang: Language) -> list[tuple[str, tuple[Candidate, ...]]]:
    """The candidates to magnify, those decided for scale-up apart from those awaiting it.

    Groups without a candidate are left out.
    """
    total = report.rollup.total
    groups = (
        (lang.gettext("Decided for scale-up"), total.scaling_up),
        (lang.gettext("Awaiting a decision"), total.awaiting_decision),
    )
    return [(heading, candidates) for heading, candidates in groups if candidates]


def criterion(lang: Language, candidate: Candidate) -> str:
    """A candidate's criterion and whether its latest measurement meets it, or a dash."""
    if candidate.criterion is None:
        return "\u2013"
    if candidate.measured is None or candidate.criterion_met is None:
        verdict = lang.gettext("not measured yet")
    elif candidate.criterion_met:
        verdict = lang.gettext("met by %(value)s") % {"value": lang.number(candidate.measured)}
    else:
        verdict = lang.gettext("not met: %(value)s") % {"value": lang.number(candidate.measured)}
    return f"{candidate.criterion} ({verdict})"


def has_follow_up(report: Report) -> bool:
    """Whether anything in the report needs following up."""
    total = report.rollup.total
    return bool(
        (report.maturity is not None and report.maturity.overdue_actions)
        or total.overdue
        or total.concluded_without_learning
        or total.concluded_without_decision
        or total.untested
        or total.one_sided
        or report.rollup.objectives_without_experiments
        or report.rollup.unlinked_experiments
    )


def findings_by_move(
    report: Report, lang: Language
) -> list[tuple[str, list[tuple[ReportFinding, str]]]]:
    """The findings under the brave move their check comes from, each with its wording.

    A finding of a known check is worded by the check's summary in the report's
    language; one the catalogs do not know keeps the check's own words.
    """
    grouped: dict[str, list[tuple[ReportFinding, str]]] = {}
    for finding in report.findings or ():
        move = lang.pgettext("brave move", finding.move) if finding.move else lang.gettext("Other")
        text = lang.pgettext("check", finding.summary) if finding.summary else finding.message
        grouped.setdefault(move, []).append((finding, text))
    return list(grouped.items())
