"""The ``experiments`` command line, on click; imported only when the command runs."""

from __future__ import annotations

from experiments.cli import (
    add,
    admin,
    mental_models,
    outcomes,
    practice,
    privacy,
    records,
    sheets,
)
from experiments.cli.app import EXIT, cli

__all__ = ["EXIT", "cli", "main"]

del add, admin, mental_models, outcomes, practice, privacy, records, sheets  # they add commands


def main() -> None:
    """Run the command line (the `experiments` console script)."""
    cli(prog_name="experiments")
