"""The maturity heat map of the HTML report, opened in Chromium on a phone's width.

Readable at 390 px wide: the page itself never scrolls sideways, the heat map scrolls
inside its own box, and every cell says its figure in text (the tint only helps).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from experiments import reports
from experiments.reports import Report
from test_report_html import _Visit, browser, report

pytestmark = pytest.mark.chromium

#: The session's Chromium and the municipality's report, shared with the other page tests.
__all__ = ["browser", "report"]


class TestHeatMap:
    """The heat map reads on a phone and without colour."""

    @pytest.mark.parametrize("lang", ["en", "nb"])
    def test_readable_at_390_pixels(
        self, browser: Any, report: Report, tmp_path: Path, lang: str
    ) -> None:
        """No sideways scrolling of the page; the table scrolls in its box; cells in text."""
        path = reports.write(report, tmp_path / f"report-{lang}.html", lang=lang)
        visit = _Visit(browser, path)
        try:
            page = visit.page
            page.set_viewport_size({"width": 390, "height": 844})
            widths = page.evaluate(
                "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
            )
            assert widths[0] <= widths[1], f"the page scrolls sideways: {widths}"
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
