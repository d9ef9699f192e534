"""Holding back Python's cyclic garbage collector while the library piles up objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Final

__all__ = ["paused", "settled"]


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Hold back the cyclic collector for the ``with`` block, if it is running.

    A roll-up or a bulk write makes tens of thousands of small objects that reference
    counting frees (none of them is in a cycle), yet each full collection walks every
    object the program holds: a tenth to a third of the time of a large batch or
    roll-up went there.  The collector comes back on when the block ends, whatever
    happens in it; if it was off already, it stays off.

    When the block made and kept a great many objects (a roll-up's facts and findings),
    the first young collection after it would walk them all at once, and the next
    middle one again: 0.2 s and 0.25 s after a roll-up of a hundred thousand
    experiments.  The block ends with the middle collection instead, which walks them
    once and hands what lives on to the oldest generation.  It is an ordinary
    collection, counted as the collector counts its own: moving the objects unseen
    (:func:`gc.freeze` then :func:`gc.unfreeze`) would also reset the collector's
    counts and leave them out of what makes a full collection due, so a program
    that rolls up in a loop would never again collect its cycles.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if gc.get_count()[0] > MANY:
            gc.collect(1)
        gc.enable()


#: How many young objects a paused block leaves before it ends with a middle collection
#: (walking fewer takes a few milliseconds).
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
