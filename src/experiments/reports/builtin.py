"""The built-in report formats, registered through the same hook as any plugin's.

Each renderer is imported when a report is rendered, not when the format is
registered: listing formats never loads Jinja2.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from experiments.plugins import hookimpl
from experiments.reports.format import ReportFormat

if TYPE_CHECKING:
    from experiments.hookspecs import RegisterReportFormat
    from experiments.reports.data import Report
    from experiments.reports.i18n import Language

__all__ = ["BUILTIN_FORMATS"]


def _markdown(report: Report, lang: Language) -> str:
    from experiments.reports._markdown import render  # noqa: PLC0415 - loaded when used

    return render(report, lang)


def _json(report: Report, lang: Language) -> str:
    from experiments.reports._json import render  # noqa: PLC0415 - loaded when used

    return render(report, lang)


def _csv(report: Report, lang: Language) -> bytes:
    from experiments.reports._csv import render  # noqa: PLC0415 - loaded when used

    return render(report, lang)


def _csv_comma(report: Report, lang: Language) -> bytes:
    from experiments.reports._csv import render  # noqa: PLC0415 - loaded when used

    return render(report, lang, ",")


def _maturity_csv(report: Report, lang: Language) -> bytes:
    from experiments.reports._mental_models_csv import render_maturity  # noqa: PLC0415

    return render_maturity(report, lang)


def _glossary_csv(report: Report, lang: Language) -> bytes:
    from experiments.reports._mental_models_csv import render_glossary  # noqa: PLC0415

    return render_glossary(report, lang)


def _html(report: Report, lang: Language) -> str:
    from experiments.reports._html import render  # noqa: PLC0415 - loaded when used

    return render(report, lang)


#: The built-in formats, in the order they are listed.
BUILTIN_FORMATS: Final = (
    ReportFormat(
        "md",
        "Markdown",
        "md",
        "text/markdown; charset=utf-8",
        _markdown,
        "headings, tables and a Mermaid map from objective to decision",
    ),
    ReportFormat(
        "json",
        "JSON",
        "json",
        "application/json",
        _json,
        "every figure and experiment, in the shape of report.schema.json",
    ),
    ReportFormat(
        "csv",
        "CSV",
        "csv",
        "text/csv; charset=utf-8",
        _csv,
        "the experiment list, one row per experiment, for spreadsheets: separated by "
        "commas in English, by semicolons in Danish, Norwegian and Swedish (as Excel there "
        "expects)",
        filename="experiments.csv",
    ),
    ReportFormat(
        "csv-comma",
        "CSV (comma-separated)",
        "csv",
        "text/csv; charset=utf-8",
        _csv_comma,
        "the same experiment list, separated by commas in every language (for LibreOffice, "
        "Numbers, Google Sheets and Excel in English)",
        filename="experiments-comma.csv",
    ),
    ReportFormat(
        "html",
        "HTML",
        "html",
        "text/html; charset=utf-8",
        _html,
        "one self-contained page with charts, to open, print or mail",
    ),
    ReportFormat(
        "maturity-csv",
        "Maturity CSV",
        "csv",
        "text/csv; charset=utf-8",
        _maturity_csv,
        "the maturity analysis, one row per score shown, for spreadsheets",
        filename="maturity.csv",
    ),
    ReportFormat(
        "glossary-csv",
        "Glossary CSV",
        "csv",
        "text/csv; charset=utf-8",
        _glossary_csv,
        "the terms the scope uses and their definitions, for spreadsheets",
        filename="glossary.csv",
    ),
)


@hookimpl
def register_report_formats(register: RegisterReportFormat) -> None:
    for report_format in BUILTIN_FORMATS:
        register(report_format)
