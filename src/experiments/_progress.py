"""How long operations report their progress: through a function that wraps the work.

:func:`~experiments.spreadsheets.import_csv`, :func:`~experiments.checks.run_checks` and
:func:`~experiments.reports.build` take a ``progress`` function.  It is given the pieces
of work as an iterable, with how many there are, and returns an iterable of the same
pieces: it sees each piece as the operation takes it up, so it can count, time and
draw them (``tqdm.tqdm`` fits: ``progress=lambda work, total: tqdm(work, total=total)``;
the command line draws a bar with a count and the time left).  Without one the work is
done as it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias, TypeVar, cast

__all__ = ["ProgressHook", "counted"]

T = TypeVar("T")

#: A function given the work and how many pieces it has, returning the same pieces.
ProgressHook: TypeAlias = "Callable[[Iterable[Any], int], Iterable[Any]]"


def counted(progress: ProgressHook | None, work: Sequence[T]) -> Iterable[T]:
    """``work``, through ``progress`` when one is given."""
    if progress is None:
        return work
    return cast("Iterable[T]", progress(work, len(work)))
