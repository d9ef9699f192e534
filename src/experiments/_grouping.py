"""Reading the records that belong to many experiments, a few hundred ids per query.

Checks and reports both need "every learning (decision, ...) of these experiments,
by experiment"; one way of reading it keeps them seeing the same records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Final, TypeVar

from experiments.model import Decision, Hypothesis, Learning, Participation, Prototype

if TYPE_CHECKING:
    from experiments.stores import Store

__all__ = ["CHUNK", "by_experiment", "chunks"]

#: How many ids one query asks for at most: far below every backend's limit on
#: parameters in one statement, however many experiments a programme has.
CHUNK: Final = 500

#: The kinds that belong to one experiment through their ``experiment`` field.
T = TypeVar("T", Decision, Hypothesis, Learning, Participation, Prototype)


def chunks(ids: Sequence[str]) -> Iterator[list[str]]:
    """``ids`` in lists of at most :data:`CHUNK`, in order."""
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start : start + CHUNK])


def by_experiment(store: Store, kind: type[T], ids: Sequence[str]) -> dict[str, list[T]]:
    """The current records of ``kind`` of the experiments ``ids``, by experiment id."""
    grouped: dict[str, list[T]] = defaultdict(list)
    for chunk in chunks(ids):
        for record in store.query(kind, experiment=chunk):
            grouped[record.experiment].append(record)
    return grouped
