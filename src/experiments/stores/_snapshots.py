"""Reads that see one state of the store, and the writes refused meanwhile."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from experiments.errors import StoreError
from experiments.stores.backend import Backend

__all__ = ["refuse_write", "within"]


class _Blocks(threading.local):
    """How deep this thread is in each store's ``reading()`` blocks, by ``id(store)``.

    Kept here, not on the store, whose subclasses (plugin backends) name their own
    things; keyed by identity, so a store that defines equality is one store still. A
    store has an entry only while a block is open, which holds the store alive.
    """

    def __init__(self) -> None:
        self.depth: dict[int, int] = {}


_BLOCKS: _Blocks = _Blocks()


@contextlib.contextmanager
def within(store: Backend) -> Iterator[None]:
    """The outermost block holds the backend's snapshot; blocks inside it share it."""
    depth = _BLOCKS.depth
    key = id(store)
    held = contextlib.nullcontext() if key in depth else store._snapshot()  # noqa: SLF001
    with held:
        depth[key] = depth.get(key, 0) + 1
        try:
            yield
        finally:
            depth[key] -= 1
            if not depth[key]:
                del depth[key]


def refuse_write(store: Backend) -> None:
    """A write inside ``reading()`` would not be seen by the block, or wait for it forever.

    Called where every write begins, before anything is made or changed.
    """
    if id(store) in _BLOCKS.depth:
        raise StoreError(
            f"{store.url.redacted}: nothing was written: a write inside "
            "`with store.reading():` is refused, as the block reads one state of the store "
            "(and holds others' writes back on some backends); write after the block"
        )
