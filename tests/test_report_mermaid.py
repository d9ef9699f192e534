"""The Markdown report's Mermaid diagrams, rendered by mermaid-cli as a wiki would.

mermaid-cli (from npm, ``tests/node``) drives Debian's Chromium through Puppeteer; a
diagram that does not parse makes it fail, and so the test.  What is missing skips the
tests, or fails them in CI (see ``needs.py``).
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest

import experiments
from experiments import Experiment, Objective, Plugins, reports
from experiments.reports import Report
from needs import mermaid_cli
from report_programmes import SCRIPT, build_report, hostile_store, municipality

pytestmark = pytest.mark.chromium

LANGUAGES = ("en", "da", "nb", "sv")


@pytest.fixture(scope="module")
def report() -> Iterator[Report]:
    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
        municipality.record_programme(store)
        yield build_report(store)


def render_diagrams(
    markdown: str, directory: Path
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """mermaid-cli's run over a Markdown file, and the SVG of each diagram it drew."""
    source = directory / "report.md"
    source.write_text(markdown, encoding="utf-8")
    done = subprocess.run(
        [*mermaid_cli(directory), "--input", str(source), "--output", str(directory / "out.md")],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    drawn = sorted(directory.glob("out-*.svg"), key=lambda p: int(p.stem.split("-")[1]))
    return done, [p.read_text(encoding="utf-8") for p in drawn]


def shown_text(svg: str) -> str:
    """The words a drawn diagram shows, on one line."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", svg)).split())


class TestMermaid:
    """Every diagram of every report parses and draws."""

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_every_diagram_renders(self, report: Report, tmp_path: Path, lang: str) -> None:
        """The report's map draws in each language, with whole titles and translated words."""
        markdown = str(reports.render(report, "md", lang))
        done, drawn = render_diagrams(markdown, tmp_path)
        assert done.returncode == 0, done.stderr
        assert len(drawn) == markdown.count("```mermaid") == 2  # the timeline, the map
        timeline, flowchart = drawn
        language = reports.Language.load(lang)
        shown = shown_text(timeline)
        assert language.gettext("When experiments and sprints ran") in shown
        assert "100-day welfare sprint" in shown
        over = language.counted(
            "%(count)s day over its time box", "%(count)s days over its time box", 45
        )
        assert f"Homework café with local businesses ({over})" in shown
        words = shown_text(flowchart)
        for experiment in report.experiments:
            assert experiment.ref.title in words
            for hypothesis in experiment.hypotheses:
                assert hypothesis.ref.title in words  # not cut mid-word any more
        status = reports.Language.load(lang).label(report.experiments[0].status)
        assert status in words

    def test_hostile_titles_render_as_text(self, tmp_path: Path) -> None:
        """Quotes, brackets, pipes and markup in titles still make a diagram that parses."""
        store = hostile_store()
        try:
            hostile = build_report(store, "hostile")
        finally:
            store.close()
        markdown = str(reports.render(hostile, "md", "da"))
        done, drawn = render_diagrams(markdown, tmp_path)
        assert done.returncode == 0, done.stderr
        assert len(drawn) == markdown.count("```mermaid") >= 1
        assert all(SCRIPT in shown_text(svg) for svg in drawn)
        assert all("<script>" not in svg for svg in drawn)

    def test_a_gantt_with_colons_and_quotes_renders(self, tmp_path: Path) -> None:
        """Titles with colons, quotes and hashes make a timeline that parses and shows them."""
        with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
            objective = store.save(Objective(title='Plan: "B" #1; <b>', slug="plan"))
            store.save(
                Experiment(
                    title="Walks: 10:30 sharp; #2 'x' <i>",
                    objectives=[objective],
                    time_box="2026-04-01T00:00:00Z/P4W",
                )
            )
            markdown = str(reports.render(reports.build(store, at="2026-06-01T00:00:00Z"), "md"))
        done, drawn = render_diagrams(markdown, tmp_path)
        assert done.returncode == 0, done.stderr
        assert "gantt" in markdown
        shown = " ".join(shown_text(svg) for svg in drawn)
        assert "Walks: 10:30 sharp; #2 'x' <i>" in shown
        assert 'Plan: "B" #1; <b>' in shown

    def test_a_diagram_that_does_not_parse_fails(self, tmp_path: Path) -> None:
        """A broken diagram makes mermaid-cli fail, so these tests can fail."""
        broken = '# Broken\n\n```mermaid\nflowchart LR\n    E1["open --> E2\n```\n'
        done, drawn = render_diagrams(broken, tmp_path)
        assert done.returncode != 0
        assert "Parse error" in done.stderr
        assert drawn == []
