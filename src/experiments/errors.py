"""Every error the library raises on purpose.

Each class also inherits the built-in exception a caller would naturally catch, so
``except ValueError`` keeps working around our validation and ``except LookupError``
around a missing object.  Messages say what was wrong and how to fix it.

=====================  ====================================================
error                  also a
=====================  ====================================================
``ValidationError``    ``ValueError``
``CSVError``           ``ValueError``
``InvalidTypeError``   ``ValueError`` and ``TypeError``
``TransitionError``    ``ValueError``
``SchemaError``        ``ValueError``
``NotFoundError``      ``LookupError``
``ConflictError``      ``RuntimeError``
``StoreError``         ``RuntimeError``
``StoreURLError``      ``RuntimeError`` and ``ValueError``
``PluginError``        ``RuntimeError``
``ReportError``        ``OSError``
``MissingExtraError``  ``ImportError``
=====================  ====================================================

The values a caller gives are ``ValueError`` and ``TypeError``; what goes wrong
around them while the program runs (another writer, the store, a plugin) is a
``RuntimeError``; a report that cannot be written is an ``OSError``, like the file
error it wraps.
"""

from __future__ import annotations

__all__ = [
    "CSVError",
    "ConflictError",
    "ExperimentsError",
    "InvalidTypeError",
    "MissingExtraError",
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


class CSVError(ValidationError):
    """Rows of a CSV file could not be imported; nothing was.

    ``problems`` holds each bad row's line number and the reason, in file order.
    """

    def __init__(self, message: str, problems: tuple[tuple[int, str], ...]) -> None:
        super().__init__(message)
        self.problems = problems


class InvalidTypeError(ValidationError, TypeError):
    """A value has the wrong type for its field (also a ``TypeError``)."""


class TransitionError(ExperimentsError, ValueError):
    """An experiment was asked to make a lifecycle move its current state forbids."""


class NotFoundError(ExperimentsError, LookupError):
    """No object with the requested id (or slug) exists in the store."""

    kind: str | None = None
    """The kind of record that was looked for, when it was one kind (``"objective"``)."""
    deleted_id: str | None = None
    """The id of the record found, when it was found but is soft deleted."""


class ConflictError(ExperimentsError, RuntimeError):
    """A write was based on a revision that someone else already replaced.

    Nothing was written.  Read the object again, apply the change to the fresh
    version and save that.  A ``RuntimeError``: nothing is wrong with the caller's
    values, the store changed under them, as a dict does when it changes size during
    iteration.
    """


class StoreError(ExperimentsError, RuntimeError):
    """The store could not be opened, read or written.

    A ``RuntimeError``, not an ``OSError``: most have no system call behind them (a
    database locked too long, damaged data, a lost server, an unknown store URL), as
    the errors of Python's database drivers are not ``OSError`` either; and an
    ``except OSError`` meant for a file next to the store must not swallow them.
    """


class StoreURLError(StoreError, ValidationError):
    """A store URL is malformed, has a scheme no backend takes, or an option it does not.

    Both a :class:`StoreError` (the store cannot be opened) and a
    :class:`ValidationError` (the URL given is wrong: fix it, nothing was touched).
    """


class SchemaError(ExperimentsError, ValueError):
    """Stored data has a schema version or shape this library cannot read."""


class PluginError(ExperimentsError, RuntimeError):
    """A plugin failed to load, registered something invalid, or raised inside a hook.

    A ``RuntimeError``: the installed plugins are at fault, not the caller's values.
    """


class MissingExtraError(ExperimentsError, ImportError):
    """A part of the library needs a package that is not installed; the message says
    which extra brings it (``pip install 'strategy-experiments[dataframes]'``)."""


class ReportError(ExperimentsError, OSError):
    """A report could not be rendered or written.

    An ``OSError``, like the file error it wraps (the report's file could not be
    written, a language's message catalog could not be read), so ``except OSError``
    around writing a report catches it as it would catch ``open()`` failing.
    """
