"""The HTML report opened in a real headless Chromium, as readers open it.

No console error and no request; the page fits every screen from a phone's to a desktop's
and passes axe-core; the experiment table is searched, filtered and sorted by the page's
one script, which its Content-Security-Policy allows by hash; a page of ten thousand
experiments opens and works.  Chromium is Debian's (``/usr/bin/chromium``), driven by
Playwright for Python; no browser is downloaded.  What is missing skips the tests, or
fails them in CI (see ``needs.py``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import experiments
from experiments import Plugins, reports
from experiments.reports import Report
from experiments.reports._html import DETAIL_LIMIT, policy
from needs import CHROMIUM_FLAGS, axe_source, chromium, missing
from report_programmes import LARGE, SCRIPT, build_report, hostile_store, municipality

pytestmark = pytest.mark.chromium

LANGUAGES = ("en", "da", "nb", "sv")


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole test session."""
    executable = chromium()
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional
    except ImportError:
        missing("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(executable), args=list(CHROMIUM_FLAGS), headless=True
        )
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def axe() -> str:
    return axe_source()


class _Visit:
    """A page opened from a file, with everything it said and asked for.

    ``bypass_csp`` lets a test inject axe-core; ``script=False`` opens the page as a
    reader with script turned off does.
    """

    def __init__(
        self,
        browser: Any,
        path: Path,
        width: int = 1280,
        *,
        bypass_csp: bool = False,
        script: bool = True,
    ) -> None:
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(
            viewport={"width": width, "height": 900},
            bypass_csp=bypass_csp,
            java_script_enabled=script,
        )
        self.requests: list[str] = []
        self.console: list[tuple[str, str]] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.context.route("**/*", self._route)
        self.page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.console.append((message.type, message.text)))
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)
        started = time.perf_counter()
        self.page.goto(self.url, wait_until="load")
        self.page.evaluate("document.body.getBoundingClientRect().height")  # laid out
        self.seconds = time.perf_counter() - started

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    @property
    def console_errors(self) -> list[str]:
        return [text for kind, text in self.console if kind == "error"] + self.errors

    def shown(self) -> str:
        """What the table's count says, e.g. "4 of 4 shown"."""
        return str(self.page.locator("#experiment-tools output").text_content())

    def titles(self) -> list[str]:
        """The experiment titles of the table's visible rows, in their order."""
        return list(
            self.page.evaluate(
                "() => Array.from(document.querySelectorAll('#experiment-table tbody tr'))"
                ".filter((row) => !row.hidden).map((row) => row.cells[0].textContent)"
            )
        )

    def sort(self, heading: str) -> None:
        """Click a column's heading."""
        exactly = re.compile(rf"^\s*{re.escape(heading)}\s*$")
        self.page.locator("#experiment-table thead th").filter(has_text=exactly).locator(
            "button"
        ).click()

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def report() -> Iterator[Report]:
    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
        municipality.record_programme(store)
        yield build_report(store)


@pytest.fixture
def visit(browser: Any) -> Iterator[Any]:
    """Open pages; each is closed after the test."""
    opened: list[_Visit] = []

    def open_page(path: Path, width: int = 1280, **options: bool) -> _Visit:
        page = _Visit(browser, path, width, **options)
        opened.append(page)
        return page

    yield open_page
    for page in opened:
        page.close()


class TestInChromium:
    """The page a board gets opens cleanly and offline."""

    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_opens_without_errors_or_requests(
        self, visit: Any, report: Report, tmp_path: Path, lang: str
    ) -> None:
        """No console error, no request but the page itself, four charts; a screenshot."""
        path = reports.write(report, tmp_path / f"report-{lang}.html", lang=lang)
        page = visit(path)
        assert page.page.evaluate("document.documentElement.lang") == lang
        assert page.page.evaluate("document.scripts.length") == 1
        assert page.page.locator("figure.chart > svg").count() == 4
        assert page.page.locator("article.experiment").count() == len(report.experiments)
        csp = page.page.locator('meta[http-equiv="Content-Security-Policy"]')
        assert csp.get_attribute("content") == policy()
        assert "default-src 'none'" in policy()
        assert page.page.locator("#experiment-tools").is_visible()  # the script ran
        screenshot = tmp_path / f"report-{lang}.png"
        page.page.screenshot(path=str(screenshot), full_page=True)
        if lang == "da":  # it prints, once is enough to know
            page.page.emulate_media(media="print")
            assert not page.page.locator("#experiment-tools").is_visible()
            assert page.page.pdf(format="A4", print_background=True).startswith(b"%PDF")
        assert page.requests == [page.url]
        assert page.console_errors == []
        assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert screenshot.stat().st_size > 50_000
        print(f"screenshot: {screenshot}")  # noqa: T201 - where to look, with pytest -s

    def test_hostile_text_stays_text(self, visit: Any, tmp_path: Path) -> None:
        """A title '<script>alert(1)</script>' shows as those characters and runs nothing."""
        store = hostile_store()
        try:
            hostile = build_report(store, "hostile")
        finally:
            store.close()
        path = reports.write(hostile, tmp_path / "hostile.html", lang="da")
        page = visit(path, 390)
        assert page.page.evaluate("document.scripts.length") == 1
        assert page.page.get_by_text(SCRIPT, exact=True).first.is_visible()
        assert page.page.evaluate("document.documentElement.scrollWidth") <= 390
        page.page.fill("#experiment-tools input", "<SCRIPT>")
        page.page.wait_for_function(
            "() => document.querySelector('#experiment-tools output').value.startsWith('1 ')"
        )
        assert page.titles() == [SCRIPT]
        page.page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
        assert page.dialogs == []
        assert page.requests == [page.url]
        assert page.console_errors == []


#: Every piece of text in the charts, with its size on screen: an SVG text's computed
#: size times the scale its SVG is drawn at, an HTML text's computed size.
CHART_TEXT = """() => Array.from(document.querySelectorAll(
    'figure.chart text, figure.chart li, figure.chart figcaption span')).map((node) => {
  const size = parseFloat(getComputedStyle(node).fontSize);
  const scale = node instanceof SVGElement ? node.getScreenCTM().a : 1;
  return [node.textContent.trim(), size * scale];
})"""

AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map((v) => `${v.id}: ${v.help} (${v.nodes.length}): ` +
    v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', '));
}"""


class TestScreens:
    """The page fits a phone and a desktop alike, in every language, and passes axe."""

    @pytest.mark.parametrize("width", [320, 390, 1280])
    @pytest.mark.parametrize("lang", LANGUAGES)
    def test_fits_the_screen_and_passes_axe(
        self, visit: Any, axe: str, report: Report, tmp_path: Path, lang: str, width: int
    ) -> None:
        """No sideways scrolling, chart text at least 12 px, no axe-core violation."""
        path = reports.write(report, tmp_path / f"report-{lang}.html", lang=lang)
        page = visit(path, width, bypass_csp=True)
        assert page.page.evaluate("document.documentElement.scrollWidth") <= width
        texts = page.page.evaluate(CHART_TEXT)
        assert len(texts) > 40
        small = [(text, round(size, 2)) for text, size in texts if size < 12]
        assert small == []
        page.page.add_script_tag(content=axe)
        assert page.page.evaluate(AXE_RUN) == []
        assert page.console_errors == []

    def test_the_checks_can_fail(self, visit: Any, report: Report, tmp_path: Path) -> None:
        """A page made wider than the screen, or with tiny chart text, is caught."""
        page_text = str(reports.render(report, "html", "en"))
        broken = page_text.replace(
            "</style>", "main { min-width: 700px; } .chart svg text { font-size: 7px; }</style>"
        )
        path = tmp_path / "broken.html"
        path.write_text(broken, encoding="utf-8")
        page = visit(path, 390, bypass_csp=True)
        assert page.page.evaluate("document.documentElement.scrollWidth") >= 700
        assert min(size for _, size in page.page.evaluate(CHART_TEXT)) < 12


class TestExperimentTable:
    """The page's script searches, filters and sorts the table; without it all is there."""

    def test_search_filter_and_sort(self, visit: Any, report: Report, tmp_path: Path) -> None:
        """Typing narrows the rows, the status filter too; a heading sorts both ways."""
        page = visit(reports.write(report, tmp_path / "report.html", lang="en"))
        everything = sorted(e.ref.title for e in report.experiments)
        assert page.titles() == everything
        assert page.shown() == "4 of 4 shown"
        page.page.fill("#experiment-tools input", "CAFÉ")
        page.page.wait_for_function(
            "() => document.querySelector('#experiment-tools output').value === '1 of 4 shown'"
        )
        assert page.titles() == ["Homework café with local businesses"]
        page.page.fill("#experiment-tools input", "")
        page.page.select_option("#experiment-tools select[name=status]", "decided")
        assert page.shown() == "2 of 4 shown"
        assert page.titles() == [
            "Art and culture afternoons for vulnerable families",
            "Safety walks with residents and police in Sølvparken",
        ]
        page.page.select_option("#experiment-tools select[name=status]", "")
        page.sort("Experiment")
        assert page.titles() == everything
        page.sort("Experiment")
        assert page.titles() == everything[::-1]
        heading = page.page.locator("#experiment-table thead th").first
        assert heading.get_attribute("aria-sort") == "descending"
        page.sort("Taking part")
        participants = [
            next(e.participants for e in report.experiments if e.ref.title == title)
            for title in page.titles()
        ]
        assert participants == sorted(participants)
        assert heading.get_attribute("aria-sort") is None
        page.sort("Time box ends")
        assert page.titles()[0] == "Digital booking of home-care visits"  # no time box yet
        assert page.console_errors == []

    def test_without_script_everything_is_there(
        self, visit: Any, report: Report, tmp_path: Path
    ) -> None:
        """Script off: no search form, every row, in title order, every detail open."""
        page = visit(reports.write(report, tmp_path / "report.html", lang="sv"), script=False)
        assert not page.page.locator("#experiment-tools").is_visible()
        assert page.page.locator("#experiment-table tbody tr").count() == len(report.experiments)
        assert page.page.locator("#experiment-table button").count() == 0
        first = page.page.locator("#experiment-table tbody tr td").first
        assert first.text_content() == report.experiments[0].ref.title
        assert page.page.locator("article.experiment").first.is_visible()

    def test_a_script_the_policy_does_not_name_does_not_run(
        self, visit: Any, report: Report, tmp_path: Path
    ) -> None:
        """Change one character of the script and Chromium refuses it: the hash is checked."""
        page_text = str(reports.render(report, "html", "en"))
        tampered = page_text.replace('"use strict";', '"use strict"; ', 1)
        assert tampered != page_text
        path = tmp_path / "tampered.html"
        path.write_text(tampered, encoding="utf-8")
        page = visit(path)
        assert not page.page.locator("#experiment-tools").is_visible()
        assert any("Content Security Policy" in text for text in page.console_errors)


@pytest.mark.slow
class TestLargeProgramme:
    """Ten thousand experiments: the page opens, fits a phone, and its table works."""

    def test_opens_and_works(self, visit: Any, large: Report, tmp_path: Path) -> None:
        """Search, filters and sorting over every row; closed details print open."""
        path = reports.write(large, tmp_path / "large.html", lang="da")
        page = visit(path, 390)
        opened = page.seconds
        assert page.page.evaluate("document.documentElement.scrollWidth") <= 390
        total = f"{LARGE:,}".replace(",", ".")
        assert page.shown() == f"{total} af {total} vist"
        assert page.page.locator("#experiment-table tbody tr").count() == LARGE
        started = time.perf_counter()
        page.page.fill("#experiment-tools input", "experiment 12")
        page.page.wait_for_function(
            "() => document.querySelector('#experiment-tools output').value.startsWith('111 ')"
        )
        searched = time.perf_counter() - started
        titles = page.titles()
        assert len(titles) == 111  # 12, 120-129, 1200-1299
        assert all(re.fullmatch(r"Experiment 12\d*", title) for title in titles)
        page.page.select_option("#experiment-tools select[name=status]", "planlagt")
        planned = page.titles()
        assert 0 < len(planned) < len(titles)
        page.page.fill("#experiment-tools input", "")
        page.page.select_option("#experiment-tools select[name=status]", "")
        option = page.page.locator("#experiment-tools select[name=objective] option").nth(1)
        objective = str(option.text_content())
        page.page.select_option(
            "#experiment-tools select[name=objective]", str(option.get_attribute("value"))
        )
        expected = [
            e.ref.title for e in large.experiments if objective in {o.title for o in e.objectives}
        ]
        assert page.titles() == expected != []
        page.page.select_option("#experiment-tools select[name=objective]", "")
        started = time.perf_counter()
        page.sort("Eksperiment")
        page.sort("Eksperiment")
        sorted_twice = time.perf_counter() - started
        assert page.titles()[:2] == ["Experiment 9999", "Experiment 9998"]
        assert page.page.locator("details.objective[open]").count() == 0
        article = page.page.locator("article.experiment").first
        assert not article.is_visible()
        assert page.page.locator("article.experiment").count() == DETAIL_LIMIT
        page.page.emulate_media(media="print")
        assert article.is_visible()
        assert page.console_errors == []
        print(  # noqa: T201 - the figures, with pytest -s
            f"{LARGE} experiments: {path.stat().st_size / 1e6:.2f} MB, opened and laid out "
            f"at 390 px in {opened:.2f} s, searched in {searched:.2f} s, "
            f"sorted twice in {sorted_twice:.2f} s"
        )


# --- the maturity heat map on a phone -------------------------------------------------

#: What of the sections reaches past the screen's right edge, outside a scrolling box.
OUTSIDE = """(sections) => {
  const width = document.documentElement.clientWidth;
  const found = [];
  for (const selector of sections) {
    for (const element of document.querySelectorAll(selector + ", " + selector + " *")) {
      if (element.closest(".scroll") && !element.matches(".scroll")) continue;
      const right = element.getBoundingClientRect().right;
      if (right > width + 0.5) found.push(element.tagName + " " + Math.round(right));
    }
  }
  return found;
}"""


class TestHeatMap:
    """The heat map reads on a phone and without colour."""

    @pytest.mark.parametrize("lang", ["en", "nb"])
    def test_readable_at_390_pixels(
        self, visit: Any, report: Report, tmp_path: Path, lang: str
    ) -> None:
        """Nothing past the screen's edge; the table scrolls in its box; cells in text."""
        path = reports.write(report, tmp_path / f"report-{lang}.html", lang=lang)
        seen = visit(path, 390)
        page = seen.page
        beyond = page.evaluate(OUTSIDE, ["#maturity", "#glossary"])
        assert beyond == [], f"past the edge of a 390 px screen: {beyond}"
        box = page.locator("#maturity div.scroll").first
        assert box.get_attribute("role") == "region"
        assert box.get_attribute("tabindex") == "0"
        assert box.get_attribute("aria-label")
        inside = box.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert inside[1] <= 390
        table = page.locator("table.heatmap")
        assert table.locator("caption").inner_text().strip()
        cells = table.locator("td.heat")
        assert cells.count() > 0
        texts = cells.all_inner_texts()
        assert all(any(c.isdigit() for c in text) for text in texts)
        assert table.locator("th[scope=row]").count() == 9  # 3 dimensions, 6 items
        hidden = table.locator("td.empty .visually-hidden")
        assert hidden.count() == 0  # every department has three or more in autumn
        page.locator("#maturity").screenshot(path=str(tmp_path / f"heatmap-{lang}.png"))
        assert seen.requests == [seen.url]
        assert seen.console_errors == []
