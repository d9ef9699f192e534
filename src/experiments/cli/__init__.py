"""The ``experiments`` command line, on click; imported only when the command runs."""

from __future__ import annotations

from experiments.cli import add, admin, outcomes, privacy, records
from experiments.cli.app import EXIT, cli

__all__ = ["EXIT", "cli", "main"]

del add, admin, outcomes, privacy, records  # imported for the commands they add to `cli`


def main() -> None:
    """Run the command line (the `experiments` console script)."""
    cli(prog_name="experiments")
