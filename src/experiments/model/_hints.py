"""The types of a record class's fields, worked out once per class.

``typing.get_type_hints`` evaluates every annotation of a class and of each class it
inherits from, every time it is asked.  The queries, the stores' layouts and views and
the converter each ask about every kind, and a SQLite store asks as it opens: here
each class's own fields are evaluated once, and a class takes its bases' from them.
The annotations are plain expressions (``str | None``, ``frozenset[str]``,
``pendulum.DateTime``), evaluated as typing evaluates a class's: in its module, then
its own namespace.  ``tests/test_model.py`` checks that every kind's come out as
``typing.get_type_hints`` gives them.
"""

from __future__ import annotations

import inspect
import sys
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
    module = vars(sys.modules[cls.__module__])
    namespace = dict(vars(cls))
    texts: dict[str, Any] = {}  # the same annotation is often written on several fields
    for field in fields:
        if field.name not in own:
            continue
        written = own[field.name]
        if isinstance(written, str):
            if written not in texts:
                texts[written] = eval(written, namespace, module)  # noqa: S307 - the class's own annotations
            written = texts[written]
        hints[field.name] = type(None) if written is None else written
    return {f.name: hints[f.name] for f in fields}
