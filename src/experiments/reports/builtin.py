"""The built-in report formats, registered through the same hook as any plugin's.

Each renderer is imported when a report is rendered, not when the format is
registered: listing formats never loads Jinja2.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from experiments.plugins import hookimpl
from experiments.reports.format import ReportFormat

if TYPE_CHECKING:
    from experiments.hookspecs import RegisterReportFormat
    from experiments.reports.data import Report
    from experiments.reports.i18n import Language

__all__ = ["BUILTIN_FORMATS"]

_Renderer = Callable[["Report", "Language"], str | bytes]


def _loaded_when_used(module: str, function: str = "render", *extra: str) -> _Renderer:
    """``function`` of ``experiments.reports.<module>``, imported when a report is rendered.

    It is called with the report, the language and ``extra``.
    """

    def render(report: Report, lang: Language) -> str | bytes:
        renderer = getattr(importlib.import_module(f"experiments.reports.{module}"), function)
        document: str | bytes = renderer(report, lang, *extra)
        return document

    return render


#: The built-in formats, in the order they are listed.
BUILTIN_FORMATS: Final = (
    ReportFormat(
        "md",
        "Markdown",
        "md",
        "text/markdown; charset=utf-8",
        _loaded_when_used("_markdown"),
        "headings, tables and a Mermaid map from objective to decision",
    ),
    ReportFormat(
        "json",
        "JSON",
        "json",
        "application/json",
        _loaded_when_used("_json"),
        "every figure and experiment, in the shape of report.schema.json",
    ),
    ReportFormat(
        "csv",
        "CSV",
        "csv",
        "text/csv; charset=utf-8",
        _loaded_when_used("_csv"),
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
        _loaded_when_used("_csv", "render", ","),
        "the same experiment list, separated by commas in every language (for LibreOffice, "
        "Numbers, Google Sheets and Excel in English)",
        filename="experiments-comma.csv",
    ),
    ReportFormat(
        "html",
        "HTML",
        "html",
        "text/html; charset=utf-8",
        _loaded_when_used("_html"),
        "one self-contained page with charts, to open, print or mail",
    ),
    ReportFormat(
        "maturity-csv",
        "Maturity CSV",
        "csv",
        "text/csv; charset=utf-8",
        _loaded_when_used("_mental_models_csv", "render_maturity"),
        "the maturity analysis, one row per score shown, for spreadsheets",
        filename="maturity.csv",
    ),
    ReportFormat(
        "glossary-csv",
        "Glossary CSV",
        "csv",
        "text/csv; charset=utf-8",
        _loaded_when_used("_mental_models_csv", "render_glossary"),
        "the terms the scope uses and their definitions, for spreadsheets",
        filename="glossary.csv",
    ),
)


@hookimpl
def register_report_formats(register: RegisterReportFormat) -> None:
    for report_format in BUILTIN_FORMATS:
        register(report_format)
