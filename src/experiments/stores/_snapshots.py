"""Reads that see one state of the store, and the writes refused meanwhile."""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections.abc import Iterator

from experiments.errors import StoreError
from experiments.stores.backend import Backend

__all__ = ["refuse_write", "within"]


class _Depth(threading.local):
    """How deep this thread is in a store's ``reading()`` blocks (0: in none)."""

    blocks = 0


# Kept here, not on the store, whose subclasses (plugin backends) name their own things.
_DEPTHS: weakref.WeakKeyDictionary[Backend, _Depth] = weakref.WeakKeyDictionary()
_MAKING = threading.Lock()


def _depth(store: Backend) -> _Depth:
    depth = _DEPTHS.get(store)
    if depth is None:
        with _MAKING:
            depth = _DEPTHS.setdefault(store, _Depth())
    return depth


@contextlib.contextmanager
def within(store: Backend) -> Iterator[None]:
    """The outermost block holds the backend's snapshot; blocks inside it share it."""
    depth = _depth(store)
    held = store._snapshot() if not depth.blocks else contextlib.nullcontext()  # noqa: SLF001
    with held:
        depth.blocks += 1
        try:
            yield
        finally:
            depth.blocks -= 1


def refuse_write(store: Backend) -> None:
    """A write inside ``reading()`` would not be seen by the block, or wait for it forever."""
    depth = _DEPTHS.get(store)
    if depth is not None and depth.blocks:
        raise StoreError(
            f"{store.url.redacted}: nothing was written: a write inside "
            "`with store.reading():` is refused, as the block reads one state of the store "
            "(and holds others' writes back on some backends); write after the block"
        )
