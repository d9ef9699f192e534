"""Wording that every built-in format shares, so that they say the same thing."""

from __future__ import annotations

import datetime as dt
import enum
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import pendulum

from experiments.checks import Message, Share
from experiments.model import HypothesisStatus, Involvement, Role, Scope, TimeBox
from experiments.model import asof as rules
from experiments.model.template import Gap, Need

if TYPE_CHECKING:
    from experiments.asof import Candidate
    from experiments.reports.data import (
        ExperimentDetail,
        PrototypeDetail,
        Report,
        ReportFinding,
        StepDetail,
        Voice,
    )
    from experiments.reports.i18n import Language
    from experiments.rollup import InvolvementProfile, KeyResultProgress
    from experiments.sprints import Member

__all__ = [
    "DIAGRAM_LIMIT",
    "HYPOTHESIS_ORDER",
    "candidate_groups",
    "criterion",
    "day_range",
    "days",
    "depth",
    "duration",
    "expected",
    "finding_text",
    "findings_by_move",
    "gap",
    "has_follow_up",
    "last_day",
    "member",
    "members",
    "period",
    "prototype",
    "quantity",
    "recorded",
    "say",
    "scope",
    "share",
    "spread",
    "step",
    "taking_part",
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
    if experiment.planned_start is None or experiment.planned_end is None:
        return lang.counted("%(count)s day", "%(count)s days", experiment.time_box_days)
    return days(lang, experiment.planned_start, experiment.planned_end)


def last_day(experiment: ExperimentDetail) -> dt.date | None:
    """The last day an experiment's time box covers, as :func:`days` shows it."""
    if experiment.planned_start is None or experiment.planned_end is None:
        return None
    return rules.days_covered(experiment.planned_start, experiment.planned_end)[1]


def days(lang: Language, start: dt.datetime, end: dt.datetime) -> str:
    """A time box's first and last day and how many days that is, both days counted.

    A box from 1 April 00:00 to 30 April 00:00 is shown from 1 April to 29 April, 29
    days: the dates and the count agree (:func:`~experiments.model.asof.days_covered`).
    """
    first, last, _ = rules.days_covered(start, end)
    return day_range(lang, first, last)


def day_range(lang: Language, first: dt.date, last: dt.date) -> str:
    """Two days and how many days they span, both counted: "1 April - 29 April (29 days)"."""
    count = (last - first).days + 1
    length = lang.counted("%(count)s day", "%(count)s days", count)
    return f"{lang.date(first)} \u2013 {lang.date(last)} ({length})"


def taking_part(lang: Language, experiment: ExperimentDetail) -> str:
    """Who took part in an experiment: how many, from outside, from the front line, critical."""
    return lang.gettext(
        "%(participants)s, of them %(external)s from outside, %(frontline)s from the front "
        "line and %(critical)s with a critical stance"
    ) % {
        "participants": lang.number(experiment.participants),
        "external": lang.number(experiment.external),
        "frontline": lang.number(experiment.frontline),
        "critical": lang.number(experiment.critical_voices),
    }


def recorded(lang: Language, report: Report) -> list[tuple[str, str]]:
    """Everyone recorded beside those taking part, as (label, value) facts to show.

    "Participants recorded: 14" next to "Participants: 12" says where the other two are:
    in no experiment, or (in a report on one objective) only in experiments elsewhere.
    """
    people = report.recorded
    if people is None:
        return []
    _ = lang.gettext
    facts = [
        (_("Participants recorded"), lang.number(people.recorded)),
        (_("Recorded, but taking part in no experiment"), lang.number(people.in_no_experiment)),
    ]
    if report.scope is not None:
        facts.append(
            (_("Taking part only outside this objective"), lang.number(people.only_elsewhere))
        )
    return facts


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
        or total.overdue_next_steps
        or report.rollup.behind
        or report.rollup.objectives_without_experiments
        or report.rollup.unlinked_experiments
    )


def expected(lang: Language, progress: KeyResultProgress) -> str:
    """How far a key result should have come by now, and whether it lags behind that."""
    if progress.expected is None:
        return "\u2013"
    text = lang.percent(progress.expected)
    if not progress.behind:
        return text
    return lang.gettext("%(share)s (behind)") % {"share": text}


def step(lang: Language, item: StepDetail) -> str:
    """A next step: what, who, by when, and where it stands at the report's moment."""
    _ = lang.gettext
    details = [item.owner] if item.owner else []
    if item.due is not None:
        details.append(_("due %(date)s") % {"date": lang.date(item.due)})
    if item.done_at is not None:
        details.append(_("done %(date)s") % {"date": lang.date(item.done_at)})
    elif item.overdue_days is not None:
        details.append(
            lang.counted("%(count)s day overdue", "%(count)s days overdue", item.overdue_days)
        )
    elif not item.tracked:
        details.append(_("no owner or due date yet"))
    return item.action + (f" ({'; '.join(details)})" if details else "")


def gap(lang: Language, missing: Gap) -> str:
    """What a template finds missing, in the report's language."""
    _ = lang.gettext
    if missing.role is Role.OTHER:  # "other" is no role to be named by
        return _("someone in another role")
    if missing.role is not None:
        return _("a participant whose role is %(role)s") % {"role": lang.label(missing.role)}
    if missing.stance is not None:
        return _("a voice that is %(stance)s") % {"stance": lang.label(missing.stance)}
    if missing.need is Need.DEPARTMENTS:
        return _("participants from at least %(wanted)s departments (now %(have)s)") % {
            "wanted": lang.number(missing.wanted or 0),
            "have": lang.number(missing.have or 0),
        }
    if missing.need is Need.EXTERNAL:
        return lang.counted(
            "at least %(count)s participant from outside",
            "at least %(count)s participants from outside",
            missing.wanted or 0,
        )
    if missing.need is Need.SHORT_TIME_BOX:
        assert missing.limit is not None
        days = lang.counted("%(count)s day", "%(count)s days", missing.limit.in_days())
        return _("a time box of at most %(length)s") % {"length": days}
    assert missing.requirement is not None
    return lang.label(missing.requirement)


def scope(lang: Language, planned: Scope | None) -> str:
    """A planned scope: participants, sites or units, budget; a dash when none is planned."""
    if planned is None:
        return "\u2013"
    parts = []
    if planned.participants is not None:
        parts.append(
            lang.counted("%(count)s participant", "%(count)s participants", planned.participants)
        )
    if planned.sites is not None:
        parts.append(
            lang.counted("%(count)s site or unit", "%(count)s sites or units", planned.sites)
        )
    if planned.budget is not None:
        amount = lang.number(planned.budget)
        budget = f"{amount} {planned.currency}" if planned.currency else amount
        parts.append(lang.gettext("budget %(amount)s") % {"amount": budget})
    return ", ".join(parts)


def prototype(lang: Language, item: PrototypeDetail) -> str:
    """A prototype: how finished it is now, and how finished it was when first shown."""
    _ = lang.gettext
    text = f"{item.ref.title} ({lang.label(item.fidelity)}, " + (
        _("version %(number)s") % {"number": lang.number(item.version)}
    )
    if item.shown_at is not None and item.shown_as is not None:
        text += "; " + _("first shown %(date)s as a %(fidelity)s") % {
            "date": lang.date(item.shown_at),
            "fidelity": lang.label(item.shown_as),
        }
    else:
        text += "; " + _("not shown yet")
    return text + ")"


def period(lang: Language, box: TimeBox | None) -> str:
    """A sprint's or phase's time box: its days on its own calendar and how many."""
    if box is None:
        return "\u2013"
    end = box.end
    if box.start is None or end is None:
        return lang.counted("%(count)s day", "%(count)s days", box.duration.in_days())
    return days(lang, box.start, end)


def member(lang: Language, person: Member) -> str:
    """Someone on a sprint's team or in a phase: name (or role) and department."""
    who = person.name if person.name is not None else lang.label(person.role)
    if person.department:
        return f"{who} ({person.department})"
    return who


def members(lang: Language, people: Sequence[Member]) -> list[str]:
    """People by name (and department); those not named counted by role: "citizen (2)"."""
    named = [member(lang, m) for m in people if m.name is not None]
    unnamed = Counter(m.role for m in people if m.name is None)
    named += [
        lang.label(role) + (f" ({lang.number(n)})" if n > 1 else "")
        for role, n in sorted(unnamed.items(), key=lambda item: item[0].value)
    ]
    return named


def say(lang: Language, message: Message) -> str:
    """A message in the report's language, its values written as the language writes them.

    The message id is looked up in the catalogs (a plural by its ``count``); a message
    no catalog has stays in English, its values still written the language's way.
    """
    if message.plural:
        text = lang.ngettext(message.text, message.plural, message.count or 0)
    else:
        text = lang.gettext(message.text)
    if not message.values:
        return text  # no placeholders to fill: a "%" in it is a percent sign
    return text % {name: _value(lang, value) for name, value in message.values}


def _value(lang: Language, value: object) -> str:
    if isinstance(value, Message):
        return say(lang, value)
    if isinstance(value, Share):
        return lang.percent(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return lang.number(value, 4)
    if isinstance(value, dt.date):
        return lang.date(value)
    if isinstance(value, dt.timedelta):
        return duration(lang, value)
    if isinstance(value, enum.Enum):
        return lang.label(value)
    if isinstance(value, Gap):
        return gap(lang, value)
    if isinstance(value, tuple):
        return ", ".join(_value(lang, item) for item in value)
    return str(value)


def duration(lang: Language, value: dt.timedelta) -> str:
    """A length of time in words: "16 weeks", "16 uger", "12 uger 6 dage"."""
    length = (
        value
        if isinstance(value, pendulum.Duration)
        else pendulum.duration(seconds=value.total_seconds())
    )
    return length.in_words(locale=lang.code)


def finding_text(lang: Language, finding: ReportFinding) -> str:
    """What a finding says, in the report's language (through its plugin's catalogs too)."""
    if finding.wording is None:
        return finding.message
    return say(lang.with_catalogs(finding.catalogs), finding.wording)


def findings_by_move(
    report: Report, lang: Language
) -> list[tuple[str, list[tuple[ReportFinding, str]]]]:
    """The findings under the brave move their check comes from, each with its words.

    The move is named in the report's language, and each finding's message is
    translated with its figures, dates and advice (:func:`finding_text`); a finding
    made with an English message alone keeps it.
    """
    grouped: dict[str, list[tuple[ReportFinding, str]]] = {}
    for finding in report.findings or ():
        local = lang.with_catalogs(finding.catalogs)
        move = local.pgettext("brave move", finding.move) if finding.move else lang.gettext("Other")
        grouped.setdefault(move, []).append((finding, finding_text(lang, finding)))
    return list(grouped.items())


def spread(sizes: Sequence[int], limit: int) -> list[int]:
    """How many of each group to keep so that at most ``limit`` are kept, fairly."""
    kept = [0] * len(sizes)
    left = limit
    while left > 0:
        open_groups = [i for i, size in enumerate(sizes) if kept[i] < size]
        if not open_groups:
            break
        share = max(left // len(open_groups), 1)
        for i in open_groups:
            more = min(share, sizes[i] - kept[i], left)
            kept[i] += more
            left -= more
            if left == 0:
                break
    return kept
