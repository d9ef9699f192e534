"""The reports' timeline: experiments and sprints on a time axis, per objective."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

import pytest

import experiments
from experiments import Experiment, Objective, Plugins, reports
from experiments.reports import Language, Report
from experiments.reports._timeline import TIMELINE_LIMIT, draw, timeline
from report_programmes import build_report, municipality

LANGUAGES = ("en", "da", "nb", "sv")
AT = "2026-06-01T12:00:00Z"


@pytest.fixture(scope="module")
def report() -> Iterator[Report]:
    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
        municipality.record_programme(store)
        yield build_report(store)


@pytest.fixture
def dated() -> Iterator[Report]:
    """A running experiment past its box, a planned one to come, one without dates."""
    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
        welfare = store.save(Objective(title="Welfare: at home", slug="welfare"))
        late = store.save(
            Experiment(
                title="Late: walks",
                objectives=[welfare],
                time_box="2026-04-01T00:00:00Z/2026-05-01T00:00:00Z",
            )
        )
        store.save(late.start(at="2026-04-01T00:00:00Z"))
        store.save(
            Experiment(
                title="Coming visits",
                objectives=[welfare],
                time_box="2026-07-01T00:00:00Z/P4W",
            )
        )
        store.save(Experiment(title="Someday", objectives=[welfare], time_box="P2W"))
        yield reports.build(store, at=AT)


class TestSpans:
    """What the timeline shows, read from the report."""

    def test_the_programme_s_lane(self, report: Report) -> None:
        """The sprint first, then the experiments by their first day, under their objective."""
        line = timeline(report, Language.load("en"))
        assert line is not None
        (lane,) = line.lanes
        assert lane.title == "Develop core welfare services with the citizens in 100 days"
        sprint, *rest = lane.spans
        assert sprint.ref.title == "100-day welfare sprint"
        assert [s.first for s in rest] == sorted(s.first for s in rest)
        assert all(not s.sprint for s in rest)
        assert sprint.sprint
        assert (sprint.first, sprint.last) == (dt.date(2026, 8, 17), dt.date(2026, 11, 24))
        assert line.today == dt.date(2026, 11, 27)

    def test_an_overrun_is_counted_as_the_check_counts_it(self, report: Report) -> None:
        """The café's days over its box are the days the overdue finding gives."""
        line = timeline(report, Language.load("en"))
        assert line is not None
        cafe = next(s for s in line.spans if s.ref.title.startswith("Homework café"))
        (finding,) = [f for f in report.findings or () if f.check == "follow-up/overdue"]
        assert finding.wording is not None
        assert cafe.overrun_days == finding.wording.count == 45
        assert cafe.overrun == line.today

    def test_upcoming_overrun_and_undated(self, dated: Report) -> None:
        """A planned box to come is upcoming; a running one past its end overruns."""
        line = timeline(dated, Language.load("en"))
        assert line is not None
        spans = {s.ref.title: s for s in line.spans}
        assert set(spans) == {"Late: walks", "Coming visits"}
        assert spans["Coming visits"].upcoming
        assert not spans["Late: walks"].upcoming
        assert spans["Late: walks"].last == dt.date(2026, 4, 30)
        assert spans["Late: walks"].overrun_days == 31
        assert line.undated == 1

    def test_nothing_dated_means_no_timeline(self) -> None:
        """A report whose experiments have no dates has no timeline section."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            store.save(Experiment(title="Someday"))
            empty = reports.build(store, at=AT)
        assert timeline(empty, Language.load("en")) is None
        assert 'id="timeline"' not in str(reports.render(empty, "html"))
        assert "```mermaid\ngantt" not in str(reports.render(empty, "md"))

    def test_a_large_programme_shows_the_limit_and_says_so(self) -> None:
        """At most the limit, shared among the objectives, and a note of how many in all."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            objectives = [
                store.save(Objective(title=f"Objective {n}", slug=f"o{n}")) for n in range(3)
            ]
            for n in range(90):
                store.save(
                    Experiment(
                        title=f"Experiment {n}",
                        objectives=[objectives[n % 3]],
                        time_box=f"2026-{n % 12 + 1:02d}-01T00:00:00Z/P3W",
                    )
                )
            big = reports.build(store, at=AT)
        line = timeline(big, Language.load("en"))
        assert line is not None
        assert (line.shown, line.total) == (TIMELINE_LIMIT, 90)
        assert [len(lane.spans) for lane in line.lanes] == [20, 20, 20]
        note = f"The timeline shows {TIMELINE_LIMIT} of 90"
        assert note in str(reports.render(big, "html"))
        assert note in str(reports.render(big, "md"))


class TestDrawing:
    """The HTML drawing: fixed pixels, marked overruns, words for every bar."""

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_every_language_marks_overrun_and_upcoming(self, dated: Report, lang: str) -> None:
        """The labels and the list say it in the report's language, the legend names it."""
        language = Language.load(lang)
        page = str(reports.render(dated, "html", lang))
        over = language.counted(
            "%(count)s day over its time box", "%(count)s days over its time box", 31
        )
        upcoming = language.gettext("upcoming")
        assert f"Late: walks ({over})" in page
        assert f"Coming visits ({upcoming})" in page
        assert language.gettext("Over its time box") in page
        assert language.gettext("The timeline in words") in page
        if lang != "en":
            assert over != "31 days over its time box"

    def test_the_drawing_is_fixed_width_and_accessible(self, report: Report) -> None:
        """The SVG has pixel sizes, a title and a description, in a focusable scroll box."""
        drawing = draw(timeline(report, Language.load("en")), Language.load("en"))  # type: ignore[arg-type]
        assert drawing.width >= 880
        page = str(reports.render(report, "html"))
        section = page[page.index('<section id="timeline">') :]
        section = section[: section.index("</section>")]
        assert '<div class="scroll" role="region" aria-label="Timeline" tabindex="0">' in section
        assert f'<svg width="{drawing.width}" height="{drawing.height}"' in section
        assert 'role="img" aria-labelledby="timeline-title timeline-description"' in section
        assert '<desc id="timeline-description">' in section
        assert drawing.today == "27 November 2026"


class TestGantt:
    """The Markdown report's Mermaid Gantt chart."""

    def test_tasks_sections_and_the_report_s_day(self, dated: Report) -> None:
        """A section per objective, a task per span (ending the day after), overrun critical."""
        markdown = str(reports.render(dated, "md"))
        gantt = markdown[markdown.index("```mermaid\ngantt") :]
        gantt = gantt[: gantt.index("\n```\n")]
        assert "    section Welfare#58; at home" in gantt
        assert "    Late#58; walks :active, t1, 2026-04-01, 2026-05-01" in gantt
        assert (
            "    Late#58; walks (31 days over its time box) :crit, t1x, 2026-05-01, 2026-06-02"
            in gantt
        )
        assert "    Coming visits (upcoming) :t2, 2026-07-01, 2026-07-29" in gantt
        assert "    1 June 2026 :milestone, today, 2026-06-01, 0d" in gantt
        assert "- Late: walks: 1 April 2026 \u2013 30 April 2026 (30 days): running" in markdown
