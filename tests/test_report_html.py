"""The HTML report opened in a real headless Chromium: no console error, no request, a picture.

Chromium is Debian's (``/usr/bin/chromium``), driven by Playwright for Python; no
browser is downloaded.  Where either is missing the tests skip, except under
``CI=true``, where a skip would hide that the page was never opened: there they fail.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import experiments
from experiments import Plugins, reports
from experiments.reports import Report
from report_programmes import SCRIPT, build_report, hostile_store, municipality

pytestmark = pytest.mark.chromium

CHROMIUM = Path(os.environ.get("EXPERIMENTS_CHROMIUM", "/usr/bin/chromium"))

#: Chromium as root needs --no-sandbox; the rest keeps it from calling home, which the
#: closed network would answer with refused connections.  Playwright gives every launch
#: a fresh profile directory of its own.
ARGUMENTS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-dev-shm-usage",
)


def _unavailable(reason: str) -> None:
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"{reason}; CI must open the HTML report in Chromium, so this cannot skip")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One headless Chromium for the whole test session."""
    if not CHROMIUM.exists() and shutil.which(str(CHROMIUM)) is None:
        _unavailable(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright  # noqa: PLC0415 - optional
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install playwright)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(ARGUMENTS), headless=True
        )
        try:
            yield chromium
        finally:
            chromium.close()


class _Visit:
    """A page opened from a file, with everything it said and asked for."""

    def __init__(self, browser: Any, path: Path) -> None:
        self.url = path.resolve().as_uri()
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
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
        self.page.goto(self.url, wait_until="load")

    def _route(self, route: Any) -> None:
        if route.request.url == self.url:
            route.continue_()
        else:
            route.abort()

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def close(self) -> None:
        self.context.close()


@pytest.fixture(scope="module")
def report() -> Iterator[Report]:
    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
        municipality.record_programme(store)
        yield build_report(store)


class TestInChromium:
    """The page a board gets opens cleanly and offline."""

    @pytest.mark.parametrize("lang", ["en", "da", "nb", "sv"])
    def test_opens_without_errors_or_requests(
        self, browser: Any, report: Report, tmp_path: Path, lang: str
    ) -> None:
        """No console error, no request but the page itself, four charts; a screenshot."""
        path = reports.write(report, tmp_path / f"report-{lang}.html", lang=lang)
        visit = _Visit(browser, path)
        try:
            page = visit.page
            assert page.evaluate("document.documentElement.lang") == lang
            assert page.evaluate("document.scripts.length") == 0
            assert page.locator("figure.chart svg").count() == 4
            assert page.locator("article.experiment").count() == len(report.experiments)
            policy = page.locator('meta[http-equiv="Content-Security-Policy"]')
            assert "default-src 'none'" in policy.get_attribute("content")
            screenshot = tmp_path / f"report-{lang}.png"
            page.screenshot(path=str(screenshot), full_page=True)
            if lang == "da":  # it prints, once is enough to know
                page.emulate_media(media="print")
                assert page.pdf(format="A4", print_background=True).startswith(b"%PDF")
        finally:
            visit.close()
        assert visit.requests == [visit.url]
        assert [text for kind, text in visit.console if kind == "error"] == []
        assert visit.errors == []
        assert screenshot.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert screenshot.stat().st_size > 50_000
        print(f"screenshot: {screenshot}")  # noqa: T201 - where to look, with pytest -s

    def test_hostile_text_stays_text(self, browser: Any, tmp_path: Path) -> None:
        """A title '<script>alert(1)</script>' shows as those characters and runs nothing."""
        store = hostile_store()
        try:
            hostile = build_report(store, "hostile")
        finally:
            store.close()
        path = reports.write(hostile, tmp_path / "hostile.html", lang="da")
        visit = _Visit(browser, path)
        try:
            page = visit.page
            assert page.evaluate("document.scripts.length") == 0
            assert page.get_by_text(SCRIPT, exact=True).first.is_visible()
            page.screenshot(path=str(tmp_path / "hostile.png"), full_page=True)
        finally:
            visit.close()
        assert visit.dialogs == []
        assert visit.requests == [visit.url]
        assert [text for kind, text in visit.console if kind == "error"] == []


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
        self, browser: Any, report: Report, tmp_path: Path, lang: str
    ) -> None:
        """Nothing past the screen's edge; the table scrolls in its box; cells in text."""
        path = reports.write(report, tmp_path / f"report-{lang}.html", lang=lang)
        visit = _Visit(browser, path)
        try:
            page = visit.page
            page.set_viewport_size({"width": 390, "height": 844})
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
        finally:
            visit.close()
        assert visit.requests == [visit.url]
        assert visit.errors == []
