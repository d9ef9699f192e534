"""The geometry of the HTML report's charts, computed here and drawn by SVG macros.

Every chart is a list of labelled horizontal bars: a label above each bar, the bar in
segments, and its figure written beside it, so that it reads without colour.  Each
fill is a colour with a pattern (solid, hatched, dotted, ...), and a legend names the
fills that need it.  The templates only place what is computed here.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import attrs

from experiments.model import Evidence, ExperimentStatus, HypothesisStatus, Involvement
from experiments.reports import _common as common

if TYPE_CHECKING:
    from experiments.reports.data import Report
    from experiments.reports.i18n import Language

__all__ = ["FILLS", "Chart", "charts"]

#: Width of every chart in SVG user units; the page scales it to the column.
WIDTH: Final = 560
_BAR_WIDTH: Final = 420
_ROW: Final = 40
_LABEL_GAP: Final = 16
_BAR_HEIGHT: Final = 16
_LEGEND_ROW: Final = 22
_LABEL_CHARACTERS: Final = 64
_NOTE: Final = 14


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
)

_STATUS_FILL: Final = {status: f"status-{status.value}" for status in ExperimentStatus}
_EVIDENCE_ORDER: Final = (Evidence.STRONG, Evidence.MODERATE, Evidence.WEAK)


@attrs.frozen
class Segment:
    x: float
    width: float
    fill: str
    title: str


@attrs.frozen
class Row:
    label: str
    note: str
    note_y: float
    label_y: float
    bar_y: float
    segments: tuple[Segment, ...]
    track: float | None
    value: str
    value_x: float


@attrs.frozen
class LegendItem:
    x: float
    y: float
    fill: str
    label: str


@attrs.frozen
class Chart:
    """One chart: its id (for the page), title, height, rows and legend."""

    id: str
    title: str
    description: str
    height: float
    rows: tuple[Row, ...]
    legend: tuple[LegendItem, ...]
    width: int = WIDTH
    bar_height: int = _BAR_HEIGHT

    @property
    def empty(self) -> bool:
        return not self.rows


def _shorten(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: max(limit - 1, 1)].rstrip() + "\u2026"


@attrs.frozen
class _Bar:
    """What one row shows: label, segments as (value, fill, title), figure, note."""

    label: str
    parts: Sequence[tuple[float, str, str]]
    figure: str
    track: bool = False
    note: str = ""


def _layout(
    bars: Sequence[_Bar], scale: float, legend: Sequence[tuple[str, str]]
) -> tuple[tuple[Row, ...], tuple[LegendItem, ...], float]:
    """Rows and a legend placed one under the other; bars are ``value / scale`` long."""
    step = _ROW + (_NOTE if any(bar.note for bar in bars) else 0)
    rows = []
    for index, bar in enumerate(bars):
        top = index * step
        x = 0.0
        segments = []
        for value, fill, title in bar.parts:
            width = 0.0 if scale <= 0 else _BAR_WIDTH * value / scale
            if width > 0:
                segments.append(Segment(round(x, 2), round(width, 2), fill, title))
            x += width
        rows.append(
            Row(
                label=_shorten(bar.label, _LABEL_CHARACTERS),
                note=_shorten(bar.note, _LABEL_CHARACTERS),
                note_y=top + _LABEL_GAP + _BAR_HEIGHT + 13,
                label_y=top + 12,
                bar_y=top + _LABEL_GAP,
                segments=tuple(segments),
                track=float(_BAR_WIDTH) if bar.track else None,
                value=bar.figure,
                value_x=round((_BAR_WIDTH if bar.track else x) + 8, 2),
            )
        )
    items = []
    x, y = 0.0, len(bars) * step + 8
    for fill, text in legend:
        width = 22 + 7 * len(text) + 16
        if x > 0 and x + width > WIDTH:
            x, y = 0.0, y + _LEGEND_ROW
        items.append(LegendItem(round(x, 2), y, fill, text))
        x += width
    height = (y + _LEGEND_ROW) if legend else len(bars) * step + 4
    return tuple(rows), tuple(items), height


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
    rows, legend, height = _layout(bars, max(by_status.values(), default=0), ())
    return Chart(
        "chart-status",
        lang.gettext("Experiments by status"),
        lang.gettext("How many experiments are at each stage of their life."),
        height,
        rows,
        legend,
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
    legend = [(f"legend-{e.value}", _evidence(lang, e)) for e in _EVIDENCE_ORDER]
    rows, items, height = _layout(bars, max(totals.values(), default=0), legend)
    return Chart(
        "chart-hypotheses",
        lang.gettext("Hypotheses and their evidence"),
        lang.gettext(
            "Where the evidence on each hypothesis stands, and how strong the latest learning "
            "behind it is."
        ),
        height,
        rows,
        items,
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
    legend: list[tuple[str, str]] = []
    if who.participants:
        depth = [
            (
                who.depth.get(level, 0) / who.participants,
                f"depth-{level.value}",
                f"{lang.label(level)}: {lang.number(who.depth.get(level, 0))}",
            )
            for level in Involvement
        ]
        bars.append(_Bar(lang.gettext("Deepest involvement"), depth, "", track=True))
        legend = [(f"depth-{level.value}", lang.label(level)) for level in Involvement]
    rows, items, height = _layout(bars, 1.0, legend)
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
        items,
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
    rows, items, height = _layout(bars, 1.0, ())
    return Chart(
        "chart-key-results",
        lang.gettext("Key-result progress"),
        lang.gettext("How far each key result has come from its baseline towards its target."),
        height,
        rows,
        items,
    )


def charts(report: Report, lang: Language) -> tuple[Chart, ...]:
    """The four charts of the HTML report, in the order they are shown."""
    return (
        _status_chart(report, lang),
        _hypothesis_chart(report, lang),
        _involvement_chart(report, lang),
        _key_result_chart(report, lang),
    )
