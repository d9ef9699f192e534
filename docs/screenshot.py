"""The picture in docs/reports.md: the main job's HTML report, in Danish, on a phone.

Records the municipality programme of ``examples/municipality.py`` in memory, writes its
HTML report and opens it in Debian's Chromium (``apt-get install chromium``) through
Playwright, with the flags the tests use, at 390 CSS pixels wide; the whole page is
saved as a PNG.  It stops with an error if the page is wider than the screen::

    python docs/screenshot.py                      # docs/_static/report-da-390.png
    python docs/screenshot.py --lang sv --width 320 --out /tmp/sv.png
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import experiments
from experiments import Plugins, reports
from needs import CHROMIUM, CHROMIUM_FLAGS
from report_programmes import build_report, municipality


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", default="da", choices=reports.languages())
    parser.add_argument("--width", type=int, default=390, help="CSS pixels (default 390)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "_static" / "report-da-390.png")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a development tool

    with experiments.connect("memory://", plugins=Plugins(autoload=False)) as store:
        municipality.record_programme(store)
        report = build_report(store)
    with tempfile.TemporaryDirectory() as directory, sync_playwright() as playwright:
        page_file = reports.write(report, Path(directory) / "report.html", lang=args.lang)
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_FLAGS), headless=True
        )
        try:
            page = browser.new_page(viewport={"width": args.width, "height": 844})
            page.goto(page_file.as_uri(), wait_until="load")
            wide = page.evaluate("document.documentElement.scrollWidth")
            if wide > args.width:
                raise SystemExit(f"the page is {wide} px wide on a {args.width} px screen")
            args.out.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(args.out), full_page=True)
            high = page.evaluate("document.documentElement.scrollHeight")
        finally:
            browser.close()
    print(f"{args.out}: {args.width} x {high} px, {args.out.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
