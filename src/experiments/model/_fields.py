"""How a field refuses a value: its converter raises :class:`Unfit`, the class names it.

A converter is a plain function ``fn(value) -> T``: its annotations type the class's
``__init__`` for mypy and for the docs.  When it cannot make sense of a value it raises
:class:`Unfit` with what it expected.  :func:`named_errors`, the ``field_transformer``
of every validated class, wraps each converter once per class and field, so the error
the caller sees names both: ``Experiment.title must not be empty; ...; got ''``.

``attrs.Converter(fn, takes_self=True, takes_field=True)`` would name them too, but mypy
types a field only from a plain named converter, and the wrapper made once per class
and field, which knows its name in advance, builds a record faster than one handed the
instance and the field on every call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Final, TypeVar

import attrs

from experiments.errors import InvalidTypeError, ValidationError

__all__ = ["Unfit", "named_errors", "shorten"]

T = TypeVar("T")

_MAX_SHOWN: Final = 60
#: A default no value is: the field has none to pass through unconverted.
_NO_DEFAULT: Final = object()


def shorten(value: object) -> str:
    """A repr short enough for an error message."""
    try:
        text = repr(value)
    except RecursionError:  # a value nested deeper than Python's repr goes
        return f"a {type(value).__name__} nested too deeply to show"
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 5] + "…" + text[-4:]


class Unfit(Exception):  # noqa: N818 - never seen by callers: it becomes a ValidationError
    """What a converter raises when a value does not fit; says what was expected instead.

    ``type_error`` marks a value of the wrong type, which callers get as an
    :class:`~experiments.errors.InvalidTypeError` (also a ``TypeError``).
    """

    def __init__(self, expected: str, *, type_error: bool = False, example: str = "") -> None:
        super().__init__(expected)
        self.expected = expected
        self.type_error = type_error
        self.example = example  # made from the value given: left out for a personal one

    @property
    def described(self) -> str:
        """What was expected, with the example if there is one."""
        return f"{self.expected}, e.g. {self.example}" if self.example else self.expected

    @classmethod
    def of(cls, error: Exception) -> Unfit:
        """A parser's error as what the field expected; a ``TypeError`` stays a type error."""
        return cls(str(error), type_error=isinstance(error, TypeError))

    def error(self, what: str, value: object, *, personal: bool = False) -> ValidationError:
        """The error the caller gets: ``what`` (``Class.field``) cannot take ``value``.

        A ``personal`` value (a participant's name) is not repeated: the message may
        reach a log or a shared terminal.
        """
        kind = InvalidTypeError if self.type_error else ValidationError
        if personal:
            return kind(f"{what} {self.expected}; got a {type(value).__name__} not shown here")
        return kind(f"{what} {self.described}; got {shorten(value)}")


def _named(
    what: str, convert: Callable[[Any], T], *, personal: bool, default: Any = _NO_DEFAULT
) -> Callable[[Any], T]:
    # functools.wraps keeps the plain converter's signature, from which attrs types
    # __init__, and its __wrapped__, from which a subclass names the field again.
    @functools.wraps(convert)
    def named(value: Any) -> T:
        if value is default:  # the field's default, which converts to itself
            return value  # type: ignore[no-any-return]
        try:
            return convert(value)
        except Unfit as unfit:
            raise unfit.error(what, value, personal=personal) from None

    return named


def _constant_default(field: attrs.Attribute[Any], convert: Callable[[Any], Any]) -> Any:
    """The field's default if it is a value its converter gives back as it is, else none.

    Most fields of a new record keep their default (None, "", (), a status), and
    converting a default gives the very same object: checked here once per field, so
    that making a record need not convert it again.
    """
    default = field.default
    if default is attrs.NOTHING or isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return _NO_DEFAULT
    try:
        same = convert(default) is default
    except Unfit:
        same = False
    return default if same else _NO_DEFAULT


def named_errors(cls: type, fields: list[attrs.Attribute[Any]]) -> list[attrs.Attribute[Any]]:
    """Each field's converter, made to raise the error that names ``cls`` and the field.

    The ``field_transformer`` of every validated class.  Inherited fields are named
    again for ``cls``: ``Experiment.slug``, not ``Record.slug``.  The class's
    ``personal_fields`` never have their value repeated in an error.
    """
    personal = getattr(cls, "personal_fields", ())
    named = []
    for field in fields:
        convert: Any = field.converter
        if convert is not None:
            plain = getattr(convert, "__wrapped__", convert)
            checked = _named(
                f"{cls.__name__}.{field.name}",
                plain,
                personal=field.name in personal,
                default=_constant_default(field, plain),
            )
            field = field.evolve(converter=checked)  # noqa: PLW2901 - the field as named
        named.append(field)
    return named
