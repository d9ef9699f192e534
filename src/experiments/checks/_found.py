"""Ways of finding that several checks share."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

from experiments.checks.base import Check, CheckContext, Finding
from experiments.model import ExperimentStatus

__all__ = ["open_without"]

_OPEN: Final = (ExperimentStatus.PLANNED, ExperimentStatus.RUNNING)


def open_without(
    check: Check, context: CheckContext, field: str, message: str
) -> Iterator[Finding]:
    """A finding of ``check`` for each planned or running experiment with no ``field``."""
    for experiment in context.experiments:
        if getattr(experiment, field) is None and context.status(experiment) in _OPEN:
            yield check.finding(message, experiment)
