"""The HTML report: one self-contained page, rendered from Jinja2 templates.

Everything is inline: the style sheet, and the charts as SVG.  Nothing is fetched, not
even a font, and a Content-Security-Policy in the page forbids fetching anything, so
the file can be mailed, archived and opened offline years from now.  Autoescaping is
on for every template, so whatever a user wrote shows as text.
"""

from __future__ import annotations

import functools
import gettext
from typing import TYPE_CHECKING

import jinja2
import pendulum

from experiments.reports import _common as common
from experiments.reports._charts import FILLS, charts

if TYPE_CHECKING:
    from experiments.reports.data import Report
    from experiments.reports.i18n import Language

__all__ = ["render"]


@functools.cache
def _environment(translations: gettext.NullTranslations) -> jinja2.Environment:
    """One environment per catalog: the i18n extension keeps its translations there."""
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("experiments.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    environment.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    return environment


def render(report: Report, lang: Language) -> str:
    """The report as one HTML page with inline CSS and inline SVG charts."""
    template = _environment(lang.translations).get_template("report.html.j2")
    return template.render(
        report=report,
        lang=lang,
        common=common,
        charts=charts(report, lang),
        fills=FILLS,
        has_follow_up=common.has_follow_up(report),
        candidate_groups=common.candidate_groups(report, lang),
        criterion=lambda candidate: common.criterion(lang, candidate),
        zone=report.at.timezone or pendulum.UTC,
    )
