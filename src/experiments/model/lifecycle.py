"""An experiment's lifecycle: its statuses, the moves between them, and which are legal.

planned -> running -> concluded -> decided, and planned or running -> abandoned.  Each
move sets one lifecycle time, and a time once set never changes: that is what lets
every reader of a store agree on an experiment's status at any moment.  The rules take
plain values, so the model, the store (which refuses an illegal save) and
``verify()`` (which finds illegal histories) all ask here.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

__all__ = [
    "LIFECYCLE_TIMES",
    "MOVES",
    "ExperimentStatus",
    "Outcome",
    "illegal_change",
    "legal_moves",
    "reachable",
]


class ExperimentStatus(enum.StrEnum):
    """Where an experiment is in its life: planned -> running -> concluded -> decided."""

    PLANNED = "planned"
    RUNNING = "running"
    CONCLUDED = "concluded"
    DECIDED = "decided"
    ABANDONED = "abandoned"


class Outcome(enum.StrEnum):
    """What was decided after an experiment ("find and magnify")."""

    SCALE_UP = "scale-up"
    ITERATE = "iterate"
    PIVOT = "pivot"
    STOP = "stop"


#: The moves each status allows, by the name of the method that makes them, and the
#: status each leads to.
MOVES: Final[Mapping[ExperimentStatus, Mapping[str, ExperimentStatus]]] = {
    ExperimentStatus.PLANNED: {
        "start": ExperimentStatus.RUNNING,
        "abandon": ExperimentStatus.ABANDONED,
    },
    ExperimentStatus.RUNNING: {
        "conclude": ExperimentStatus.CONCLUDED,
        "abandon": ExperimentStatus.ABANDONED,
    },
    ExperimentStatus.CONCLUDED: {"decide": ExperimentStatus.DECIDED},
    ExperimentStatus.DECIDED: {},
    ExperimentStatus.ABANDONED: {},
}

#: The lifecycle times, in the order the moves set them.
LIFECYCLE_TIMES: Final = ("started_at", "concluded_at", "decided_at", "abandoned_at")


def legal_moves(status: ExperimentStatus) -> tuple[str, ...]:
    """The moves ``status`` allows, by method name."""
    return tuple(MOVES[status])


@functools.cache
def reachable(status: ExperimentStatus) -> Mapping[ExperimentStatus, tuple[str, ...]]:
    """Every status ``status`` leads to by legal moves, with the moves that lead there.

    ``status`` itself is reached by no move at all.  Worked out once per status: every
    save of an experiment asks.
    """
    found: dict[ExperimentStatus, tuple[str, ...]] = {status: ()}
    queue = [status]
    while queue:
        current = queue.pop()
        for move, target in MOVES[current].items():
            if target not in found:
                found[target] = (*found[current], move)
                queue.append(target)
    return MappingProxyType(found)


def illegal_change(
    before: ExperimentStatus,
    before_times: Mapping[str, object],
    after: ExperimentStatus,
    after_times: Mapping[str, object],
) -> str | None:
    """What is illegal about an experiment going from one saved version to the next.

    None when the next version is reached from the first by legal moves (or by none,
    an edit of other fields) and keeps every lifecycle time the first had set; else a
    sentence naming the change and the moves that were legal.  Times are compared as
    given: pass instants (or their UTC text), so that zones do not matter.
    """
    paths = reachable(before)
    if after not in paths:
        moves = legal_moves(before)
        allowed = f"from {before} it can only {' or '.join(moves)}" if moves else "it is final"
        return f"moves it from {before} back to {after}; {allowed}"
    for name in LIFECYCLE_TIMES:
        old, new = before_times.get(name), after_times.get(name)
        if old is not None and old != new:
            change = "removes" if new is None else "changes"
            return (
                f"{change} its {name} ({old}); lifecycle times are kept once set, so the "
                "roll-up of any past moment stays what it was"
            )
    return None
