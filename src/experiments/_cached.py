"""A cached property that holds no lock while it computes its value.

Python 3.11's :class:`functools.cached_property` holds a lock while it computes, one
per property and shared by every instance of the class.  A view's properties read the
store, and a store may hold a lock of its own for a ``reading()`` block (the memory
store does), inside which the roll-up, the checks and the reports ask for them: a
thread in such a block, waiting for a property's lock, and a thread computing that
property for another view, waiting for the store's, would wait for each other for ever.
Python 3.12 dropped the lock; this one behaves so on 3.11 as well: two threads may then
compute one value at once.
"""

from __future__ import annotations

import functools
import sys
from typing import TYPE_CHECKING, Any

__all__ = ["cached_property"]

if TYPE_CHECKING or sys.version_info >= (3, 12):
    cached_property = functools.cached_property
else:

    class cached_property(functools.cached_property):  # noqa: N801 - as functools names it
        """:class:`functools.cached_property` without the lock."""

        def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
            if instance is None:
                return self
            cache = instance.__dict__
            if self.attrname in cache:
                return cache[self.attrname]
            return cache.setdefault(self.attrname, self.func(instance))
