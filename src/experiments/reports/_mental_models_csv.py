"""The maturity analysis and the glossary as CSV tables, for leaders' own spreadsheets.

Both follow the conventions of the experiment list (:mod:`._csv`).  The analysis is one
row per figure shown, item or dimension and group, every round of every questionnaire:
what a pivot table wants.  Nothing the small-group rule left out has a row.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Final

from experiments.maturity import ALL, OTHER
from experiments.reports import _mental_models as minds
from experiments.reports._csv import day, decimal, table
from experiments.reports._labels import N_

if TYPE_CHECKING:
    from experiments.maturity import (
        DimensionScores,
        ItemScores,
        QuestionnaireAnalysis,
        RoundAnalysis,
        Score,
    )
    from experiments.reports.data import Report
    from experiments.reports.i18n import Language

__all__ = ["GLOSSARY_COLUMNS", "MATURITY_COLUMNS", "render_glossary", "render_maturity"]

#: The columns of the analysis, in order, as (context, heading).
MATURITY_COLUMNS: Final = (
    N_("column", "Questionnaire"),
    N_("column", "Round"),
    N_("column", "Opened"),
    N_("column", "Dimension"),
    N_("column", "Code"),
    N_("column", "Item"),
    N_("column", "Group"),
    N_("column", "Groups merged"),
    N_("column", "Respondents"),
    N_("column", "Mean"),
    N_("column", "Previous round"),
    N_("column", "Change"),
    N_("column", "Spread"),
    N_("column", "Round id"),
)
#: The columns holding numbers the library writes (a mean, a change), by position.
_NUMERIC: Final = frozenset({8, 9, 10, 11, 12})

#: The columns of the glossary, in order, as (context, heading).
GLOSSARY_COLUMNS: Final = (
    N_("column", "Term"),
    N_("column", "Defined by"),
    N_("column", "Language"),
    N_("column", "Definition"),
    N_("column", "Agreed by"),
    N_("column", "Date"),
    N_("column", "Used by"),
    N_("column", "Id"),
)


def _scores(entry: ItemScores | DimensionScores) -> Iterator[Score]:
    yield from entry.scores
    for extra in (entry.other, entry.total):
        if extra is not None:
            yield extra


def _rows(
    lang: Language, questionnaire: QuestionnaireAnalysis, analysis: RoundAnalysis
) -> Iterator[list[str]]:
    start = [questionnaire.questionnaire.title, analysis.round.title, day(analysis.opened_at)]
    end = [analysis.round.id]
    for dimension, items in analysis.by_dimension():
        spread = "" if dimension.spread is None else decimal(lang, dimension.spread.points)
        for score in _scores(dimension):
            yield [*start, dimension.dimension, "", "", *_score(lang, score), spread, *end]
        for item in items:
            spread = "" if item.spread is None else decimal(lang, item.spread.points)
            for score in _scores(item):
                yield [
                    *start,
                    item.dimension,
                    item.code,
                    item.item.title,
                    *_score(lang, score),
                    spread,
                    *end,
                ]


def _score(lang: Language, score: Score) -> list[str]:
    named = minds.group(lang, score.group) if score.group in (OTHER, ALL) else score.group
    return [
        named,
        ", ".join(score.members),
        "" if score.respondents is None else str(score.respondents),
        decimal(lang, score.mean),
        decimal(lang, score.previous),
        decimal(lang, score.change),
    ]


def render_maturity(report: Report, lang: Language) -> bytes:
    """The maturity analysis as CSV bytes: one row per figure shown."""
    maturity = report.maturity
    rows = (
        row
        for questionnaire in (() if maturity is None else maturity.questionnaires)
        for analysis in questionnaire.rounds
        for row in _rows(lang, questionnaire, analysis)
    )
    return table([lang.pgettext(*c) for c in MATURITY_COLUMNS], rows, lang, _NUMERIC)


def render_glossary(report: Report, lang: Language) -> bytes:
    """The glossary as CSV bytes: a row per agreed definition and department's reading."""
    agreed = lang.pgettext("glossary", "agreed")
    rows: list[list[str]] = []
    for entry in () if report.glossary is None else report.glossary.entries:
        used = "; ".join(ref.title for ref in entry.used_by)
        when = day(entry.agreed_at)
        for code, text in entry.definitions.items():
            rows.append(
                [
                    entry.word,
                    agreed,
                    code,
                    text,
                    ", ".join(entry.agreed_by),
                    when,
                    used,
                    entry.term.id,
                ]
            )
        if not entry.agreed:
            rows += [
                [
                    entry.word,
                    reading.department,
                    reading.language.value,
                    reading.text,
                    "",
                    day(reading.stated_at),
                    used,
                    entry.term.id,
                ]
                for reading in entry.readings
            ]
        if not entry.defined:
            rows.append([entry.word, "", "", "", "", "", used, entry.term.id])
    return table([lang.pgettext(*c) for c in GLOSSARY_COLUMNS], rows, lang)
