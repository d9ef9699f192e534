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
    experiments.  The block ends with the middle collection instead, and with a full
    one when the collector's own rule makes it due.  Moving the objects to the oldest
    generation unseen
    (:func:`gc.freeze` then :func:`gc.unfreeze`) would save that walk too, but it
    resets the collector's counts and leaves the objects out of what makes a full
    collection due, so a program that rolls up in a loop would never again collect
    its cycles.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        young = gc.get_count()[0]
        if young > MANY and gc.get_threshold()[0]:  # a threshold of 0: no collections
            _walked_once(young)
        gc.enable()


#: How many young objects a paused block leaves before it ends with a middle collection
#: (walking fewer takes a few milliseconds).
MANY: Final = 50_000


class _SinceFull:
    """Full collections counted so far; what large blocks moved to the oldest one since."""

    collections = 0
    moved = 0


def _walked_once(young: int) -> None:
    """Walk what a large block left in one middle collection; then a full one if due.

    The middle collection moves what lives on to the oldest generation.  The collector
    makes a full collection due after ten middle ones, once what moved to the oldest
    generation since the last full one is a quarter of what it holds; but it looks only
    when a young collection is due, which this one puts off, so in a loop of roll-ups
    it would never look.  The same rule is applied here, to what the blocks moved.
    """
    full = gc.get_stats()[2]["collections"]
    if full != _SinceFull.collections:
        _SinceFull.collections, _SinceFull.moved = full, 0
    gc.collect(1)
    _SinceFull.moved += young
    if gc.get_count()[2] > gc.get_threshold()[2] and 4 * _SinceFull.moved > len(
        gc.get_objects(generation=2)
    ):
        gc.collect()


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
