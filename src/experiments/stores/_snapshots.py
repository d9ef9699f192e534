"""Reads that see one state of the store, and the writes refused meanwhile."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

from experiments.errors import StoreError

if TYPE_CHECKING:
    from experiments.stores.backend import Backend

__all__ = ["Depth", "refuse_write", "within"]


class Depth(threading.local):
    """How deep this thread is in a store's ``reading()`` blocks (0: in none)."""

    blocks = 0


@contextlib.contextmanager
def within(store: Backend, depth: Depth) -> Iterator[None]:
    """The outermost block holds the backend's snapshot; blocks inside it share it."""
    if depth.blocks:
        depth.blocks += 1
        try:
            yield
        finally:
            depth.blocks -= 1
        return
    with store._snapshot():  # noqa: SLF001 - the backend's own primitive
        depth.blocks = 1
        try:
            yield
        finally:
            depth.blocks = 0


def refuse_write(store: Backend, depth: Depth) -> None:
    """A write inside ``reading()`` would not be seen by the block, or wait for it forever."""
    if depth.blocks:
        raise StoreError(
            f"{store.url.redacted}: nothing was written: a write inside "
            "`with store.reading():` is refused, as the block reads one state of the store "
            "(and holds others' writes back on some backends); write after the block"
        )
