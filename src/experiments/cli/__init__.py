"""The ``experiments`` command line, on click; imported only when the command runs.

Each command's module is imported when the command is (see ``COMMAND_MODULES``), so
``experiments --version`` does not pay for the reports and ``list`` not for ``add``.
"""

from __future__ import annotations

from experiments._collector import settled
from experiments.cli.app import EXIT, cli

__all__ = ["EXIT", "cli", "main"]


def main() -> None:
    """Run the command line (the `experiments` console script).

    What importing the library and the command line made lives as long as the command
    does, so the collector leaves it alone (:func:`~experiments._collector.settled`).
    """
    settled()
    cli(prog_name="experiments")
