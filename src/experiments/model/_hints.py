"""The types of a record class's fields, worked out once per class.

``typing.get_type_hints`` evaluates every annotation of a class and of each class it
inherits from, every time it is asked.  The queries, the stores' layouts and views and
the converter each ask about every kind, and a SQLite store asks as it opens: here
each class's own fields are evaluated once, and a class takes its bases' from them.
"""

from __future__ import annotations

import inspect
import sys
import types
import typing
from typing import Any

import attrs

__all__ = ["field_hints"]


_KNOWN: dict[type, dict[str, Any]] = {}


def field_hints(cls: type) -> dict[str, Any]:
    """The type of each field of the attrs class ``cls``, as ``typing.get_type_hints``
    gives it (``str | None``, ``frozenset[str]``, ``pendulum.DateTime``, ...)."""
    known = _KNOWN.get(cls)
    if known is None:
        known = _KNOWN[cls] = _evaluated(cls)
    return known


def _evaluated(cls: type) -> dict[str, Any]:
    hints: dict[str, Any] = {}
    for base in reversed(cls.__bases__):
        if attrs.has(base):
            hints.update(field_hints(base))
    fields = attrs.fields(cls)
    own = inspect.get_annotations(cls)
    written = {f.name: own[f.name] for f in fields if f.name in own}
    if written:
        # Evaluated as typing evaluates a class's annotations: the module's names first,
        # then the class's own; a module object carries them (a function would make
        # typing check them as arguments).
        carrier = types.ModuleType(cls.__module__)
        carrier.__annotations__ = written
        module = vars(sys.modules[cls.__module__])
        hints.update(typing.get_type_hints(carrier, dict(vars(cls)), module))
    return {f.name: hints[f.name] for f in fields}
