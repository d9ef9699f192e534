"""The HTML report: one self-contained page, rendered from Jinja2 templates.

Everything is inline: the style sheet, the charts as SVG, and one small script that
searches, sorts and filters the experiment table.  Nothing is fetched, not even a font,
and a Content-Security-Policy in the page forbids fetching anything and runs no script
but that one (named by its SHA-256 hash), so the file can be mailed, archived and opened
offline years from now.  Autoescaping is on for every template, so whatever a user wrote
shows as text.  Without the script the page reads the same, the table in title order.

A large programme stays a page one can read and carry: the summaries come first, every
list is cut to :data:`LIST_LIMIT` rows (the JSON report has them all), the experiment
table has a row per experiment, and the experiments in full detail, grouped by objective
in collapsed ``<details>``, are at most :data:`DETAIL_LIMIT`.
"""

from __future__ import annotations

import base64
import functools
import gettext
import hashlib
import importlib.resources
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import attrs
import jinja2
from markupsafe import Markup

from experiments.model import ExperimentStatus
from experiments.model._time import format_datetime
from experiments.reports import _common as common
from experiments.reports import _mental_models as minds
from experiments.reports._charts import FILLS, charts
from experiments.reports._common import spread
from experiments.reports._timeline import draw, state, timeline

if TYPE_CHECKING:
    from experiments.reports.data import ExperimentDetail, Report
    from experiments.reports.i18n import Language
    from experiments.rollup import ObjectiveRollup, Ref

__all__ = [
    "DETAIL_LIMIT",
    "LIST_LIMIT",
    "OPEN_LIMIT",
    "groups",
    "policy",
    "render",
    "script",
    "spread",
]

#: Rows a list shows at most (follow-up, candidates to magnify, findings of a move).
LIST_LIMIT: Final = 100
#: Experiments shown in full detail at most; the table lists every one.
DETAIL_LIMIT: Final = 400
#: Up to this many experiments, the details by objective are open when the page opens.
OPEN_LIMIT: Final = 12


@functools.cache
def script() -> Markup:
    """The page's one script, exactly as it is inlined (and hashed)."""
    text = importlib.resources.files("experiments.reports").joinpath("templates/table.js")
    source = text.read_text(encoding="utf-8").strip()
    assert "</" not in source, "the inline script must not contain '</'"
    return Markup(source)  # noqa: S704 - our own file, never user input


@functools.cache
def script_hash() -> str:
    """The CSP source that allows the page's script: ``'sha256-…'``."""
    digest = hashlib.sha256(str(script()).encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def policy() -> str:
    """The page's Content-Security-Policy: nothing loads, nothing is sent, one script runs."""
    return (
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
        f"script-src {script_hash()}; base-uri 'none'; form-action 'none'"
    )


@attrs.frozen
class Group:
    """The experiments shown in detail under one objective (None: under no objective)."""

    objective: ObjectiveRollup | None
    experiments: tuple[ExperimentDetail, ...]
    total: int

    @property
    def anchor(self) -> str:
        return "objective-none" if self.objective is None else self.objective.objective.id


def groups(report: Report) -> tuple[Group, ...]:
    """Each experiment under the first of its objectives in the report's tree.

    At most :data:`DETAIL_LIMIT` experiments are kept, spread evenly: each objective
    keeps its first ones (in title order) in turn, until the limit is reached.
    """
    nodes = [node for _, node in report.objectives()]
    order = {node.objective.id: index for index, node in enumerate(nodes)}
    members: list[list[ExperimentDetail]] = [[] for _ in range(len(nodes) + 1)]
    for experiment in report.experiments:
        places = [order[o.id] for o in experiment.objectives if o.id in order]
        members[min(places, default=len(nodes))].append(experiment)
    kept = spread([len(m) for m in members], DETAIL_LIMIT)
    objectives: Sequence[ObjectiveRollup | None] = [*nodes, None]
    return tuple(
        Group(objective, tuple(group[:keep]), len(group))
        for objective, group, keep in zip(objectives, members, kept, strict=True)
        if group
    )


def timeline_legend(lang: Language) -> dict[str, str]:
    """The words for each fill the timeline can use."""
    words = {f"status-{s.value}": common.upper_first(lang.label(s)) for s in ExperimentStatus}
    words["sprint"] = lang.gettext("Sprint")
    words["upcoming"] = lang.gettext("Upcoming")
    words["overrun"] = lang.gettext("Over its time box")
    return words


def objective_options(report: Report) -> list[Ref]:
    """The objectives the experiment table can be filtered by, in title order."""
    found = {o.id: o for e in report.experiments for o in e.objectives}
    return sorted(found.values(), key=lambda r: (r.title, r.id))


def statuses(report: Report) -> list[ExperimentStatus]:
    """The statuses the experiment table can be filtered by: those that occur."""
    present = {e.status for e in report.experiments}
    return [status for status in ExperimentStatus if status in present]


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
    environment.filters["rfc3339"] = format_datetime  # a <time>'s datetime, as JSON writes it
    return environment


def render(report: Report, lang: Language) -> str:
    """The report as one HTML page with inline CSS, inline SVG charts and one script."""
    template = _environment(lang.translations).get_template("report.html.j2")
    options = objective_options(report)
    detail = groups(report)
    line = timeline(report, lang)
    return template.render(
        report=report,
        lang=lang,
        common=common,
        minds=minds,
        charts=charts(report, lang),
        fills=FILLS,
        has_follow_up=common.has_follow_up(report),
        candidate_groups=common.candidate_groups(report, lang),
        criterion=lambda candidate: common.criterion(lang, candidate),
        policy=policy(),
        script=script(),
        limit=LIST_LIMIT,
        groups=detail,
        timeline=line,
        timeline_drawing=None if line is None else draw(line, lang),
        timeline_legend=timeline_legend(lang),
        timeline_state=state,
        detailed={e.ref.id for group in detail for e in group.experiments},
        open_details=len(report.experiments) <= OPEN_LIMIT,
        objective_options=options if len(options) > 1 else [],
        objective_index={ref.id: index for index, ref in enumerate(options)},
        statuses=statuses(report),
    )
