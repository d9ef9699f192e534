"""What some tests need from outside Python, and what happens when it is missing.

A PostgreSQL server, Debian's Chromium, and two tools from npm (axe-core, which checks
the HTML report's accessibility, and mermaid-cli, which renders the Markdown report's
diagrams): ``.ci/run`` installs them all.  On a developer machine without one, the
tests that need it skip with the reason; under ``CI=true`` they fail instead, so that
CI never passes with a check that did not run.

The npm tools are installed from ``tests/node/package.json`` (``npm ci --ignore-scripts
--prefix tests/node`` with ``PUPPETEER_SKIP_DOWNLOAD=1``: no browser is downloaded);
``EXPERIMENTS_NODE_MODULES`` names another ``node_modules`` directory to take them from.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest

#: Where tests find Debian's Chromium; EXPERIMENTS_CHROMIUM names another.
CHROMIUM = Path(os.environ.get("EXPERIMENTS_CHROMIUM", "/usr/bin/chromium"))

#: Headless Chromium as root needs --no-sandbox; the rest keeps it from calling home,
#: which the closed network would answer slowly or not at all.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
)

NODE_MODULES = Path(
    os.environ.get("EXPERIMENTS_NODE_MODULES", Path(__file__).parent / "node" / "node_modules")
)


def in_ci() -> bool:
    """Whether the tests run in CI, where nothing they need may be missing."""
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def missing(reason: str) -> NoReturn:
    """Skip the test for want of ``reason``; fail it under CI, which must run it."""
    if in_ci():
        pytest.fail(f"{reason}; CI installs it (.ci/run), so this test cannot skip there")
    pytest.skip(reason)


def chromium() -> Path:
    """Debian's Chromium, or a skip (a failure in CI) saying how to install it."""
    if not CHROMIUM.exists() and shutil.which(str(CHROMIUM)) is None:
        missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    return CHROMIUM


def _npm_tool(path: Path, package: str) -> Path:
    if not path.exists():
        missing(
            f"{package} is not installed in {NODE_MODULES} (cd tests/node && "
            "PUPPETEER_SKIP_DOWNLOAD=1 npm ci --ignore-scripts, or set EXPERIMENTS_NODE_MODULES)"
        )
    return path


def axe_source() -> str:
    """The axe-core script, to inject into a page."""
    path = _npm_tool(NODE_MODULES / "axe-core" / "axe.min.js", "axe-core")
    return path.read_text(encoding="utf-8")


def mermaid_cli(directory: Path) -> list[str]:
    """The command that runs mermaid-cli with Debian's Chromium, never a downloaded one.

    Its Puppeteer configuration is written into ``directory``.
    """
    program = _npm_tool(NODE_MODULES / ".bin" / "mmdc", "@mermaid-js/mermaid-cli")
    if shutil.which("node") is None:
        missing("Node.js is not installed (apt-get install nodejs npm)")
    config = directory / "puppeteer.json"
    config.write_text(
        json.dumps(
            {"executablePath": str(chromium()), "headless": True, "args": list(CHROMIUM_FLAGS)}
        ),
        encoding="utf-8",
    )
    return [str(program), "--puppeteerConfigFile", str(config), "--quiet"]


def git() -> str:
    """The ``git`` command, or a skip (a failure in CI) saying how to install it."""
    found = shutil.which("git")
    if found is None:
        missing("git is not installed (apt-get install git)")
    return found
