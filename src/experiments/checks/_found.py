"""Ways of finding that several checks share."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Final

from experiments.checks.base import Check, CheckContext, Finding, Message
from experiments.model import ExperimentStatus

__all__ = ["open_without"]

_OPEN: Final = (ExperimentStatus.PLANNED, ExperimentStatus.RUNNING)


def open_without(
    check_id: str,
    severity: str,
    move: str,
    summary: str,
    field: str,
    message: Message,
) -> Check:
    """A check finding each planned or running experiment with no ``field``."""

    def run(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
        for experiment in context.experiments:
            if getattr(experiment, field) is None and context.status(experiment) in _OPEN:
                yield check.finding(message, experiment)

    check = Check(check_id, severity, move, summary, run)
    return check
