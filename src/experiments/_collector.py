"""Holding back Python's cyclic garbage collector while the library piles up objects."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

__all__ = ["paused", "settled"]


@contextlib.contextmanager
def paused() -> Iterator[None]:
    """Hold back the cyclic collector for the ``with`` block, if it is running.

    A roll-up or a bulk write makes tens of thousands of small objects that reference
    counting frees (none of them is in a cycle), yet each full collection walks every
    object the program holds: a tenth to a third of the time of a large batch or
    roll-up went there.  The collector comes back on when the block ends, whatever
    happens in it; if it was off already, it stays off.

    What the block made and kept (a roll-up's facts and findings) would otherwise be
    walked by the first collection after it, all of it at once: a tenth of a second
    after a roll-up of a hundred thousand experiments.  It is handed to the oldest
    generation instead (:func:`gc.freeze` then :func:`gc.unfreeze`, which moves objects
    without looking at them), where full collections, which are rare, look at it as
    they look at every long-lived object.  Not when the program has frozen objects of
    its own (a server before it forks): those stay frozen.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        if not gc.get_freeze_count():
            gc.freeze()
            gc.unfreeze()
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
