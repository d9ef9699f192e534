"""The geometry of the HTML report's charts, computed here and drawn by SVG macros.

Every chart is a list of labelled horizontal bars: a label above each bar, the bar in
segments, and its figure written beside it, so that it reads without colour.  Each
fill is a colour with a pattern (solid, hatched, dotted, ...), and a legend names the
fills that need it.  The templates only place what is computed here.

A chart is as wide as its column and is never scaled: its text is set in CSS pixels,
so it keeps its size on a phone and on a wall screen alike.  Heights and text lines are
in pixels, bars in percentages of the width; labels and notes are wrapped to fit the
narrowest column (a 320 px screen), and the figures have the last fifth of the width.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import attrs

from experiments.model import Evidence, ExperimentStatus, HypothesisStatus, Involvement
from experiments.reports import _common as common
from experiments.reports._escape import lines

if TYPE_CHECKING:
    from experiments.reports.data import Report
    from experiments.reports.i18n import Language

__all__ = ["BASELINE", "FILLS", "LINE", "Chart", "charts"]

#: How much of the width, in percent, the longest bar takes; the figures have the rest.
BAR_SHARE: Final = 78
#: A line of text, in pixels (the text itself is 13 px).
LINE: Final = 16
#: Where the text of a line stands: its baseline, this many pixels below the line's top.
BASELINE: Final = 12
_BAR_HEIGHT: Final = 16
_BAR_GAP: Final = 4
_ROW_GAP: Final = 12
#: Characters per line of a label or note: what 13 px text fits in 280 px.
_CHARACTERS: Final = 36
_LABEL_LINES: Final = 2
_NOTE_LINES: Final = 2


@attrs.frozen
class Fill:
    """A colour and a pattern; the pattern is what tells fills apart in black and white."""

    id: str
    colour: str
    pattern: str  # solid, hatch, dots, cross, lines, light


_GREEN, _RED, _AMBER, _GREY = "#2e7d4f", "#b23b2e", "#b7791f", "#8a94a0"
_BLUE, _PURPLE, _TEAL = "#2b62a8", "#6a4fa3", "#1f7a7a"

#: Every fill the charts use, defined once per page.
FILLS: Final = (
    Fill("status-planned", _GREY, "dots"),
    Fill("status-running", _BLUE, "hatch"),
    Fill("status-concluded", _PURPLE, "cross"),
    Fill("status-decided", _GREEN, "solid"),
    Fill("status-abandoned", _RED, "lines"),
    Fill("supported-strong", _GREEN, "solid"),
    Fill("supported-moderate", _GREEN, "hatch"),
    Fill("supported-weak", _GREEN, "dots"),
    Fill("refuted-strong", _RED, "solid"),
    Fill("refuted-moderate", _RED, "hatch"),
    Fill("refuted-weak", _RED, "dots"),
    Fill("inconclusive-strong", _AMBER, "solid"),
    Fill("inconclusive-moderate", _AMBER, "hatch"),
    Fill("inconclusive-weak", _AMBER, "dots"),
    Fill("untested", _GREY, "light"),
    Fill("share", _BLUE, "solid"),
    Fill("depth-informed", _TEAL, "light"),
    Fill("depth-consulted", _TEAL, "hatch"),
    Fill("depth-co-creating", _TEAL, "solid"),
    Fill("progress", _TEAL, "solid"),
    Fill("legend-strong", "#555555", "solid"),
    Fill("legend-moderate", "#555555", "hatch"),
    Fill("legend-weak", "#555555", "dots"),
    Fill("sprint", _TEAL, "lines"),
    Fill("upcoming", _GREY, "light"),
    Fill("overrun", _RED, "hatch"),
)

_STATUS_FILL: Final = {status: f"status-{status.value}" for status in ExperimentStatus}
_EVIDENCE_ORDER: Final = tuple(sorted(Evidence, reverse=True))  # strongest first


@attrs.frozen
class Segment:
    """Part of a bar: where it starts and how long it is, in percent of the width."""

    x: float
    width: float
    fill: str
    title: str


@attrs.frozen
class Text:
    """A line of text and the pixel height of its baseline."""

    y: float
    text: str


@attrs.frozen
class Row:
    """One bar with its label above it, its figure beside it and a note below it."""

    label: tuple[Text, ...]
    note: tuple[Text, ...]
    bar_y: float
    segments: tuple[Segment, ...]
    track: bool
    value: str
    value_x: float


@attrs.frozen
class LegendItem:
    fill: str
    label: str


@attrs.frozen
class Chart:
    """One chart: its id (for the page), title, height in pixels, rows and legend."""

    id: str
    title: str
    description: str
    height: float
    rows: tuple[Row, ...]
    legend: tuple[LegendItem, ...]
    bar_height: int = _BAR_HEIGHT
    bar_share: int = BAR_SHARE

    @property
    def empty(self) -> bool:
        return not self.rows


@attrs.frozen
class _Bar:
    """What one row shows: label, segments as (value, fill, title), figure, note."""

    label: str
    parts: Sequence[tuple[float, str, str]]
    figure: str
    track: bool = False
    note: str = ""


def _texts(text: str, top: float, most: int) -> tuple[Text, ...]:
    if not text.strip():
        return ()
    wrapped = lines(text, _CHARACTERS, most)
    return tuple(Text(top + BASELINE + LINE * i, line) for i, line in enumerate(wrapped))


def _layout(bars: Sequence[_Bar], scale: float) -> tuple[tuple[Row, ...], float]:
    """Rows placed one under the other; bars are ``value / scale`` of the bars' width."""
    rows = []
    top = 0.0
    for bar in bars:
        label = _texts(bar.label, top, _LABEL_LINES)
        bar_y = top + LINE * len(label) + _BAR_GAP
        note = _texts(bar.note, bar_y + _BAR_HEIGHT + _BAR_GAP, _NOTE_LINES)
        x = 0.0
        segments = []
        for value, fill, title in bar.parts:
            width = 0.0 if scale <= 0 else BAR_SHARE * value / scale
            if width > 0:
                segments.append(Segment(round(x, 2), round(width, 2), fill, title))
            x += width
        rows.append(
            Row(
                label=label,
                note=note,
                bar_y=bar_y,
                segments=tuple(segments),
                track=bar.track,
                value=bar.figure,
                value_x=round(BAR_SHARE if bar.track else x, 2),
            )
        )
        top = bar_y + _BAR_HEIGHT + _BAR_GAP + LINE * len(note) + _ROW_GAP
    return tuple(rows), max(top - _ROW_GAP + _BAR_GAP, 0.0)


def _status_chart(report: Report, lang: Language) -> Chart:
    by_status = report.rollup.total.by_status
    bars = [
        _Bar(
            common.upper_first(lang.label(status)),
            [(n, _STATUS_FILL[status], f"{lang.label(status)}: {lang.number(n)}")],
            lang.number(n),
        )
        for status, n in by_status.items()
    ]
    rows, height = _layout(bars, max(by_status.values(), default=0))
    return Chart(
        "chart-status",
        lang.gettext("Experiments by status"),
        lang.gettext("How many experiments are at each stage of their life."),
        height,
        rows,
        (),
    )


def _evidence(lang: Language, evidence: Evidence) -> str:
    return lang.gettext("%(strength)s evidence") % {"strength": lang.label(evidence)}


def _hypothesis_chart(report: Report, lang: Language) -> Chart:
    strength: Counter[tuple[HypothesisStatus, Evidence | None]] = Counter(
        (h.status, h.evidence) for e in report.experiments for h in e.hypotheses
    )
    totals = report.rollup.total.hypotheses
    bars = []
    for status in common.HYPOTHESIS_ORDER:
        word = lang.label(status)
        if status is HypothesisStatus.UNTESTED:
            parts = [(totals[status], "untested", f"{word}: {lang.number(totals[status])}")]
        else:
            parts = [
                (
                    strength[(status, evidence)],
                    f"{status.value}-{evidence.value}",
                    (
                        f"{word}, {_evidence(lang, evidence)}: "
                        f"{lang.number(strength[(status, evidence)])}"
                    ),
                )
                for evidence in _EVIDENCE_ORDER
            ]
        bars.append(_Bar(common.upper_first(word), parts, lang.number(totals[status])))
    legend = tuple(LegendItem(f"legend-{e.value}", _evidence(lang, e)) for e in _EVIDENCE_ORDER)
    rows, height = _layout(bars, max(totals.values(), default=0))
    return Chart(
        "chart-hypotheses",
        lang.gettext("Hypotheses and their evidence"),
        lang.gettext(
            "Where the evidence on each hypothesis stands, and how strong the latest learning "
            "behind it is."
        ),
        height,
        rows,
        legend,
    )


def _involvement_chart(report: Report, lang: Language) -> Chart:
    who = report.rollup.total.involvement
    bars = []
    for label, count, part in (
        (lang.gettext("External participants"), who.external, who.share_external),
        (lang.gettext("Critical voices"), who.critical, who.share_critical),
        (lang.gettext("Frontline staff"), who.frontline, who.share_frontline),
    ):
        figure = common.share(lang, part)
        note = lang.counted("%(count)s participant", "%(count)s participants", count)
        title = f"{label}: {figure} ({note})"
        bars.append(_Bar(label, [(part or 0.0, "share", title)], figure, track=True, note=note))
    legend: tuple[LegendItem, ...] = ()
    if who.participants:
        depth = [
            (
                who.depth.get(level, 0) / who.participants,
                f"depth-{level.value}",
                f"{lang.label(level)}: {lang.number(who.depth.get(level, 0))}",
            )
            for level in Involvement
        ]
        bars.append(
            _Bar(
                lang.gettext("Deepest involvement"),
                depth,
                "",
                track=True,
                note=common.depth(lang, who),
            )
        )
        legend = tuple(
            LegendItem(f"depth-{level.value}", lang.label(level)) for level in Involvement
        )
    rows, height = _layout(bars, 1.0)
    return Chart(
        "chart-involvement",
        lang.gettext("Who was let in"),
        lang.counted(
            "Shares of %(count)s participant, each counted once.",
            "Shares of %(count)s participants, each counted once.",
            who.participants,
        ),
        height,
        rows,
        legend,
    )


def _key_result_chart(report: Report, lang: Language) -> Chart:
    bars = []
    for _objective, kr in report.key_results():
        unit = kr.key_result.unit
        if kr.progress is None:
            figure = "\u2013"
            note = lang.gettext("no measurement yet")
        else:
            figure = lang.percent(kr.progress)
            note = lang.gettext("latest %(latest)s, target %(target)s") % {
                "latest": common.quantity(lang, kr.latest, None),
                "target": common.quantity(lang, kr.key_result.target, unit),
            }
        title = f"{kr.key_result.metric}: {figure} ({note})"
        bars.append(
            _Bar(
                kr.key_result.metric,
                [(kr.progress or 0.0, "progress", title)],
                figure,
                track=True,
                note=note,
            )
        )
    rows, height = _layout(bars, 1.0)
    return Chart(
        "chart-key-results",
        lang.gettext("Key-result progress"),
        lang.gettext("How far each key result has come from its baseline towards its target."),
        height,
        rows,
        (),
    )


def charts(report: Report, lang: Language) -> tuple[Chart, ...]:
    """The four charts of the HTML report, in the order they are shown."""
    return (
        _status_chart(report, lang),
        _hypothesis_chart(report, lang),
        _involvement_chart(report, lang),
        _key_result_chart(report, lang),
    )
