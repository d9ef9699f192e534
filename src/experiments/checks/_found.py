"""Ways of finding that several checks share."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, Final, TypeVar

from experiments.checks.base import Check, CheckContext, Finding, Message
from experiments.model import Experiment, ExperimentStatus, Record, Sprint

__all__ = ["each_found", "experiments_in_scope", "open_without", "sprints_in_scope"]

R = TypeVar("R", bound=Record)

_OPEN: Final = (ExperimentStatus.PLANNED, ExperimentStatus.RUNNING)


def each_found(
    check_id: str,
    severity: str,
    move: str,
    summary: str,
    subjects: Callable[[CheckContext], Iterable[R]],
    found: Callable[[CheckContext, R], bool],
    message: Message,
) -> Check:
    """A check finding each of the ``subjects`` in scope that is ``found``, in one wording."""

    def run(context: CheckContext, options: Mapping[str, Any]) -> Iterator[Finding]:
        for subject in subjects(context):
            if found(context, subject):
                yield check.finding(message, subject)

    check = Check(check_id, severity, move, summary, run)
    return check


def open_without(
    check_id: str,
    severity: str,
    move: str,
    summary: str,
    field: str,
    message: Message,
) -> Check:
    """A check finding each planned or running experiment with no ``field``."""

    def found(context: CheckContext, experiment: Experiment) -> bool:
        return getattr(experiment, field) is None and context.status(experiment) in _OPEN

    return each_found(check_id, severity, move, summary, experiments_in_scope, found, message)


def experiments_in_scope(context: CheckContext) -> Iterable[Experiment]:
    """The experiments in the scope checked."""
    return context.experiments


def sprints_in_scope(context: CheckContext) -> Iterable[Sprint]:
    """The sprints in the scope checked."""
    return context.sprints
