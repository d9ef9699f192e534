"""Every error the library raises on purpose.

Each class also inherits the built-in exception a caller would naturally catch, so
``except ValueError`` keeps working around our validation and ``except LookupError``
around a missing object.  Messages say what was wrong and how to fix it.
"""

from __future__ import annotations

__all__ = [
    "ConflictError",
    "ExperimentsError",
    "InvalidTypeError",
    "NotFoundError",
    "PluginError",
    "ReportError",
    "SchemaError",
    "StoreError",
    "StoreURLError",
    "TransitionError",
    "ValidationError",
]


class ExperimentsError(Exception):
    """Root of every error raised by strategy-experiments."""


class ValidationError(ExperimentsError, ValueError):
    """A value does not fit the field it was given for."""


class InvalidTypeError(ValidationError, TypeError):
    """A value has the wrong type for its field (also a ``TypeError``)."""


class TransitionError(ExperimentsError, ValueError):
    """An experiment was asked to make a lifecycle move its current state forbids."""


class NotFoundError(ExperimentsError, LookupError):
    """No object with the requested id (or slug) exists in the store."""


class ConflictError(ExperimentsError):
    """A write was based on a revision that someone else already replaced.

    Nothing was written.  Read the object again, apply the change to the fresh
    version and save that.
    """


class StoreError(ExperimentsError):
    """The store could not be opened, read or written."""


class StoreURLError(StoreError, ValidationError):
    """A store URL is malformed, has a scheme no backend takes, or an option it does not.

    Both a :class:`StoreError` (the store cannot be opened) and a
    :class:`ValidationError` (the URL given is wrong: fix it, nothing was touched).
    """


class SchemaError(ExperimentsError, ValueError):
    """Stored data has a schema version or shape this library cannot read."""


class PluginError(ExperimentsError):
    """A plugin failed to load, registered something invalid, or raised inside a hook."""


class ReportError(ExperimentsError):
    """A report could not be rendered or written."""
