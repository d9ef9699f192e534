"""Holding back Python's cyclic garbage collector while the library piles up objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Final

__all__ = ["paused", "settled"]


@contextlib.contextmanager
def paused(*, lasting: bool = False) -> Iterator[None]:
    """Hold back the cyclic collector for the ``with`` block, if it is running.

    A roll-up or a bulk write makes tens of thousands of small objects that reference
    counting frees, yet each full collection walks every object the program holds: a
    tenth to a third of the time of a large batch or roll-up went there.  The collector
    comes back on when the block ends, whatever happens in it; if it was off already,
    it stays off.

    ``lasting``: the block makes what its caller keeps, in no reference cycle (a
    roll-up's facts and findings; tests/test_collector.py checks that it leaves no
    cycle).  When it made a great many objects, the first young collection after it
    would walk them all at once, and the next middle one again: 0.2 s and 0.25 s after
    a roll-up of a hundred thousand experiments.  They go to the oldest generation
    instead (:func:`gc.freeze` then :func:`gc.unfreeze`, which moves objects without
    looking at them), where full collections, which are rare, look at them as at every
    long-lived object, and so do the program's young objects, which full collections
    then collect as always.  Not when the program has frozen objects of its own (a
    server before it forks): those stay frozen.  Not for writes: a files store's
    indented JSON is encoded by closures that refer to each other, a cycle per record,
    which a young collection frees at once.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if lasting and gc.get_count()[0] > MANY and not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
        gc.enable()


#: How many young objects a lasting block leaves before they go to the oldest
#: generation (walking fewer takes a few milliseconds).
MANY: Final = 50_000


def settled() -> None:
    """Leave every object the program holds now to the end of the process.

    A program that imported the library holds some twenty-five thousand objects made by
    the imports (classes, functions, their code), which live until it ends.  As the
    interpreter exits it collects them and frees them one by one, about 10 ms of a
    command that takes 100; frozen (:func:`gc.freeze`), they are left to the operating
    system, which frees the process's memory at once, and no collection walks them
    again.  Objects made afterwards are collected as always.  For a program's entry
    point, never for a library call: what is frozen is never collected.
    """
    gc.freeze()
