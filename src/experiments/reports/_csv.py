"""The CSV experiment list: one row per experiment, for leaders' own spreadsheets.

Conventions, which the maturity and glossary tables (:mod:`._mental_models_csv`) share,
chosen so that the file opens right in Excel, LibreOffice and Numbers:

- UTF-8 with a byte order mark, without which Excel reads "Sølvparken" as Latin-1;
- the separator the language's spreadsheets expect: ``,`` in English, ``;`` in Danish,
  Norwegian and Swedish (where the comma is the decimal mark and Excel's list separator
  is the semicolon); the ``csv-comma`` format always separates with a comma, which
  LibreOffice, Numbers and Google Sheets take without asking;
- quoting where a cell holds the separator, a quote or a line break (RFC 4180), and
  CRLF line ends;
- dates as ``YYYY-MM-DD``, which every spreadsheet reads as a date; numbers with the
  decimal mark of the language, whose separator is never that mark;
- a cell of text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
  gets an apostrophe in front, so that it shows as text and never runs as a formula
  (numbers the library writes keep their minus sign);
- the columns in a fixed order, their headings in the report's language.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Final

from experiments.reports import _common as common
from experiments.reports._escape import spreadsheet
from experiments.reports._labels import N_

if TYPE_CHECKING:
    from experiments.model import Scope
    from experiments.reports.data import ExperimentDetail, Report
    from experiments.reports.i18n import Language

__all__ = ["COLUMNS", "day", "decimal", "delimiter", "render", "table"]

#: The columns, in order, as (context, heading); the file has them in the report's language.
COLUMNS: Final = (
    N_("column", "Objectives"),
    N_("column", "Experiment"),
    N_("column", "Owner"),
    N_("column", "Status"),
    N_("column", "Time box start"),
    N_("column", "Time box end"),
    N_("column", "Started"),
    N_("column", "Concluded"),
    N_("column", "Hypotheses and verdicts"),
    N_("column", "Supported"),
    N_("column", "Refuted"),
    N_("column", "Inconclusive"),
    N_("column", "Untested"),
    N_("column", "Learnings"),
    N_("column", "Decision"),
    N_("column", "Decided"),
    N_("column", "Participants"),
    N_("column", "Critical voices"),
    N_("column", "Template"),
    N_("column", "Still needed for the next move"),
    N_("column", "Sprint"),
    N_("column", "Planned participants"),
    N_("column", "Planned sites or units"),
    N_("column", "Planned budget"),
    N_("column", "First prototype shown as"),
    N_("column", "Prototypes"),
    N_("column", "Open next steps"),
    N_("column", "Overdue next steps"),
    N_("column", "Id"),
)


def decimal(lang: Language, value: float | None, places: int = 2) -> str:
    """A number with ``places`` decimals and the language's decimal mark, as spreadsheets
    read it in that language: no thousands separator, a plain minus sign.
    """
    if value is None:
        return ""
    text = f"{value:.{places}f}"
    return text if lang.code == "en" else text.replace(".", ",")


def day(moment: dt.date | None) -> str:
    """A date as every spreadsheet reads it, ``YYYY-MM-DD``; empty for none."""
    return "" if moment is None else f"{moment:%Y-%m-%d}"


def _whole(number: float | None) -> str:
    return "" if number is None else str(round(number))


def _budget(scope: Scope | None) -> str:
    """A planned budget as a whole number, with its currency."""
    if scope is None or scope.budget is None:
        return ""
    amount = _whole(scope.budget)
    return f"{amount} {scope.currency}" if scope.currency else amount


def _row(experiment: ExperimentDetail, lang: Language) -> list[str]:
    verdicts = experiment.verdicts
    decision = experiment.decision
    scope = experiment.scope
    steps = experiment.next_steps
    return [
        "; ".join(o.title for o in experiment.objectives),
        experiment.ref.title,
        experiment.owner or "",
        lang.label(experiment.status),
        day(experiment.planned_start),
        day(experiment.planned_end),
        day(experiment.started_at),
        day(experiment.concluded_at),
        "\n".join(f"{h.ref.title} ({lang.label(h.status)})" for h in experiment.hypotheses),
        *(str(verdicts[status]) for status in common.HYPOTHESIS_ORDER),
        str(len(experiment.learnings)),
        "" if decision is None else lang.label(decision.outcome),
        "" if decision is None else day(decision.decided_at),
        str(experiment.participants),
        str(experiment.critical_voices),
        "" if experiment.template is None else experiment.template.title,
        "\n".join(common.gap(lang, g) for gaps in experiment.template_gaps for g in gaps.missing),
        "" if experiment.sprint is None else experiment.sprint.title,
        _whole(None if scope is None else scope.participants),
        _whole(None if scope is None else scope.sites),
        _budget(scope),
        "" if experiment.first_shown is None else lang.label(experiment.first_shown),
        "\n".join(common.prototype(lang, p) for p in experiment.prototypes),
        "\n".join(common.step(lang, s) for s in steps if s.done_at is None),
        str(sum(1 for s in steps if s.overdue_days is not None)),
        experiment.ref.id,
    ]


def delimiter(lang: Language) -> str:
    """The separator a spreadsheet in the language's countries expects."""
    return "," if lang.code == "en" else ";"


def table(
    header: Sequence[str],
    rows: Iterable[Sequence[str]],
    lang: Language,
    numeric: Collection[int] = (),
    separator: str | None = None,
) -> bytes:
    """A table as CSV bytes in the conventions above: BOM, a separator, CRLF.

    ``separator`` is the language's (:func:`delimiter`) unless one is given.  The columns
    numbered in ``numeric`` hold numbers written here (:func:`decimal`), which keep their
    minus sign; every other cell is guarded against running as a formula.
    """
    buffer = io.StringIO(newline="")
    writer = csv.writer(
        buffer,
        delimiter=delimiter(lang) if separator is None else separator,
        quoting=csv.QUOTE_MINIMAL,
        lineterminator="\r\n",
    )
    writer.writerow(header)
    for row in rows:
        writer.writerow([cell if n in numeric else spreadsheet(cell) for n, cell in enumerate(row)])
    return buffer.getvalue().encode("utf-8-sig")


def render(report: Report, lang: Language, separator: str | None = None) -> bytes:
    """The experiment list as CSV bytes (UTF-8 with a byte order mark)."""
    return table(
        [lang.pgettext(*column) for column in COLUMNS],
        (_row(experiment, lang) for experiment in report.experiments),
        lang,
        separator=separator,
    )
