"""Wording of the maturity analysis and the glossary that every built-in format shares.

The figures come from :mod:`experiments.maturity`, which has already passed each of
them through the small-group rule; nothing here works out a figure of its own beyond
writing it down, so no format can show what the analysis left out.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Final, TypeAlias

from experiments.maturity import ALL, OTHER

if TYPE_CHECKING:
    from experiments.maturity import (
        ActionDetail,
        ItemScores,
        Maturity,
        RoundAnalysis,
        Score,
        Spread,
    )
    from experiments.model import Scale
    from experiments.reports.data import Report
    from experiments.reports.i18n import Language
    from experiments.vocabulary import GlossaryEntry

__all__ = [
    "BANDS",
    "action_status",
    "agreed",
    "band",
    "bands",
    "cell",
    "change",
    "columns",
    "definition",
    "group",
    "has_maturity",
    "notes",
    "overdue_actions",
    "points",
    "round_line",
    "scale_text",
    "score",
    "spread",
]

#: How a format makes what users wrote safe in it (Markdown escapes; the others need not).
Escape: TypeAlias = Callable[[str], str]

#: How many tints a heat map has: the scale cut into five equal bands.
BANDS: Final = 5
_DASH: Final = "\u2013"


def has_maturity(report: Report) -> bool:
    """Whether the report has an analysis, an interview or an action to show."""
    return report.maturity is not None and not report.maturity.empty


def overdue_actions(report: Report) -> tuple[ActionDetail, ...]:
    """The report's workshop actions past their due date."""
    return () if report.maturity is None else report.maturity.overdue_actions


def score(lang: Language, value: float | None) -> str:
    """A mean score with one decimal ("3.4", "3,4"), or a dash where none is shown."""
    return _DASH if value is None else lang.fixed(value, 1)


def change(lang: Language, value: float | None) -> str:
    """A change with its sign ("+0.5", "-0.3", "0.0"), or a dash where none is shown."""
    if value is None:
        return _DASH
    text = lang.fixed(value, 1)
    if text.lstrip("-\u2212").strip("0.,") == "":  # rounds to nothing: no sign
        return lang.fixed(0.0, 1)
    return text if value < 0 else "+" + text


def group(lang: Language, name: str) -> str:
    """A group's name: a department or level as written, or "Other" and "All shown"."""
    if name == OTHER:
        return lang.pgettext("group", "Other")
    if name == ALL:
        return lang.pgettext("group", "All shown")
    return name


def scale_text(scale: Scale) -> str:
    """The scale and what its ends mean: "1-5 (1 = disagree completely, 5 = agree ...)"."""
    ends = [
        f"{point} = {label}"
        for point, label in ((scale.low, scale.low_label), (scale.high, scale.high_label))
        if label.strip()
    ]
    return f"{scale.low}\u2013{scale.high}" + (f" ({', '.join(ends)})" if ends else "")


def round_line(lang: Language, analysis: RoundAnalysis, escape: Escape = str) -> str:
    """The round's name, when it opened (and closed), and how many responses are shown.

    ``escape`` makes what users wrote (the round's title) safe for the format.
    """
    text = lang.gettext("%(round)s, opened %(date)s") % {
        "round": escape(analysis.round.title),
        "date": lang.date(analysis.opened_at),
    }
    if analysis.closed_at is not None:
        text += ", " + lang.gettext("closed %(date)s") % {"date": lang.date(analysis.closed_at)}
    elif analysis.open:
        text += ", " + lang.gettext("still open")
    responses = lang.counted(
        "%(count)s response shown", "%(count)s responses shown", analysis.respondents
    )
    return f"{text}: {responses}"


def points(lang: Language, found: Spread | None) -> str:
    """How many points a spread spans, or a dash where there is none."""
    return _DASH if found is None else score(lang, found.points)


def spread(lang: Language, item: ItemScores, escape: Escape = str) -> str:
    """Where the groups differ on an item: the points between the highest and the lowest."""
    if item.spread is None:
        return _DASH
    high, low = item.score(item.spread.highest), item.score(item.spread.lowest)
    return lang.gettext("%(points)s between %(highest)s (%(high)s) and %(lowest)s (%(low)s)") % {
        "points": score(lang, item.spread.points),
        "highest": escape(item.spread.highest),
        "high": score(lang, None if high is None else high.mean),
        "lowest": escape(item.spread.lowest),
        "low": score(lang, None if low is None else low.mean),
    }


def cell(lang: Language, found: Score | None, *, with_change: bool = True) -> str:
    """A score as a table cell shows it: "3.4", "3.4 (+0.5)", or a dash."""
    if found is None:
        return _DASH
    text = score(lang, found.mean)
    if with_change and found.change is not None:
        text += f" ({change(lang, found.change)})"
    return text


def notes(
    lang: Language, maturity: Maturity, analysis: RoundAnalysis, escape: Escape = str
) -> list[str]:
    """What the small-group rule did in a round, one sentence per set of groups."""
    _ = lang.gettext
    sentences = []
    for merged, suppressed, items in analysis.notes():
        values = {
            "groups": ", ".join(escape(name) for name in merged),
            "minimum": lang.number(maturity.min_group_size),
            "items": ", ".join(escape(item.code) for item in items),
        }
        every = len(items) == len(analysis.items)
        if suppressed and every:
            message = _(
                "Not shown: %(groups)s, with fewer than %(minimum)s respondents even together."
            )
        elif suppressed:
            message = _(
                "Not shown on %(items)s: %(groups)s, with fewer than %(minimum)s respondents "
                "even together."
            )
        elif every:
            message = _(
                "Shown together as \u201cOther\u201d: %(groups)s, with fewer than %(minimum)s "
                "respondents each."
            )
        else:
            message = _(
                "Shown together as \u201cOther\u201d on %(items)s: %(groups)s, with fewer than "
                "%(minimum)s respondents each."
            )
        sentences.append(message % values)
    return sentences


def band(scale: Scale, mean: float | None) -> int | None:
    """Which of :data:`BANDS` equal bands of the scale a mean falls in, 1 (low) to 5 (high)."""
    if mean is None:
        return None
    share = (mean - scale.low) / (scale.high - scale.low)
    return min(BANDS, max(1, math.floor(share * BANDS) + 1))


def bands(lang: Language, scale: Scale) -> list[tuple[int, str]]:
    """Each band of the heat map with the scores it holds: (1, "1.0-1.8"), ..."""
    width = (scale.high - scale.low) / BANDS
    ends = [score(lang, scale.low + number * width) for number in range(BANDS + 1)]
    return [(number, f"{ends[number - 1]}\u2013{ends[number]}") for number in range(1, BANDS + 1)]


def columns(analysis: RoundAnalysis) -> list[str]:
    """The groups a round's table has a column for: each shown, "other", and all shown."""
    return [*analysis.groups, *([OTHER] if analysis.has_other else []), ALL]


def action_status(lang: Language, action: ActionDetail) -> str:
    """Where a workshop action stands: done, overdue, due, or open without a date."""
    if action.done_at is not None:
        return lang.gettext("done %(date)s") % {"date": lang.date(action.done_at)}
    if action.overdue_days is not None:
        return lang.counted(
            "%(count)s day past due", "%(count)s days past due", action.overdue_days
        )
    if action.due is not None:
        return lang.gettext("due %(date)s") % {"date": lang.date(action.due)}
    return lang.gettext("open, no due date")


def definition(lang: Language, entry: GlossaryEntry) -> str:
    """A term's agreed definition in the report's language (else another, marked), or why not."""
    found = entry.definition(lang.code)
    if found is not None:
        code, text = found
        return text if code == lang.code else f"{text} [{code}]"
    if entry.readings:
        return lang.gettext("Not agreed yet.")
    return lang.gettext("Not defined yet.")


def agreed(lang: Language, entry: GlossaryEntry) -> str:
    """Who agreed a term's definition and when, or an empty text."""
    if entry.agreed_at is None:
        return ""
    if entry.agreed_by:
        return lang.gettext("agreed by %(names)s, %(date)s") % {
            "names": ", ".join(entry.agreed_by),
            "date": lang.date(entry.agreed_at),
        }
    return lang.gettext("agreed %(date)s") % {"date": lang.date(entry.agreed_at)}
