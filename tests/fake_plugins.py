"""Installed-looking plugin packages for tests of entry-point discovery."""

from __future__ import annotations

import textwrap
from pathlib import Path


def fake_distribution(
    root: Path, name: str, module: str, source: str, entry: str | None = None
) -> None:
    """A plugin package in ``root``, announced through an ``experiments`` entry point.

    Put ``root`` on ``sys.path`` (or ``PYTHONPATH`` for a child process) to install it.
    """
    (root / f"{module}.py").write_text(textwrap.dedent(source), encoding="utf-8")
    info = root / f"{name}-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[experiments]\n{entry or name} = {module}\n")
