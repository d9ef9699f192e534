"""Holding back Python's cyclic garbage collector while the library piles up objects."""

from __future__ import annotations

import gc

__all__ = ["paused", "settled"]


class paused:  # noqa: N801 - used as a function is: `with paused():`
    """Hold back the cyclic collector for the ``with`` block, if it is running.

    A roll-up or a bulk write makes tens of thousands of small objects that reference
    counting frees, yet each full collection walks every object the program holds: a
    tenth to a third of the time of a large batch or roll-up went there.  The collector
    comes back on when the block ends, whatever happens in it; if it was off already, it
    stays off.  What the block made is then left to the collector's own rules, which
    walk it at the next young collection: handing it to the oldest generation unseen
    (``gc.freeze()`` then ``gc.unfreeze()``) would reset the collector's counts, and a
    program that rolls up in a loop would never free its cyclic garbage again.

    A class rather than a generator: every write's commit enters one, and a generator
    cost three times as much to enter and leave.
    """

    __slots__ = ("_was_on",)

    def __enter__(self) -> None:
        self._was_on = gc.isenabled()
        if self._was_on:
            gc.disable()

    def __exit__(self, *exc_info: object) -> None:
        if self._was_on:
            gc.enable()


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
