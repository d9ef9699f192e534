"""When experiments and sprints ran, per objective: what the timeline of a report shows.

One list of spans feeds both drawings, the HTML report's SVG and the Markdown report's
Mermaid Gantt chart, so they agree.  A span runs over whole days, first and last both
counted (:func:`~experiments.model.asof.days_covered`): an experiment's time box (or,
without one, from its start to its end or the report's moment), a sprint's time box.
A running experiment past its time box, or one concluded after it, has an overrun; a
span that starts after the report's moment is upcoming.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, Final

import attrs

from experiments.model import ExperimentStatus
from experiments.model import asof as rules
from experiments.model._time import days_between
from experiments.reports import _common as common
from experiments.reports._charts import BASELINE, LINE
from experiments.reports._escape import shorten

if TYPE_CHECKING:
    import pendulum

    from experiments.reports.data import ExperimentDetail, Report
    from experiments.reports.i18n import Language
    from experiments.rollup import Ref
    from experiments.sprints import SprintRollup

__all__ = [
    "TIMELINE_LIMIT",
    "WIDTH",
    "Drawing",
    "Lane",
    "Span",
    "Timeline",
    "draw",
    "state",
    "timeline",
]

#: Spans a timeline shows at most, shared fairly among the objectives.
TIMELINE_LIMIT: Final = 60

_RUNNING = ExperimentStatus.RUNNING
_DONE: Final = (ExperimentStatus.CONCLUDED, ExperimentStatus.DECIDED)


@attrs.frozen
class Span:
    """One experiment or sprint on the time axis, over whole days.

    ``first`` and ``last`` are its first and last day; ``overrun`` the last day of its
    overrun past ``last`` (None without one), ``overrun_days`` the whole days it ran
    over, counted as the checks count them; ``upcoming`` whether it starts after the
    report's moment.  ``status`` is an experiment's (None for a sprint).
    """

    ref: Ref
    first: dt.date
    last: dt.date
    status: ExperimentStatus | None
    overrun: dt.date | None = None
    overrun_days: int = 0
    upcoming: bool = False

    @property
    def sprint(self) -> bool:
        return self.status is None

    @property
    def end(self) -> dt.date:
        """The last day drawn: that of the overrun, if there is one."""
        return self.overrun or self.last


@attrs.frozen
class Lane:
    """The spans under one objective (``title``), and how many it has in all."""

    title: str
    spans: tuple[Span, ...]
    total: int


@attrs.frozen
class Timeline:
    """The lanes, the first and last day they cover, and the report's day."""

    lanes: tuple[Lane, ...]
    first: dt.date
    last: dt.date
    today: dt.date
    undated: int

    @property
    def spans(self) -> Iterator[Span]:
        for lane in self.lanes:
            yield from lane.spans

    @property
    def shown(self) -> int:
        return sum(len(lane.spans) for lane in self.lanes)

    @property
    def total(self) -> int:
        return sum(lane.total for lane in self.lanes)


def _experiment(experiment: ExperimentDetail, at: pendulum.DateTime) -> Span | None:
    status = experiment.status
    today = at.date()
    start, end = experiment.planned_start, experiment.planned_end
    ended = experiment.concluded_at or experiment.abandoned_at
    if start is None or end is None:
        begun = experiment.started_at
        if begun is None:
            return None
        began: dt.date = begun.date()
        return Span(experiment.ref, began, max(ended.date() if ended else today, began), status)
    first, last, _ = rules.days_covered(start, end)
    concluded = experiment.concluded_at
    # Days over as the checks count them: whole days from the end of the time box.
    over = rules.overdue_days(status, end, at) if status is _RUNNING else None
    overrun = today if over else None
    if status in _DONE and concluded is not None and concluded > end:
        over = days_between(end, concluded)
        overrun = concluded.date() if over else None
    upcoming = first > today and status is ExperimentStatus.PLANNED
    return Span(experiment.ref, first, last, status, overrun, over or 0, upcoming=upcoming)


def _sprint(sprint: SprintRollup, today: dt.date) -> Span | None:
    box = sprint.time_box
    if box is None or box.start is None or box.end is None:
        return None
    first, last, _ = rules.days_covered(box.start, box.end)
    return Span(sprint.ref, first, last, None, upcoming=first > today)


def timeline(report: Report, lang: Language, limit: int = TIMELINE_LIMIT) -> Timeline | None:
    """The report's experiments and sprints per objective, or None when none has dates.

    Each experiment is under the first of its objectives in the report's tree (as the
    detail is), each sprint under the first objective of its experiments; those under
    none come last.  Within a lane sprints come first, then by first day and title.  At
    most ``limit`` spans are kept, shared fairly among the lanes.
    """
    today = report.at.date()
    nodes = [node for _, node in report.objectives()]
    members, undated = _lanes_of(report, nodes, today)
    for spans in members:
        spans.sort(key=lambda s: (not s.sprint, s.first, s.ref.title, s.ref.id))
    everything = [span for spans in members for span in spans]
    if not everything:
        return None
    kept = common.spread([len(spans) for spans in members], limit)
    titles = [node.objective.title for node in nodes] + [lang.gettext("Not linked to an objective")]
    lanes = tuple(
        Lane(title, tuple(spans[:keep]), len(spans))
        for title, spans, keep in zip(titles, members, kept, strict=True)
        if spans
    )
    shown = [span for lane in lanes for span in lane.spans]
    return Timeline(
        lanes,
        min(*(s.first for s in shown), today),
        max(*(s.end for s in shown), today),
        today,
        undated,
    )


def _lanes_of(report: Report, nodes: list[Any], today: dt.date) -> tuple[list[list[Span]], int]:
    """The spans under each objective (and a last lane for none), and how many had no dates."""
    order = {node.objective.id: index for index, node in enumerate(nodes)}
    members: list[list[Span]] = [[] for _ in range(len(nodes) + 1)]
    place: dict[str, int] = {}
    undated = 0
    for experiment in report.experiments:
        index = min(
            (order[o.id] for o in experiment.objectives if o.id in order), default=len(nodes)
        )
        place[experiment.ref.id] = index
        span = _experiment(experiment, report.at)
        if span is None:
            undated += 1
        else:
            members[index].append(span)
    for sprint in report.rollup.sprints:
        span = _sprint(sprint, today)
        if span is None:
            undated += 1
            continue
        index = min(
            (place.get(ref.id, len(nodes)) for ref, _ in sprint.experiments), default=len(nodes)
        )
        members[index].append(span)
    return members, undated


def state(lang: Language, span: Span) -> str:
    """What a span is, in words: its days, its status, an overrun, or that it is upcoming."""
    words = [lang.gettext("sprint") if span.status is None else lang.label(span.status)]
    return (
        f"{common.day_range(lang, span.first, span.last)}: {', '.join(words + marks(lang, span))}"
    )


def overrun(lang: Language, span: Span) -> str:
    """The time a span ran over its time box, in words: "45 days over its time box"."""
    return lang.counted(
        "%(count)s day over its time box", "%(count)s days over its time box", span.overrun_days
    )


def marks(lang: Language, span: Span) -> list[str]:
    """What the timeline marks on a span: its overrun, or that it is upcoming."""
    found = [] if span.overrun is None else [overrun(lang, span)]
    return found + ([lang.gettext("upcoming")] if span.upcoming else [])


# --- the HTML report's drawing ---------------------------------------------------------

#: The drawing is at least this many pixels wide; a long span makes it wider, and on a
#: narrow screen it scrolls inside its own box (its text keeps its 13 px).
WIDTH: Final = 880
_PAD: Final = 8
_MOST_PER_DAY: Final = 12.0
_LEAST_PER_DAY: Final = 1.0
_AXIS: Final = 44
_LANE: Final = 26
_BAR: Final = 14
_GAP: Final = 10
#: Between a bar's label and the bar.
_UNDER_LABEL: Final = 2
_TICK_SPACE: Final = 120
_LABEL: Final = 60
_LABEL_ROOM: Final = 440


@attrs.frozen
class Tick:
    """A month on the axis: where, and its name (with the year where one begins)."""

    x: float
    label: str


@attrs.frozen
class Bar:
    """A span as drawn: its label, its bar, its overrun and what it says in words."""

    span: Span
    label: str
    label_x: float
    label_y: float
    y: float
    x: float
    width: float
    fill: str
    over_x: float
    over_width: float
    words: str


@attrs.frozen
class DrawnLane:
    title: str
    y: float
    bars: tuple[Bar, ...]
    more: int


@attrs.frozen
class Drawing:
    """The timeline placed in pixels: its size, axis, lanes and the report's day."""

    width: float
    height: float
    ticks: tuple[Tick, ...]
    lanes: tuple[DrawnLane, ...]
    today_x: float
    today: str
    fills: tuple[str, ...]

    @property
    def today_anchor(self) -> str:
        """Where the report's day is written: left of its line in the right half."""
        return "end" if self.today_x > self.width / 2 else "start"


def _fill(span: Span) -> str:
    if span.upcoming:
        return "upcoming"
    if span.status is None:
        return "sprint"
    return f"status-{span.status.value}"


def _ticks(lang: Language, first: dt.date, last: dt.date, x: Any, per_day: float) -> list[Tick]:
    step = next((months for months in (1, 2, 3, 6, 12) if months * 30 * per_day >= _TICK_SPACE), 12)
    ticks = []
    year, month = first.year, first.month
    shown_year = False
    while dt.date(year, month, 1) <= last:
        day = dt.date(year, month, 1)
        if day >= first and (month - 1) % step == 0:
            name = lang.month(month)
            label = name if shown_year and month != 1 else f"{name} {year}"
            shown_year = True
            ticks.append(Tick(x(day), label))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)  # noqa: PLR2004
    return ticks


def draw(timeline: Timeline, lang: Language) -> Drawing:
    """Where everything of the timeline goes, in pixels."""
    days = (timeline.last - timeline.first).days + 1
    per_day = max(min((WIDTH - 2 * _PAD) / days, _MOST_PER_DAY), _LEAST_PER_DAY)
    width = round(2 * _PAD + days * per_day, 1)

    def x(day: dt.date) -> float:
        return round(_PAD + (day - timeline.first).days * per_day, 1)

    lanes = []
    top = float(_AXIS)
    used: set[str] = set()
    for lane in timeline.lanes:
        title_y = top + _LANE - 8
        top += _LANE
        bars = []
        for span in lane.spans:
            start, end = x(span.first), x(span.last) + per_day
            marked = marks(lang, span)
            label = shorten(span.ref.title, _LABEL)
            if marked:
                label += f" ({', '.join(marked)})"
            fill = _fill(span)
            used.add(fill)
            over_x = end
            over_width = 0.0 if span.overrun is None else x(span.overrun) + per_day - end
            if over_width:
                used.add("overrun")
            bars.append(
                Bar(
                    span,
                    label,
                    max(_PAD, min(start, width - _LABEL_ROOM)),
                    top + BASELINE,
                    top + LINE + _UNDER_LABEL,
                    start,
                    round(end - start, 1),
                    fill,
                    over_x,
                    round(over_width, 1),
                    state(lang, span),
                )
            )
            top += LINE + _UNDER_LABEL + _BAR + _GAP
        lanes.append(DrawnLane(lane.title, title_y, tuple(bars), lane.total - len(lane.spans)))
    order = ("sprint", *(f"status-{s.value}" for s in ExperimentStatus), "upcoming", "overrun")
    return Drawing(
        width=width,
        height=round(top, 1),
        ticks=tuple(_ticks(lang, timeline.first, timeline.last, x, per_day)),
        lanes=tuple(lanes),
        today_x=round(x(timeline.today) + per_day / 2, 1),
        today=lang.date(timeline.today),
        fills=tuple(f for f in order if f in used),
    )
